"""The faster training code trains exactly like the official code, on both attention paths.

``pstmo official verify`` on the shared ``official_pstmo_train_step.npz`` (one official training
step per stage: loss, every gradient, the weights after ``Adam(amsgrad)``) with
``--attention sdpa`` (the default path: token-major convolutions, the hand-written LayerNorm
backward, Stage I's SEM on the visible frames) and ``--attention reference``; and a perturbed
model must fail it, so the check can fail.
"""

from __future__ import annotations

import pytest
from conftest import SHARED

from pstmo.cli import main

FIXTURE = SHARED / "fixtures" / "official_pstmo_train_step.npz"

pytestmark = pytest.mark.skipif(not FIXTURE.is_file(), reason=f"fixture not found: {FIXTURE}")


@pytest.mark.parametrize("attention", ["sdpa", "reference"])
def test_training_step_equals_official(attention, capsys):
    code = main(["official", "verify", str(FIXTURE), "--attention", attention])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count(" ok") >= 8 and "FAIL" not in out


def test_a_wrong_layer_norm_gradient_is_caught(monkeypatch, capsys):
    """The LayerNorm backward is hand-written: a wrong coefficient must fail the verification."""
    from pstmo.models import layers

    backward = layers._OfficialLayerNormFunction.backward

    def wrong(ctx, grad):
        gx, gw, gb, none = backward(ctx, grad)
        return gx * 1.001, gw, gb, none

    monkeypatch.setattr(layers._OfficialLayerNormFunction, "backward", staticmethod(wrong))
    assert main(["official", "verify", str(FIXTURE), "--attention", "sdpa"]) != 0
    assert "FAIL" in capsys.readouterr().out
