"""Masks for P-STMO's masked pose modeling (MPM, Stage I), Sec. 3.2 of the paper.

All masks are boolean, True = masked, and drawn from an explicit ``torch.Generator`` so a
run is reproducible (the official code reseeds from OS entropy every batch; we do not).

- ``temporal_mask(N, q_T)``: ``floor(q_T * N)`` frames masked (the official
  ``int(N * ratio)``: N = 27, q_T = 0.8 -> 21 frames, as in the reference fixture). Any frame
  can be masked, the centre frame included. Masked frames are dropped from the encoder input
  and replaced by the temporal padding embedding e^T at the decoder.
- ``spatial_mask(N, J, m_S)``: exactly ``m_S`` joints per frame, drawn independently per
  frame (different joints in different frames), replaced by the spatial padding joint e^S.
- ``spatio_temporal_mask(N, J, q_T, m_S)``: temporal masking first, then spatial masking
  on the *unmasked* frames only (rows of masked frames are all False).
- ``masking_ratio_st(q_T, m_S, J)``: the total ratio ``q^ST = q^T + (1 - q^T) m^S / J``
  (0.8 and 2 joints -> 82.3 %, the paper's optimum).
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "STRATEGIES",
    "masking_ratio_st",
    "spatial_mask",
    "spatio_temporal_mask",
    "stage1_masks",
    "temporal_count",
    "temporal_mask",
]

#: Stage I masking strategies (P-STMO Fig. 3 / Table 2).
STRATEGIES = ("temporal", "spatial", "spatio-temporal")


def temporal_count(frames: int, ratio: float) -> int:
    """Number of temporally masked frames: ``floor(ratio * frames)`` (robust to float round-off)."""
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"temporal masking ratio must be in [0, 1), got {ratio}")
    return int(math.floor(ratio * frames + 1e-9))


def temporal_mask(frames: int, ratio: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """``(N,)`` bool mask with exactly ``temporal_count(N, ratio)`` True entries, uniformly placed."""
    mask = torch.zeros(frames, dtype=torch.bool)
    mask[torch.randperm(frames, generator=generator)[: temporal_count(frames, ratio)]] = True
    return mask


def spatial_mask(
    frames: int, joints: int, count: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``(N, J)`` bool mask with exactly ``count`` True joints in every frame, drawn per frame."""
    if not 0 <= count <= joints:
        raise ValueError(f"spatial mask count must be in [0, {joints}], got {count}")
    order = torch.rand(frames, joints, generator=generator).argsort(dim=1)  # a random permutation per frame
    mask = torch.zeros(frames, joints, dtype=torch.bool)
    mask.scatter_(1, order[:, :count], True)
    return mask


def spatio_temporal_mask(
    frames: int, joints: int, ratio: float, count: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(temporal (N,), spatial (N, J))``: temporal masking, then spatial masking of the unmasked frames."""
    t = temporal_mask(frames, ratio, generator)
    s = spatial_mask(frames, joints, count, generator)
    s[t] = False
    return t, s


def masking_ratio_st(q_t: float, m_s: int, joints: int = 17) -> float:
    """Total spatio-temporal masking ratio ``q^ST = q^T + (1 - q^T) * m^S / J``."""
    return q_t + (1.0 - q_t) * m_s / joints


def stage1_masks(
    frames: int,
    joints: int,
    *,
    strategy: str = "spatio-temporal",
    ratio: float = 0.8,
    count: int = 2,
    mode: str = "paper",
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The masks of one Stage I batch: ``(temporal (N,), spatial (N, J))``, True = masked.

    ``strategy`` is one of :data:`STRATEGIES`; ``ratio`` is q^T, ``count`` is m^S.
    """
    if mode != "paper":
        raise ValueError(f"mask mode {mode!r} is not available yet; use 'paper'")
    none_t = torch.zeros(frames, dtype=torch.bool)
    none_s = torch.zeros(frames, joints, dtype=torch.bool)
    if strategy == "temporal":
        return temporal_mask(frames, ratio, generator), none_s
    if strategy == "spatial":
        return none_t, spatial_mask(frames, joints, count, generator)
    if strategy == "spatio-temporal":
        return spatio_temporal_mask(frames, joints, ratio, count, generator)
    raise ValueError(f"mask strategy must be one of {STRATEGIES}, got {strategy!r}")
