"""MPM masks: exact counts, per-frame independence, spatio-temporal composition, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import SHARED

from pstmo.masking import (
    MASK_MODES,
    masking_ratio_st,
    official_temporal_count,
    spatial_mask,
    spatio_temporal_mask,
    stage1_masks,
    temporal_count,
    temporal_mask,
)

FIXTURE = SHARED / "fixtures" / "official_pstmo_tiny.npz"


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    "frames,ratio,count", [(27, 0.8, 21), (243, 0.9, 218), (81, 0.5, 40), (10, 0.3, 3), (9, 0.0, 0)]
)
def test_temporal_count_is_floor(frames, ratio, count):
    # floor(ratio * N), robust to float round-off (10 * 0.3 = 2.9999999999999996).
    assert temporal_count(frames, ratio) == count
    mask = temporal_mask(frames, ratio, gen(0))
    assert mask.dtype == torch.bool and mask.shape == (frames,)
    assert int(mask.sum()) == count


def test_temporal_count_matches_official_fixture():
    if not FIXTURE.exists():
        pytest.skip(f"shared fixture not found at {FIXTURE}")
    f = np.load(FIXTURE)
    n, q = int(f["config/frames"]), float(f["config/temporal_mask_ratio"])
    assert temporal_count(n, q) == int(f["stage1/temporal_mask"].sum())
    m = int(f["config/spatial_mask_num"])
    assert (f["stage1/spatial_mask"].sum(axis=1) == m).all()


def test_temporal_mask_is_uniform_and_can_mask_centre():
    draws = torch.stack([temporal_mask(9, 0.5, gen(s)) for s in range(2000)]).float()
    freq = draws.mean(0)  # each frame masked with probability 4 / 9
    assert torch.allclose(freq, torch.full((9,), 4 / 9), atol=0.05)
    assert draws[:, 4].sum() > 0  # the centre frame is not protected (as in the fixture)


def test_spatial_mask_exact_count_per_frame_and_varied():
    mask = spatial_mask(243, 17, 2, gen(1))
    assert mask.shape == (243, 17) and mask.dtype == torch.bool
    assert (mask.sum(1) == 2).all()
    assert len({tuple(r.tolist()) for r in mask}) > 50  # different joints in different frames
    assert not spatial_mask(5, 17, 0, gen(1)).any()
    assert spatial_mask(5, 17, 17, gen(1)).all()
    with pytest.raises(ValueError):
        spatial_mask(5, 17, 18)


def test_spatio_temporal_mask():
    t, s = spatio_temporal_mask(243, 17, 0.8, 2, gen(2))
    assert int(t.sum()) == 194
    assert not s[t].any()  # spatial masking only on the unmasked frames
    assert (s[~t].sum(1) == 2).all()


def test_reproducible_with_generator():
    a = spatio_temporal_mask(81, 17, 0.8, 2, gen(7))
    b = spatio_temporal_mask(81, 17, 0.8, 2, gen(7))
    c = spatio_temporal_mask(81, 17, 0.8, 2, gen(8))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not (torch.equal(a[0], c[0]) and torch.equal(a[1], c[1]))


def test_masking_ratio_paper_values():
    # Paper Sec. 4.4: q^T = 80 %, m^S = 2 (q^S = 11.7 %) -> q^ST = 82.3 %; m^S = 7 -> q^S = 41.1 %.
    # (the paper truncates to one decimal: 82.35 -> 82.3, 41.18 -> 41.1)
    assert 82.3 <= 100 * masking_ratio_st(0.8, 2) < 82.4
    assert 41.1 <= 100 * masking_ratio_st(0.0, 7) < 41.2
    assert masking_ratio_st(0.9, 0) == pytest.approx(0.9)


# --------------------------------------------------------------------------- paper vs official masks

TRAIN_STEP = SHARED / "fixtures" / "official_pstmo_train_step.npz"


def test_mask_modes_constant_and_validation():
    assert MASK_MODES == ("paper", "official")
    with pytest.raises(ValueError, match="mask mode"):
        stage1_masks(27, 17, mode="theirs")
    with pytest.raises(ValueError, match="strategy"):
        stage1_masks(27, 17, strategy="random", mode="official")
    with pytest.raises(ValueError, match="0..15"):
        stage1_masks(27, 15, mode="official")  # a 15-joint skeleton has no joints 0..15
    with pytest.raises(ValueError, match=r"\[0, 16\]"):
        stage1_masks(27, 17, count=17, mode="official")


@pytest.mark.parametrize("frames,ratio,count", [(27, 0.8, 2), (243, 0.6, 3), (243, 0.8, 7), (81, 0.7, 2)])
def test_official_mode_distribution(frames, ratio, count):
    draws = [
        stage1_masks(frames, 17, ratio=ratio, count=count, generator=gen(s), mode="official")
        for s in range(300)
    ]
    t = torch.stack([d[0] for d in draws])
    s = torch.stack([d[1] for d in draws])
    # int(N * q_T) frames, as run.py ("mask_num = int(f * opt.temporal_mask_rate)").
    assert (t.sum(1) == int(frames * ratio)).all()
    # m_S joints in EVERY frame, temporally masked ones included: exactly m_S * N entries.
    assert (s.sum(2) == count).all()
    assert (s.sum((1, 2)) == count * frames).all()
    assert s[t].any()  # time-masked frames carry spatial masks too
    # Joint 16 is never masked; joints 0..15 each with probability m_S / 16.
    assert not s[..., 16].any()
    freq = s.float().mean((0, 1))[:16]
    assert torch.allclose(freq, torch.full((16,), count / 16), atol=0.03)
    # Spatial draws are independent of the temporal mask (the official code draws them apart).
    assert abs(s[t].float().mean() - s[~t].float().mean()) < 0.01


def test_paper_mode_distribution():
    draws = [stage1_masks(27, 17, ratio=0.8, count=2, generator=gen(s)) for s in range(400)]
    t = torch.stack([d[0] for d in draws])
    s = torch.stack([d[1] for d in draws])
    assert (t.sum(1) == 21).all()
    assert not s[t].any()  # rows of time-masked frames are all False
    assert (s[~t].sum(-1) == 2).all()  # m_S joints in each visible frame
    # All 17 joints are eligible, joint 16 included, each with probability m_S / 17.
    freq = s[~t].float().mean(0)
    assert torch.allclose(freq, torch.full((17,), 2 / 17), atol=0.03)


@pytest.mark.parametrize("mode", MASK_MODES)
def test_strategies_in_both_modes(mode):
    t, s = stage1_masks(27, 17, strategy="temporal", ratio=0.8, count=2, generator=gen(0), mode=mode)
    assert int(t.sum()) == 21 and not s.any()
    t, s = stage1_masks(27, 17, strategy="spatial", ratio=0.8, count=2, generator=gen(0), mode=mode)
    assert not t.any() and (s.sum(1) == 2).all()


def test_official_temporal_count_keeps_the_float_round_off():
    assert official_temporal_count(27, 0.8) == temporal_count(27, 0.8) == 21
    assert official_temporal_count(90, 0.7) == 62  # int(62.99999999999999), as run.py
    assert temporal_count(90, 0.7) == 63
    for n in (9, 27, 81, 243, 351):  # the official recipes never hit the difference
        for q in (0.6, 0.7, 0.8, 0.9):
            assert official_temporal_count(n, q) == temporal_count(n, q)


def test_official_masks_reproduce_the_official_stage1_loss():
    """The shared training-step fixture's masks are official-mode masks, and MPM fed with them
    gives the official Stage I loss; the paper reading of the same draw does not."""
    if not TRAIN_STEP.exists():
        pytest.skip(f"shared fixture not found at {TRAIN_STEP}")
    from pstmo.losses import mpm_loss
    from pstmo.models import MPM
    from pstmo.official.weights import config_from_state_dict, load_official_checkpoint

    f = np.load(TRAIN_STEP)
    n, q, m = (
        int(f["config/frames"]),
        float(f["config/temporal_mask_ratio"]),
        int(f["config/spatial_mask_num"]),
    )
    t = torch.from_numpy(f["stage1/temporal_mask"])
    s = torch.from_numpy(f["stage1/spatial_mask"])
    # The fixture's masks have the official structure that stage1_masks(mode="official") draws.
    t_ours, s_ours = stage1_masks(n, 17, ratio=q, count=m, generator=gen(0), mode="official")
    assert int(t.sum()) == int(t_ours.sum()) and int(s.sum()) == int(s_ours.sum()) == m * n
    assert not s[:, 16].any() and s[t].any()

    state = {
        k[len("stage1/state/") :]: torch.from_numpy(f[k]) for k in f.files if k.startswith("stage1/state/")
    }
    cfg = config_from_state_dict(state, frames=n, strides=tuple(f["config/stride_num"]), dropout=0.0)
    x = torch.from_numpy(f["stage1/input_2d"])

    def loss(tm, sm):
        model = load_official_checkpoint(MPM(cfg), state).train()
        with torch.no_grad():
            return mpm_loss(model(x, tm, sm, official_order=True), torch.cat([x[:, ~tm], x[:, tm]], 1)).item()

    assert loss(t, s) == pytest.approx(float(f["stage1/loss"]), abs=1e-6)
    paper = s.clone()
    paper[t] = False  # the paper's reading: no spatial masks on the time-masked frames
    assert abs(loss(t, paper) - float(f["stage1/loss"])) > 1e-4  # train-mode BatchNorm sees the difference
