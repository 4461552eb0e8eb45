"""Masks for P-STMO's masked pose modeling (MPM, Stage I), Sec. 3.2 of the paper.

All masks are boolean, True = masked, and drawn from an explicit ``torch.Generator`` so a
run is reproducible (the official code reseeds from OS entropy every batch; we do not).

- ``temporal_mask(N, q_T)``: ``floor(q_T * N)`` frames masked (the official
  ``int(N * ratio)`` up to float round-off, see ``official_temporal_count``: N = 27,
  q_T = 0.8 -> 21 frames, as in the reference fixture). Any frame
  can be masked, the centre frame included. Masked frames are dropped from the encoder input
  and replaced by the temporal padding embedding e^T at the decoder.
- ``spatial_mask(N, J, m_S)``: exactly ``m_S`` joints per frame, drawn independently per
  frame (different joints in different frames), replaced by the spatial padding joint e^S.
- ``spatio_temporal_mask(N, J, q_T, m_S)``: temporal masking first, then spatial masking
  on the *unmasked* frames only (rows of masked frames are all False).
- ``masking_ratio_st(q_T, m_S, J)``: the total ratio ``q^ST = q^T + (1 - q^T) m^S / J``
  (0.8 and 2 joints -> 82.3 %, the paper's optimum).

Two readings of spatio-temporal masking (:data:`MASK_MODES`, ``stage1_masks(mode=...)``):

- ``"paper"`` (default): P-STMO Sec. 3.2, "the temporal masking is implemented on the input
  pose sequence, followed by the spatial masking on the unmasked frames", with ``q^S = m^S / J``
  (all J joints eligible). Rows of temporally masked frames carry no spatial mask.
- ``"official"``: what the official ``run.py`` draws: ``int(N * q_T)`` frames masked, and
  for **every** frame (temporally masked ones included) ``m_S`` joints drawn from joints
  0..15 (``OFFICIAL_SPATIAL_JOINTS``; with 17 joints, joint 16, the right wrist, is never
  masked). Exactly ``m_S * N`` spatial entries are True, which the official ``Model_MAE``
  requires. The difference matters in training: SEM runs on all N frames before TEM drops
  the masked ones, so spatial masks on the masked frames change SEM's train-mode BatchNorm
  statistics, hence loss and gradients (not only the masks' bookkeeping).
"""

from __future__ import annotations

import math

import torch

from pstmo.registry import MASK_MODES, MASK_STRATEGIES

__all__ = [
    "MASK_MODES",
    "OFFICIAL_SPATIAL_JOINTS",
    "STRATEGIES",
    "masking_ratio_st",
    "official_spatial_mask",
    "official_temporal_count",
    "spatial_mask",
    "spatio_temporal_mask",
    "stage1_masks",
    "temporal_count",
    "temporal_mask",
]

#: Stage I masking strategies (P-STMO Fig. 3 / Table 2) and the readings of the masks, the paper's
#: (default) and the official code's (module docstring): named in :mod:`pstmo.registry`.
STRATEGIES = MASK_STRATEGIES

#: The official code draws spatially masked joints from ``range(0, 16)``: joints 0..15.
OFFICIAL_SPATIAL_JOINTS = 16


def temporal_count(frames: int, ratio: float) -> int:
    """Number of temporally masked frames: ``floor(ratio * frames)`` (robust to float round-off)."""
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"temporal masking ratio must be in [0, 1), got {ratio}")
    return int(math.floor(ratio * frames + 1e-9))


def official_temporal_count(frames: int, ratio: float) -> int:
    """The official count ``int(frames * ratio)``, float round-off included (``int(90 * 0.7) = 62``).

    Equal to :func:`temporal_count` unless ``frames * ratio`` is an integer that the float
    product misses from below; never for the official recipes (N = 27, 81, 243; q_T 0.6-0.9).
    """
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"temporal masking ratio must be in [0, 1), got {ratio}")
    return int(frames * ratio)


def temporal_mask(
    frames: int, ratio: float, generator: torch.Generator | None = None, count: int | None = None
) -> torch.Tensor:
    """``(N,)`` bool mask with exactly ``count`` (default ``temporal_count(N, ratio)``) True entries,
    uniformly placed."""
    mask = torch.zeros(frames, dtype=torch.bool)
    k = temporal_count(frames, ratio) if count is None else count
    mask[torch.randperm(frames, generator=generator)[:k]] = True
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


def official_spatial_mask(
    frames: int, joints: int, count: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``(N, J)`` bool: in every frame ``count`` joints drawn uniformly without replacement from
    joints ``0..OFFICIAL_SPATIAL_JOINTS - 1`` (the official ``random.sample(range(0, 16), m_S)``);
    the joints from 16 on are never masked."""
    eligible = OFFICIAL_SPATIAL_JOINTS
    if joints < eligible:
        raise ValueError(f"the official masks draw from joints 0..{eligible - 1}; this skeleton has {joints}")
    if not 0 <= count <= eligible:
        raise ValueError(f"spatial mask count must be in [0, {eligible}] in official mode, got {count}")
    mask = torch.zeros(frames, joints, dtype=torch.bool)
    mask[:, :eligible] = spatial_mask(frames, eligible, count, generator)
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

    ``strategy`` is one of :data:`STRATEGIES`; ``ratio`` is q^T, ``count`` is m^S; ``mode`` one
    of :data:`MASK_MODES`. ``"paper"`` (default) follows the paper's text, which is what the
    paper's ratios ``q^S = m^S / J`` and ``q^ST`` describe: spatial masks on the temporally
    unmasked frames only, all J joints eligible. ``"official"`` reproduces the official
    ``run.py``: ``int(N q_T)`` frames, and ``m_S`` joints of 0..15 in every frame, the
    temporally masked ones included (see the module docstring for why it matters). The
    ``"temporal"`` / ``"spatial"`` strategies are the ``m_S = 0`` / ``q_T = 0`` cases of
    each reading.
    """
    if mode not in MASK_MODES:
        raise ValueError(f"mask mode must be one of {MASK_MODES}, got {mode!r}")
    if strategy not in STRATEGIES:
        raise ValueError(f"mask strategy must be one of {STRATEGIES}, got {strategy!r}")
    use_t = strategy in ("temporal", "spatio-temporal")
    use_s = strategy in ("spatial", "spatio-temporal")
    if mode == "official":
        t = torch.zeros(frames, dtype=torch.bool)
        if use_t:
            t = temporal_mask(frames, ratio, generator, count=official_temporal_count(frames, ratio))
        s = official_spatial_mask(frames, joints, count if use_s else 0, generator)
        return t, s
    none_t = torch.zeros(frames, dtype=torch.bool)
    none_s = torch.zeros(frames, joints, dtype=torch.bool)
    if strategy == "temporal":
        return temporal_mask(frames, ratio, generator), none_s
    if strategy == "spatial":
        return none_t, spatial_mask(frames, joints, count, generator)
    return spatio_temporal_mask(frames, joints, ratio, count, generator)
