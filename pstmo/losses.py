"""Training objectives of both papers, one function each (the only place they are written).

- :func:`mpm_loss` (P-STMO Stage I, masked pose modeling): the mean Euclidean distance
  between the reconstructed and the clean 2D joints, over every frame of the window (masked
  and visible), as the official ``run.py`` computes it.
- :func:`lift_loss` (P-STMO Stage II, Eq. 8-9): MPJPE of the middle frame after MOFA plus
  ``lambda_multi`` x MPJPE of all N frames after TEM (the multi-frame head); LiftFormer's
  loss is the first term alone (its output has no ``frames``).

Shapes: 2D ``(B, N, J, 2)``; ``center (B, 1, J, 3)``; ``frames (B, N, J, 3)``; metres.
The targets are root-relative (joint 0 = 0), which gives the same loss as the official code,
whose targets carry the absolute root and whose loss zeroes it first.
"""

from __future__ import annotations

import torch

from pstmo.metrics import mpjpe


def mpm_loss(reconstruction: torch.Tensor, target_2d: torch.Tensor) -> torch.Tensor:
    """Stage I: mean 2D joint distance ``(..., J, 2)`` over all frames and joints."""
    return torch.linalg.vector_norm(reconstruction.float() - target_2d, dim=-1).mean()


def lift_loss(
    center: torch.Tensor,
    center_3d: torch.Tensor,
    frames: torch.Tensor | None = None,
    pose_3d: torch.Tensor | None = None,
    lambda_multi: float = 1.0,
) -> torch.Tensor:
    """Stage II / LiftFormer: ``MPJPE(center) + lambda_multi * MPJPE(frames)``.

    The multi-frame term is added only when the model has a multi-frame output ``frames``
    and ``lambda_multi`` is non-zero (P-STMO with MOFA); LiftFormer and the Table 3 variants
    without MOFA train on the middle frame alone.
    """
    loss = mpjpe(center.float(), center_3d)
    if frames is not None and pose_3d is not None and lambda_multi:
        loss = loss + lambda_multi * mpjpe(frames.float(), pose_3d)
    return loss
