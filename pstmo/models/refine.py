"""The refinement module of the paper's (*) rows (Cai et al. 2019, official ``model/refine.py``).

Given the predicted centre-frame 3D pose and the 2D input of that frame, the 2D joints are
back-projected to 3D with the *predicted* depth and the camera intrinsics, and a score MLP
blends the predicted x, y with the back-projected x, y per joint:

    xyz_bp   = backproject(uv, z_pred, f, c, root_depth)                (B, 1, J, 3)
    s        = sigmoid(MLP(concat(pred, xyz_bp)))                       (B, 1, J, 2)
    xy_out   = s * xy_pred + (1 - s) * xy_bp,   z_out = z_pred

MLP: ``Linear(6J = 102, 1024) -> ReLU -> Dropout(0.5) -> Linear(1024, 2J = 34) -> Sigmoid``,
its input the per-joint concatenation (x, y, z of ``pred``, then x, y, z of ``xyz_bp``)
flattened joint-major, as in the official ``torch.cat((x, x_1), -1).view(N, -1)``.

Back-projection (official ``get_uvd2xyz``): with normalised image coordinates ``uv``
(VideoPose3D's ``normalize_screen_coordinates``), normalised focal ``f (B, 2)`` and centre
``c (B, 2)`` (the camera ``intrinsic[:4]`` of VideoPose3D), the absolute depth of joint j is
``Z_j = root_depth + z_pred_j`` for j > 0 and ``Z_0 = root_depth``; then
``X, Y = (uv - c) * Z / f`` and the result is made root-relative. The official code takes
``root_depth`` from the ground-truth root position (the camera-frame depth of the pelvis).
"""

from __future__ import annotations

import torch
from torch import nn


def backproject(
    uv: torch.Tensor,
    depth: torch.Tensor,
    focal: torch.Tensor,
    principal: torch.Tensor,
    root_depth: torch.Tensor,
) -> torch.Tensor:
    """Root-relative 3D ``(B, T, J, 3)`` from 2D ``uv (B, T, J, 2)`` and root-relative depth ``(B, T, J)``.

    ``focal``, ``principal``: ``(B, 2)`` normalised intrinsics; ``root_depth``: ``(B,)`` or
    ``(B, T)`` absolute depth of the root joint (same unit as ``depth``).
    """
    B, T, J, _ = uv.shape
    root = root_depth.reshape(B, -1, 1).expand(B, T, 1)
    z = torch.cat([root, depth[:, :, 1:] + root], dim=2)  # (B, T, J) absolute depth, root = root_depth
    xy = (uv - principal.view(B, 1, 1, 2)) * z.unsqueeze(-1) / focal.view(B, 1, 1, 2)
    xyz = torch.cat([xy, z.unsqueeze(-1)], dim=-1)
    return xyz - xyz[:, :, :1]


class Refine(nn.Module):
    """Score MLP blending predicted and back-projected x, y: ``(B, 1, J, 3) x 2 -> (B, 1, J, 3)``."""

    def __init__(self, joints: int = 17, hidden: int = 1024, dropout: float = 0.5):
        super().__init__()
        self.fc1 = nn.Linear(6 * joints, hidden)
        self.fc2 = nn.Linear(hidden, 2 * joints)
        self.drop = nn.Dropout(dropout)

    def forward(self, pred: torch.Tensor, xyz_backprojected: torch.Tensor) -> torch.Tensor:
        B, T, J, _ = pred.shape
        h = torch.cat([pred, xyz_backprojected], dim=-1).reshape(B, -1)
        s = torch.sigmoid(self.fc2(self.drop(torch.relu(self.fc1(h))))).view(B, T, J, 2)
        xy = s * pred[..., :2] + (1 - s) * xyz_backprojected[..., :2]
        return torch.cat([xy, pred[..., 2:]], dim=-1)
