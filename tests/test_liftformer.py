"""LiftFormer: shapes, gradients, weight sharing, causal mode, sdpa == reference attention."""

from __future__ import annotations

import math

import pytest
import torch

from pstmo.errors import DataError
from pstmo.models.liftformer import (
    LiftFormer,
    LiftFormerConfig,
    reference_attention,
    sinusoidal_encoding,
)
from pstmo.models.stmo import LiftOutput


def tiny(**kw) -> LiftFormerConfig:
    base = dict(frames=9, dim=32, heads=4, blocks=3, ff_dim=64, dropout=0.1)
    base.update(kw)
    return LiftFormerConfig(**base)


def poses(B: int, N: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(B, N, 17, 2, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("N", [1, 9, 27, 81])
def test_shapes_for_several_window_lengths(N):
    model = LiftFormer(tiny(frames=N)).eval()
    out = model(poses(3, N))
    assert isinstance(out, LiftOutput)  # the NamedTuple shared with STMO
    assert out.center.shape == (3, 1, 17, 3)
    assert out.frames is None
    assert model.predict_all(poses(3, N)).shape == (3, N, 17, 3)


def test_center_is_the_middle_token():
    model = LiftFormer(tiny()).eval()
    x = poses(2, 9)
    with torch.no_grad():
        assert torch.allclose(model(x).center, model.predict_all(x)[:, 4:5], atol=1e-6)


def test_gradients_reach_every_parameter():
    model = LiftFormer(tiny(weight_sharing=True)).train()
    model(poses(2, 9)).center.square().sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_weight_sharing_shares_one_attention_module():
    model = LiftFormer(tiny(weight_sharing=True))
    attn = model.blocks[0].attn
    assert all(block.attn is attn for block in model.blocks)
    # FFNs and norms are not shared
    assert model.blocks[1].ff is not model.blocks[0].ff
    assert model.blocks[1].norm1 is not model.blocks[0].norm1
    ids = [id(p) for p in model.parameters()]
    assert len(ids) == len(set(ids))
    assert sum(id(p) == id(attn.q.weight) for p in model.parameters()) == 1
    # closed form: the shared model lacks (blocks - 1) attention layers of 4 d^2 + 4 d parameters
    d, B = 32, 3
    full = sum(p.numel() for p in LiftFormer(tiny()).parameters())
    shared = sum(p.numel() for p in model.parameters())
    assert full - shared == (B - 1) * (4 * d * d + 4 * d)


def test_parameter_count_closed_form():
    # Conv1d(34->d) + B x [4(d^2+d) + 2 d ff + ff + d + 4 d] + Conv1d(d->51)
    d, ff, B = 32, 64, 3
    expected = (34 * d + d) + B * (4 * (d * d + d) + 2 * d * ff + ff + d + 4 * d) + (d * 51 + 51)
    assert sum(p.numel() for p in LiftFormer(tiny()).parameters()) == expected


def test_heads_do_not_change_parameter_count():
    counts = {h: sum(p.numel() for p in LiftFormer(tiny(heads=h)).parameters()) for h in (1, 2, 4, 8)}
    assert len(set(counts.values())) == 1


def test_causal_mode_ignores_future_frames():
    model = LiftFormer(tiny(causal=True)).eval()
    x = poses(2, 9)
    y = x.clone()
    y[:, 5:] = torch.randn(2, 4, 17, 2)  # change frames after index 4
    with torch.no_grad():
        a, b = model.predict_all(x), model.predict_all(y)
        assert torch.allclose(a[:, :5], b[:, :5], atol=1e-6)
        assert not torch.allclose(a[:, 5:], b[:, 5:], atol=1e-3)
        # the lifted frame is the last token
        assert torch.allclose(model(x).center, a[:, -1:], atol=1e-6)


def test_non_causal_mode_does_use_future_frames():
    model = LiftFormer(tiny()).eval()
    x = poses(1, 9)
    y = x.clone()
    y[:, -1] += 1.0
    with torch.no_grad():
        assert not torch.allclose(model(x).center, model(y).center, atol=1e-4)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("weight_sharing", [False, True])
def test_sdpa_equals_reference_attention(causal, weight_sharing):
    cfg = tiny(causal=causal, weight_sharing=weight_sharing)
    fast = LiftFormer(cfg).eval()
    ref = LiftFormer(LiftFormerConfig(**{**cfg.__dict__, "attention": "reference"})).eval()
    ref.load_state_dict(fast.state_dict())
    x = poses(4, 9)
    with torch.no_grad():
        assert (fast(x).center - ref(x).center).abs().max() < 1e-5


def test_reference_attention_closed_form():
    # one query, two keys with equal scores -> the mean of the two values
    q = torch.tensor([[[[1.0, 0.0]]]])
    k = torch.tensor([[[[0.0, 1.0], [0.0, -1.0]]]])
    v = torch.tensor([[[[2.0, 0.0], [0.0, 4.0]]]])
    assert torch.allclose(reference_attention(q, k, v), torch.tensor([[[[1.0, 2.0]]]]))
    # causal: the first of two tokens only sees itself
    x = torch.randn(1, 1, 2, 4)
    out = reference_attention(x, x, x, causal=True)
    assert torch.allclose(out[0, 0, 0], x[0, 0, 0])


def test_sinusoidal_encoding_values():
    pe = sinusoidal_encoding(10, 8)
    assert pe.shape == (10, 8)
    t = 3  # channel 2i = 4 (i = 2) -> sin(t / 10000^(4/8)), channel 5 -> cos
    assert math.isclose(pe[t, 4].item(), math.sin(t / 10000 ** (4 / 8)), rel_tol=1e-6)
    assert math.isclose(pe[t, 5].item(), math.cos(t / 10000 ** (4 / 8)), rel_tol=1e-6)
    assert torch.equal(pe[0, 0::2], torch.zeros(4)) and torch.equal(pe[0, 1::2], torch.ones(4))


def test_bad_input_names_the_expected_shape():
    model = LiftFormer(tiny())
    with pytest.raises(DataError, match=r"\(B, N, 17, 2\)"):
        model(torch.randn(2, 9, 16, 2))
    with pytest.raises(DataError):
        model(torch.randn(9, 17, 2))


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="divisible"):
        LiftFormerConfig(dim=30, heads=4)
    with pytest.raises(ValueError, match="attention"):
        LiftFormerConfig(attention="flash")


@pytest.mark.parametrize("causal", [False, True])
def test_embed_frames_then_lift_tokens_is_forward(causal):
    torch.manual_seed(0)
    model = LiftFormer(
        LiftFormerConfig(frames=27, dim=32, heads=4, blocks=2, ff_dim=64, causal=causal)
    ).eval()
    x = torch.randn(3, 27, 17, 2)
    with torch.no_grad():
        whole = model(x).center
        tokens = model.embed_frames(torch.cat([x, x[:, :5]], dim=1))  # any number of frames
        split = model.lift_tokens(tokens[:, :27]).center
    assert tokens.shape == (3, 32, 32)
    assert (whole - split).abs().max() < 1e-5
