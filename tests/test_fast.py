"""The fast inference path (pstmo.models.fast) computes the same function as the reference path.

Every expectation is independent of the code under test: folded layers are compared with the
unfolded modules they replace, the flip with the H36M left/right joint table, and the optimised
models with the reference eval forward (explicit softmax attention, BatchNorm with randomized
running statistics) on random inputs.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from pstmo.data.windows import flip_poses
from pstmo.inference import predict
from pstmo.models.fast import (
    FastLifter,
    fold_batchnorms,
    optimize_for_inference,
    remove_dropout,
    set_attention,
)
from pstmo.skeleton import LEFT_JOINTS, RIGHT_JOINTS

TOL = 1e-4


def _randomize_bn(model: nn.Module, seed: int = 0) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=gen))
                m.running_var.copy_(0.2 + 2 * torch.rand(n, generator=gen))
                m.weight.copy_(1 + 0.3 * torch.randn(n, generator=gen))
                m.bias.copy_(0.3 * torch.randn(n, generator=gen))


# ---------------------------------------------------------------- BatchNorm folding, closed form


def test_conv_then_bn_folds_exactly():
    seq = nn.Sequential(nn.Conv1d(6, 8, 1), nn.BatchNorm1d(8), nn.LeakyReLU(0.2), nn.Dropout(0.5))
    _randomize_bn(seq)
    seq.eval()
    x = torch.randn(3, 6, 11)
    expected = seq(x)
    folded = copy.deepcopy(seq)
    assert fold_batchnorms(folded) == 1
    assert not any(isinstance(m, nn.BatchNorm1d) for m in folded.modules())
    torch.testing.assert_close(folded(x), expected, atol=1e-5, rtol=1e-5)


def test_bn_then_unpadded_conv_folds_exactly():
    """P-STMO's heads: BN(C) -> Conv1d(C -> 3J, k=1); also a k=3 conv without padding."""
    for conv in (nn.Conv1d(8, 5, 1), nn.Conv1d(8, 5, 3, stride=3)):
        seq = nn.Sequential(nn.BatchNorm1d(8), conv)
        _randomize_bn(seq, seed=1)
        seq.eval()
        x = torch.randn(2, 8, 9)
        expected = seq(x)
        assert fold_batchnorms(seq) == 1
        torch.testing.assert_close(seq(x), expected, atol=1e-5, rtol=1e-5)


def test_bn_then_padded_conv_is_left_alone():
    """Folding a BN shift into a zero-padded conv would change the border: must not happen."""
    seq = nn.Sequential(nn.BatchNorm1d(4), nn.Conv1d(4, 4, 3, padding=1)).eval()
    _randomize_bn(seq)
    assert fold_batchnorms(seq) == 0
    assert isinstance(seq[0], nn.BatchNorm1d)


def test_explicit_fold_pairs_on_attributes():
    class Head(nn.Module):
        _fold_pairs = [("bn", "conv")]

        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm1d(6)
            self.conv = nn.Conv1d(6, 3, 1)

        def forward(self, x):
            return self.conv(self.bn(x))

    head = Head()
    _randomize_bn(head)
    head.eval()
    x = torch.randn(4, 6, 5)
    expected = head(x)
    assert fold_batchnorms(head) == 1
    torch.testing.assert_close(head(x), expected, atol=1e-5, rtol=1e-5)


def test_remove_dropout_and_set_attention():
    class Att(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = "reference"
            self.drop = nn.Dropout(0.1)

    m = nn.Sequential(Att(), nn.Dropout(0.3))
    assert remove_dropout(m) == 2
    assert set_attention(m, "sdpa") == 1 and m[0].attention == "sdpa"
    with pytest.raises(ValueError):
        set_attention(m, "flash")


# ---------------------------------------------------------------- flip test-time augmentation


def _reference(model: nn.Module, x: torch.Tensor, flip: bool) -> torch.Tensor:
    """The official test loop's inference: eval forward, and with flip a second forward on the
    flipped windows (x negated, left/right swapped by the H36M table), flipped back, averaged."""
    with torch.no_grad():
        out = model(x)
        out = getattr(out, "center", out)[:, 0]
        if flip:
            other = model(flip_poses(x))
            out = (out + flip_poses(getattr(other, "center", other)[:, 0])) / 2
    return out


def test_flip_swaps_left_right_and_negates_x():
    x = torch.zeros(1, 1, 17, 2)
    x[0, 0, 1] = torch.tensor([0.3, -0.2])  # RHip
    y = flip_poses(x)
    torch.testing.assert_close(y[0, 0, 4], torch.tensor([-0.3, -0.2]))  # -> LHip, x negated
    assert y[0, 0, 1].abs().sum() == 0
    for left, right in zip(LEFT_JOINTS, RIGHT_JOINTS):
        assert left != right
    z = torch.randn(2, 3, 17, 3)
    torch.testing.assert_close(flip_poses(flip_poses(z)), z)


class _MirrorLifter(nn.Module):
    """A flip-equivariant toy lifter: centre frame (x, y) -> 3D (x, y, |x| + y)."""

    def forward(self, x):
        c = x[:, x.shape[1] // 2 : x.shape[1] // 2 + 1]
        return torch.cat([c, c[..., :1].abs() + c[..., 1:]], dim=-1)


def test_flip_average_of_equivariant_model_is_the_plain_prediction():
    model = _MirrorLifter()
    x = torch.randn(5, 9, 17, 2)
    plain = model(x)
    torch.testing.assert_close(predict(model, x, flip=True), plain[:, 0])
    torch.testing.assert_close(_reference(model, x, flip=True), plain[:, 0])


# ---------------------------------------------------------------- whole models


def _liftformer(**kw):
    from pstmo.models.liftformer import LiftFormer, LiftFormerConfig

    torch.manual_seed(0)
    cfg = LiftFormerConfig(
        **{"frames": 27, "dim": 32, "heads": 4, "blocks": 2, "ff_dim": 64, "attention": "reference", **kw}
    )
    return LiftFormer(cfg).eval()


def _stmo(**kw):
    from pstmo.models import stmo
    from pstmo.models.config import STMOConfig

    torch.manual_seed(0)
    cfg = STMOConfig(
        **{"frames": 27, "layers": 2, "channel": 32, "hidden": 64, "heads": 4, "attention": "reference", **kw}
    )
    model = stmo.STMO(cfg)
    _randomize_bn(model)
    return model.eval()


MODELS = {
    "liftformer": lambda: _liftformer(),
    "liftformer-shared-causal": lambda: _liftformer(weight_sharing=True, causal=True),
    "stmo": lambda: _stmo(),
    "stmo-81-L2": lambda: _stmo(frames=81, sem_blocks=2),
}


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("flip", [False, True])
def test_fast_path_matches_reference(name, flip):
    model = MODELS[name]()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fast = optimize_for_inference(model)
    x = torch.randn(6, model.cfg.frames, 17, 2, generator=torch.Generator().manual_seed(3))
    ref = _reference(model, x, flip)
    out = predict(fast, x, flip)
    assert out.shape == (6, 17, 3)
    assert (ref - out).abs().max().item() < TOL
    # the fast copy uses sdpa and has no dropout; the original is untouched
    assert all(getattr(m, "attention", "sdpa") == "sdpa" for m in fast.modules())
    assert not any(isinstance(m, nn.Dropout) for m in fast.modules())
    assert any(getattr(m, "attention", None) == "reference" for m in model.modules())
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k])


def test_stmo_batchnorms_are_folded_and_all_outputs_agree():
    model = _stmo()
    fast = optimize_for_inference(model)
    n_bn = sum(isinstance(m, nn.BatchNorm1d) for m in model.modules())
    assert n_bn > 0
    assert sum(isinstance(m, nn.BatchNorm1d) for m in fast.modules()) < n_bn
    x = torch.randn(3, 27, 17, 2)
    with torch.no_grad():
        ref = model(x)
    out = fast(x)
    assert (ref.center - out.center).abs().max() < TOL
    assert (ref.frames - out.frames).abs().max() < TOL


def test_fast_lifter_is_inference_only():
    fast = optimize_for_inference(_liftformer())
    assert isinstance(fast, FastLifter)
    with pytest.raises(RuntimeError):
        fast.train()
    out = fast(torch.randn(1, 27, 17, 2))
    assert out.center.requires_grad is False


# ---------------------------------------------------------------- whole-sequence pieces


@pytest.mark.parametrize("name", list(MODELS))
def test_fast_copy_embed_then_lift_equals_forward_and_reference(name):
    """``lift_tokens(embed_frames(x))`` of the fast copy is its forward and the reference output."""
    model = MODELS[name]()
    fast = optimize_for_inference(model)
    x = torch.randn(4, model.cfg.frames, 17, 2, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        ref = model(x).center
    split = fast.lift_tokens(fast.embed_frames(x)).center
    assert (split - fast(x).center).abs().max().item() < 1e-5
    assert (split - ref).abs().max().item() < 1e-5


def test_fast_copy_embeds_a_whole_sequence_once():
    """Tokens of a sequence embedded once, gathered into a window, lift like the window itself."""
    model = _stmo()
    fast = optimize_for_inference(model)
    seq = torch.randn(1, 60, 17, 2, generator=torch.Generator().manual_seed(6))
    tokens = fast.embed_frames(seq)  # (1, 60, C)
    start = 10
    window = seq[:, start : start + 27]
    from_sequence = fast.lift_tokens(tokens[:, start : start + 27]).center
    with torch.no_grad():
        expected = model(window).center
    assert (from_sequence - expected).abs().max().item() < 1e-5


def test_weight_sharing_survives_optimization():
    fast = optimize_for_inference(_liftformer(weight_sharing=True))
    blocks = fast.model.blocks
    assert all(b.attn is blocks[0].attn for b in blocks)
