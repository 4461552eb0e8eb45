"""Regenerate the image-regression baselines of tests/test_viz.py.

    python tools/update_viz_baselines.py          # rewrite every baseline
    python tools/update_viz_baselines.py pose_3d  # only some

Run it after an intended change of the drawing code in ``pstmo/viz.py`` and look at the
new PNGs in ``tests/baseline_images/`` before committing them.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


def _load_test_module():
    spec = importlib.util.spec_from_file_location("_pstmo_test_viz", ROOT / "tests" / "test_viz.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    tests = _load_test_module()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", help=f"baselines to write (default all: {sorted(tests.BASELINES)})"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(tests.BASELINES))
    if unknown:
        parser.error(f"unknown baseline(s) {unknown}; choose from {sorted(tests.BASELINES)}")
    tests.BASELINE_DIR.mkdir(parents=True, exist_ok=True)
    for name in args.names or sorted(tests.BASELINES):
        path = tests.save_rendering(name, tests.BASELINE_DIR / f"{name}.png")
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
