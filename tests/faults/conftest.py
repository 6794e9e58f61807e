"""Fixtures for the fault tests: a populated database (see fault_world.py)."""
from __future__ import annotations

import pytest
from fault_world import populate


@pytest.fixture
def populated(app, world):
    return populate(app, world)
