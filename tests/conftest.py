"""Shared test settings.

``SHARED`` is the reference material (papers, fixtures, CMU clips) that CI lays beside the
repository as ``../shared``; tests that need it skip with the path in the reason when absent.
The package itself never reads it.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
