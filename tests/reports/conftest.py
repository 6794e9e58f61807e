"""Fixtures for the HQ report tests: the same department as the chiefs' tests (tests/chiefs/dept_world.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "chiefs"))

from dept_world import bearer, dept, login  # noqa: F401
