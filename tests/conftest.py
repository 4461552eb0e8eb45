"""Shared test settings and fixtures.

``SHARED`` is the reference material (papers, fixtures, CMU clips) that CI lays beside the
repository as ``../shared``; tests that need it skip with the path in the reason when absent.
The package itself never reads it. Fixtures here replace cross-test imports: ``toy_data``
(a synthetic data set with cameras), ``toy_cfg`` (a seconds-long smoke configuration on it),
``random_checkpoint`` (a pstmo checkpoint of a random smoke-size model), ``official_tiny``
(the tiny official P-STMO checkpoints of ``fixtures/official_pstmo_tiny.npz`` as ``.pth`` files),
``one_thread``;
``tools_on_path`` puts ``tools/`` (build tooling that is not part of the package, e.g.
``tools/mocap.py``) on ``sys.path`` for the tests that import it; ``mocap`` is that module.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TOOLS = ROOT / "tools"
#: A clone of the official P-STMO code (``PSTMO_OFFICIAL`` to point elsewhere); tests that import
#: the official classes skip without it (CI has none).
OFFICIAL = Path(os.environ.get("PSTMO_OFFICIAL", "/work/official/P-STMO"))

#: Tiny model sizes for the toy runs (seconds on a CPU).
TOY_STMO = {"channel": 16, "hidden": 32, "layers": 2, "heads": 2}
TOY_LIFTFORMER = {"dim": 16, "ff_dim": 32, "blocks": 1, "heads": 2}


@pytest.fixture
def shared() -> Path:
    return SHARED


@pytest.fixture
def official_tiny(tmp_path):
    """``official_tiny(stage) -> (path, fixture)``: the official ``stage1`` / ``stage2`` weights of
    ``fixtures/official_pstmo_tiny.npz`` saved as the official ``run.py`` saves them (DataParallel
    ``module.`` names) in ``tmp_path``, and the opened fixture (its ``config/*`` keys etc.)."""
    fixture = SHARED / "fixtures" / "official_pstmo_tiny.npz"
    if not fixture.is_file():
        pytest.skip(f"{fixture} absent (shared reference material)")
    data = np.load(fixture)

    def make(stage: str):
        prefix = f"{stage}/state_dict/"
        state = {
            "module." + k[len(prefix) :]: torch.from_numpy(data[k])
            for k in data.files
            if k.startswith(prefix)
        }
        path = tmp_path / f"official_{stage}.pth"
        torch.save(state, path)
        return path, data

    return make


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """The smoke profile runs with one torch thread; give other tests back their setting."""
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.fixture
def one_thread():
    """Tiny batches: one torch thread avoids spinning on a shared, busy CPU."""
    torch.set_num_threads(1)


@pytest.fixture
def toy_data():
    from pstmo.data.synthetic import synthetic_dataset

    return synthetic_dataset()


def make_toy_cfg(root, stage="lift", model="liftformer", **overrides):
    """A smoke configuration on the synthetic data: N = 9, batch 32, tiny model."""
    from pstmo.config import get_profile

    frames = overrides.pop("frames", 9)
    base = dict(
        results_dir=str(root), epochs=2, max_steps=None, batch_size=32, progress=False, eval_max_frames=None
    )
    mo = dict(TOY_LIFTFORMER if model == "liftformer" else TOY_STMO)
    mo.update(overrides.pop("model_overrides", {}))
    base.update(overrides)
    return get_profile("smoke", stage, model=model, frames=frames, model_overrides=mo, **base)


@pytest.fixture
def toy_cfg(tmp_path):
    """``toy_cfg(stage="lift", model="liftformer", **overrides)`` rooted in ``tmp_path``."""

    def make(stage="lift", model="liftformer", **overrides):
        return make_toy_cfg(overrides.pop("root", tmp_path), stage, model, **overrides)

    return make


@pytest.fixture
def random_checkpoint(tmp_path):
    """``random_checkpoint(frames=9, model="p-stmo-s", seed=1, path=None)``: a pstmo Stage II
    checkpoint of the smoke-size model with random weights (a fixed function is all a
    comparison needs)."""
    from pstmo.checkpoint import build_run_model, save_model
    from pstmo.config import get_profile

    def make(frames: int = 9, model: str = "p-stmo-s", seed: int = 1, path=None, **overrides):
        cfg = get_profile("smoke", "lift", model=model, frames=frames, **overrides)
        torch.manual_seed(seed)
        return save_model(build_run_model(cfg), cfg, path or tmp_path / f"random-{model}-{frames}.pt")

    return make


@pytest.fixture(scope="session")
def tools_on_path():
    """``tools/`` on ``sys.path`` for the session (removed again at the end)."""
    sys.path.insert(0, str(TOOLS))
    try:
        yield TOOLS
    finally:
        sys.path.remove(str(TOOLS))


@pytest.fixture(scope="session")
def repo_on_path():
    """The repository root on ``sys.path`` for the session, so that the build tooling beside the
    package (``benchmarks``) imports as it does under ``python -m`` from the root."""
    added = str(ROOT) not in sys.path
    if added:
        sys.path.insert(0, str(ROOT))
    try:
        yield ROOT
    finally:
        if added:
            sys.path.remove(str(ROOT))


@pytest.fixture(scope="session")
def mocap(tools_on_path):
    """``tools/mocap.py``: the CMU readers and forward kinematics of the demo builder."""
    return importlib.import_module("mocap")
