"""MPM masks: exact counts, per-frame independence, spatio-temporal composition, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import SHARED

from pstmo.masking import (
    masking_ratio_st,
    spatial_mask,
    spatio_temporal_mask,
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
