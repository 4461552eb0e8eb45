"""One pstmo training step equals the official one: the loss and the gradient of every parameter.

The expectations come from the official model classes (``official_pstmo_train_step.npz``, see
the shared fixtures README): the official Stage II / Stage I state, inputs, masks, the loss of
the official ``run.py`` and every parameter gradient, computed in train mode (BatchNorm batch
statistics) with dropout 0. pstmo loads the same state with ``load_official_checkpoint``,
computes the loss with ``pstmo.losses`` and backpropagates; both attention paths must agree,
so the speed-ups of the ``"sdpa"`` path (token-major convolutions, the LayerNorm backward,
Stage I's SEM on the visible frames only) are proven not to change training.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import SHARED

from pstmo.losses import lift_loss, mpm_loss
from pstmo.models import MPM, STMO
from pstmo.official import config_from_state_dict, load_official_checkpoint, official_to_pstmo

FIXTURE = SHARED / "fixtures" / "official_pstmo_train_step.npz"
TOL = 1e-5

pytestmark = pytest.mark.skipif(not FIXTURE.is_file(), reason=f"fixture not found: {FIXTURE}")


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    with np.load(FIXTURE) as npz:
        return {k: npz[k] for k in npz.files}


def _tensors(data: dict[str, np.ndarray], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: torch.from_numpy(np.array(v)) for k, v in data.items() if k.startswith(prefix)}


def _model(data: dict[str, np.ndarray], stage: str, attention: str) -> torch.nn.Module:
    state = _tensors(data, f"{stage}/state/")
    strides = tuple(int(s) for s in data["config/stride_num"])
    cfg = config_from_state_dict(
        state, frames=int(data["config/frames"]), strides=strides, dropout=0.0, attention=attention
    )
    model = (STMO if stage == "stage2" else MPM)(cfg)
    return load_official_checkpoint(model, state).train()


def _compare_gradients(model: torch.nn.Module, data: dict[str, np.ndarray], stage: str) -> None:
    expected = {official_to_pstmo(k): v for k, v in _tensors(data, f"{stage}/grad/").items()}
    assert None not in expected
    worst = {}
    for name, param in model.named_parameters():
        if name not in expected:  # built but never applied (the final LayerNorms): no gradient either
            assert param.grad is None, f"{name} has a gradient, the official parameter has none"
            continue
        assert param.grad is not None, f"no gradient reaches {name}"
        worst[name] = (param.grad - expected[name]).abs().max().item()
    assert set(worst) == set(expected)
    bad = {k: v for k, v in worst.items() if v > TOL}
    assert not bad, f"gradients differ from the official ones by more than {TOL}: {bad}"


@pytest.mark.parametrize("attention", ["sdpa", "reference"])
def test_stage2_loss_and_gradients_equal_official(data, attention):
    model = _model(data, "stage2", attention)
    x = torch.from_numpy(data["stage2/input_2d"])
    target = torch.from_numpy(data["stage2/target_3d"]).clone()
    target[:, :, 0] = 0  # the official loss zeroes the (absolute) root joint
    mid = x.shape[1] // 2
    out = model(x)
    loss = lift_loss(out.center, target[:, mid : mid + 1], out.frames, target)
    assert abs(loss.item() - float(data["stage2/loss"])) < TOL
    loss.backward()
    _compare_gradients(model, data, "stage2")


@pytest.mark.parametrize("attention", ["sdpa", "reference"])
def test_stage1_loss_and_gradients_equal_official(data, attention):
    model = _model(data, "stage1", attention)
    x = torch.from_numpy(data["stage1/input_2d"])
    temporal = torch.from_numpy(data["stage1/temporal_mask"].astype(bool))
    spatial = torch.from_numpy(data["stage1/spatial_mask"].astype(bool))
    assert spatial[temporal].any()  # masked frames are spatially masked too: their SEM input changes
    loss = mpm_loss(model(x, temporal, spatial), x)
    assert abs(loss.item() - float(data["stage1/loss"])) < TOL
    loss.backward()
    _compare_gradients(model, data, "stage1")
