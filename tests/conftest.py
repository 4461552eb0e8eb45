"""Shared test settings.

``SHARED`` is the reference material (papers, fixtures, CMU clips) that CI lays beside the
repository as ``../shared``; tests that need it skip with the path in the reason when absent.
The package itself never reads it.

``tools_on_path`` puts ``tools/`` (build tooling that is not part of the package, e.g.
``tools/mocap.py``) on ``sys.path`` for the tests that import it; ``mocap`` is that module.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TOOLS = ROOT / "tools"


@pytest.fixture(scope="session")
def tools_on_path():
    """``tools/`` on ``sys.path`` for the session (removed again at the end)."""
    sys.path.insert(0, str(TOOLS))
    try:
        yield TOOLS
    finally:
        sys.path.remove(str(TOOLS))


@pytest.fixture(scope="session")
def mocap(tools_on_path):
    """``tools/mocap.py``: the CMU readers and forward kinematics of the demo builder."""
    return importlib.import_module("mocap")
