"""Fixtures for the chiefs' tests: see dept_world.py."""
from dept_world import bearer, dept, login  # noqa: F401
