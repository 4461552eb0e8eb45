"""STMO / MPM models: shapes, paper parameter counts, attention paths, gradients, encoder transfer."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from pstmo.errors import CheckpointError, DataError
from pstmo.losses import mpm_loss
from pstmo.masking import spatio_temporal_mask
from pstmo.models import (
    ABLATIONS,
    MPM,
    STMO,
    LiftOutput,
    STMOConfig,
    build_model,
    get_config,
    official_strides,
)
from pstmo.models.refine import Refine, backproject

FRAMES = (9, 27, 81, 243, 351)
TINY = dict(channel=32, hidden=64)


def paper_params(model: nn.Module) -> float:
    """Millions of parameters as the paper counts them (thop): leaf Conv/Linear/BN only."""
    leaves = (nn.Conv1d, nn.Linear, nn.BatchNorm1d)
    n = sum(p.numel() for m in model.modules() if isinstance(m, leaves) for p in m.parameters(recurse=False))
    return n / 1e6


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_official_strides_table():
    # /work/shared/fixtures/README.md: strides per N; their product reduces N frames to 1.
    assert official_strides(9) == (1, 3, 3)
    assert official_strides(27) == (3, 3, 3)
    assert official_strides(81) == (3, 3, 3, 3)
    assert official_strides(243) == (3, 3, 3, 3, 3)
    assert official_strides(351) == (3, 9, 13)
    with pytest.raises(ValueError):
        official_strides(100)


def test_presets():
    s, p = get_config("p-stmo-s"), get_config("p-stmo")
    assert (s.layers, p.layers) == (3, 4)
    assert (s.channel, s.hidden, s.heads) == (256, 512, 8)
    assert get_config("p-stmo", frames=81).frames == 81
    with pytest.raises(ValueError):
        get_config("nope")
    with pytest.raises(ValueError):
        STMOConfig(frames=27, strides=(3, 3))  # 27 -> 3 tokens, not 1


@pytest.mark.parametrize("preset", ["p-stmo-s", "p-stmo"])
@pytest.mark.parametrize("frames", FRAMES)
def test_stmo_shapes(preset, frames):
    model = build_model(get_config(preset, frames=frames, **TINY)).eval()
    assert isinstance(model, STMO)
    out = model(torch.randn(2, frames, 17, 2))
    assert isinstance(out, LiftOutput)
    assert out.center.shape == (2, 1, 17, 3)
    assert out.frames.shape == (2, frames, 17, 3)
    assert torch.isfinite(out.center).all()


def test_full_size_shape():
    model = STMO(get_config("p-stmo", frames=81)).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 81, 17, 2))
    assert out.center.shape == (1, 1, 17, 3) and out.frames.shape == (1, 81, 17, 3)


def test_bad_input_shape():
    model = STMO(get_config("p-stmo-s", frames=27, **TINY))
    with pytest.raises(DataError, match=r"\(B, 27, 17, 2\)"):
        model(torch.randn(2, 27, 17, 3))
    with pytest.raises(DataError):
        model(torch.randn(2, 9, 17, 2))


@pytest.mark.parametrize(
    "preset,frames,paper",
    [("p-stmo-s", 243, 6.2), ("p-stmo-s", 81, 5.4), ("p-stmo-s", 27, 4.6), ("p-stmo", 243, 6.7)],
)
def test_paper_parameter_counts(preset, frames, paper):
    # Paper Table 6 / Sec. 4: millions of parameters, rounded to 0.1 (6.75 printed as 6.7).
    assert abs(paper_params(STMO(get_config(preset, frames=frames))) - paper) <= 0.06


@pytest.mark.parametrize(
    "name,paper",
    [
        ("table3/tem", 1.6),
        ("table3/sem+tem", 2.3),  # Table 3 prints 2.2, Table 4 prints 2.3 for the same model
        ("table3/sem+tem+mofa", 6.2),
        ("table4/fc", 1.6),
        ("table4/transformer", 7.2),
        ("table4/mlp-l1", 2.3),
        ("table4/mlp-l2", 2.8),
        ("table4/mlp-l3", 3.3),
    ],
)
def test_ablation_parameter_counts(name, paper):
    model = build_model(get_config("p-stmo-s", **ABLATIONS[name]))
    assert abs(paper_params(model) - paper) <= 0.06


@pytest.mark.parametrize("name", sorted(ABLATIONS))
def test_ablation_shapes(name):
    over = dict(ABLATIONS[name])
    if over.get("sem") == "transformer":
        over.update(channel=136, hidden=64)  # 17 joints x 8 channels
    else:
        over.update(TINY)
    over.update(frames=27)
    model = build_model(get_config("p-stmo-s", **over)).eval()
    out = model(torch.randn(2, 27, 17, 2))
    assert out.center.shape == (2, 1, 17, 3)
    assert (out.frames is None) == ("mofa" not in over["components"])


def test_sem_only_is_per_frame():
    # "SEM only": no temporal mixing, so the centre output depends on the centre frame only.
    model = build_model(get_config("p-stmo-s", frames=27, components=("sem",), **TINY)).eval()
    x = torch.randn(2, 27, 17, 2)
    y = x.clone()
    y[:, :13] += 1.0
    y[:, 14:] -= 1.0
    assert torch.allclose(model(x).center, model(y).center)


@pytest.mark.parametrize("sem", ["mlp", "transformer"])
def test_sdpa_matches_reference(sem):
    over = dict(frames=81, sem=sem, channel=136 if sem == "transformer" else 32, hidden=64)
    cfg = get_config("p-stmo", **over)
    ref = STMO(dataclasses.replace(cfg, attention="reference")).eval()
    fast = STMO(cfg).eval()
    fast.load_state_dict(ref.state_dict())
    x = torch.randn(3, 81, 17, 2)
    with torch.no_grad():
        a, b = ref(x), fast(x)
    assert (a.center - b.center).abs().max() < 1e-5
    assert (a.frames - b.frames).abs().max() < 1e-5

    mcfg = get_config("p-stmo-s", frames=27, **TINY)
    mref = MPM(dataclasses.replace(mcfg, attention="reference")).eval()
    mfast = MPM(mcfg).eval()
    mfast.load_state_dict(mref.state_dict())
    t, s = spatio_temporal_mask(27, 17, 0.8, 2, torch.Generator().manual_seed(1))
    x = torch.randn(2, 27, 17, 2)
    with torch.no_grad():
        assert (mref(x, t, s) - mfast(x, t, s)).abs().max() < 1e-5


def _check_grads(model: nn.Module, loss: torch.Tensor) -> None:
    loss.backward()
    for name, p in model.named_parameters():
        if ".final_norm." in name:  # built but never applied, exactly as in the official code
            assert p.grad is None, name
            continue
        assert p.grad is not None and p.grad.abs().sum() > 0, f"no gradient reaches {name}"


def test_gradients_reach_every_parameter_stmo():
    model = STMO(get_config("p-stmo-s", frames=27, dropout=0.0, **TINY)).train()
    out = model(torch.randn(4, 27, 17, 2))
    _check_grads(model, out.center.square().mean() + out.frames.square().mean())


def test_gradients_reach_every_parameter_mpm():
    model = MPM(get_config("p-stmo-s", frames=27, dropout=0.0, **TINY)).train()
    t, s = spatio_temporal_mask(27, 17, 0.5, 3, torch.Generator().manual_seed(0))
    s[~t] |= torch.eye(27, 17, dtype=torch.bool)[~t]  # make sure e^S is used
    x = torch.randn(4, 27, 17, 2)
    _check_grads(model, mpm_loss(model(x, t, s), x))


def test_mpm_time_order_and_shapes():
    cfg = get_config("p-stmo-s", frames=27, **TINY)
    model = MPM(cfg).eval()
    t, s = spatio_temporal_mask(27, 17, 0.8, 2, torch.Generator().manual_seed(3))
    x = torch.randn(2, 27, 17, 2)
    with torch.no_grad():
        timed = model(x, t, s)
        official = model(x, t, s, official_order=True)
    assert timed.shape == official.shape == (2, 27, 17, 2)
    frames_in_token_order = list(torch.nonzero(~t).flatten()) + list(torch.nonzero(t).flatten())
    for token, frame in enumerate(frames_in_token_order):
        assert torch.equal(official[:, token], timed[:, frame])
    with pytest.raises(DataError):
        model(x, t[:-1], s)


def test_mpm_loss_closed_form():
    pred = torch.zeros(1, 3, 17, 2)
    target = torch.zeros(1, 3, 17, 2)
    target[..., 0] = 3.0
    target[..., 1] = 4.0
    assert mpm_loss(pred, target).item() == pytest.approx(5.0)


def test_load_pretrained_encoder_copies_sem_and_tem():
    cfg = get_config("p-stmo-s", frames=27, **TINY)
    mpm, stmo = MPM(cfg), STMO(cfg)
    before = {k: v.clone() for k, v in stmo.state_dict().items()}
    copied = stmo.load_pretrained_encoder(mpm)
    assert "tem.pos_embeds.0" in copied and "sem.fc_in.weight" in copied
    src = mpm.state_dict()
    for k, v in stmo.state_dict().items():
        if k.startswith(("sem.", "tem.")):
            assert torch.equal(v, src[k]), k
        else:
            assert torch.equal(v, before[k]), k  # heads and MOFA untouched
    other = STMO(get_config("p-stmo-s", frames=27, channel=16, hidden=32))
    with pytest.raises(CheckpointError, match="shape"):
        other.load_pretrained_encoder(mpm.state_dict())


def test_backproject_closed_form():
    # Points in camera frame, projected with a pinhole camera, come back root-relative.
    B, J = 2, 17
    xyz = torch.randn(B, 1, J, 3) * 0.3
    xyz[..., 2] += 5.0
    f, c = torch.tensor([[1.1, 1.2], [0.9, 1.0]]), torch.tensor([[0.01, -0.02], [0.0, 0.03]])
    uv = f.view(B, 1, 1, 2) * xyz[..., :2] / xyz[..., 2:] + c.view(B, 1, 1, 2)
    rel_depth = xyz[..., 2] - xyz[..., :1, 2]
    out = backproject(uv, rel_depth, f, c, xyz[:, 0, 0, 2])
    assert torch.allclose(out, xyz - xyz[:, :, :1], atol=1e-5)


def test_refine_blending_extremes():
    refine = Refine(17).eval()
    pred, bp = torch.randn(2, 1, 17, 3), torch.randn(2, 1, 17, 3)
    with torch.no_grad():
        refine.fc2.weight.zero_()
        refine.fc2.bias.fill_(50.0)  # sigmoid -> 1: keep the prediction
        assert torch.allclose(refine(pred, bp), pred)
        refine.fc2.bias.fill_(-50.0)  # sigmoid -> 0: take the back-projected x, y, keep z
        out = refine(pred, bp)
    assert torch.allclose(out[..., :2], bp[..., :2]) and torch.equal(out[..., 2], pred[..., 2])
    assert sum(p.numel() for p in refine.parameters()) == 102 * 1024 + 1024 + 1024 * 34 + 34


def test_stmo_refine_center():
    model = STMO(get_config("p-stmo-s", frames=27, refine=True, **TINY)).eval()
    x = torch.randn(2, 27, 17, 2)
    with torch.no_grad():
        center = model(x).center
        out = model.refine_center(center, x, torch.ones(2, 2), torch.zeros(2, 2), torch.full((2,), 5.0))
    assert out.shape == (2, 1, 17, 3)
    assert torch.equal(out[..., 2], center[..., 2])


@pytest.mark.parametrize(
    "over", [{}, dict(components=("sem",)), dict(sem="fc"), dict(frames=81, sem_blocks=2)]
)
def test_embed_frames_then_lift_tokens_is_forward(over):
    cfg = get_config("p-stmo-s", **{"frames": 27, **TINY, **over})
    model = STMO(cfg).eval()
    with torch.no_grad():  # BatchNorm with non-trivial running statistics
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
    x = torch.randn(3, cfg.frames, 17, 2)
    with torch.no_grad():
        whole, split = model(x), model.lift_tokens(model.embed_frames(x))
    assert (whole.center - split.center).abs().max() < 1e-5
    if whole.frames is not None:
        assert (whole.frames - split.frames).abs().max() < 1e-5


def test_embed_frames_is_per_frame_in_eval_mode():
    model = STMO(get_config("p-stmo-s", frames=27, **TINY)).eval()
    seq = torch.randn(1, 50, 17, 2)
    with torch.no_grad():
        tokens = model.embed_frames(seq)  # any number of frames
        window = model.embed_frames(seq[:, 7:34])
    assert tokens.shape == (1, 50, 32)
    assert (tokens[:, 7:34] - window).abs().max() < 1e-5
    with pytest.raises(DataError, match=r"\(B, 27, 32\)"):
        model.lift_tokens(tokens)


def test_mpm_encodes_only_visible_frames_like_the_full_sem():
    """Stage I's SEM computes the visible frames' tokens only; BatchNorm still sees all frames."""
    cfg = get_config("p-stmo-s", frames=27, dropout=0.0, **TINY)
    model = MPM(cfg).train()
    x = torch.randn(4, 27, 17, 2)
    t, _ = spatio_temporal_mask(27, 17, 0.8, 2, torch.Generator().manual_seed(2))
    full = model.sem(x)[:, ~t]
    assert torch.allclose(model.sem(x, keep=~t), full, atol=1e-6)
