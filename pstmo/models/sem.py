"""Spatial encoding modules (SEM): one 2D pose per frame -> one token per frame.

All map ``x (B, N, J, 2)`` (normalised image coordinates) to tokens ``(B, N, C)`` and
process every frame independently with weights shared across frames (in training mode the
MLP's BatchNorm statistics are taken over all frames of the batch). ``forward(x, keep)``
with ``keep (N,) bool`` returns the tokens of those frames only, ``(B, N_keep, C)`` (Stage I
encodes only the frames it does not mask), computing no more than needed for them.

- ``MLPSEM`` (the paper's SEM, official ``encoder``/``FCBlock``): the joints are flattened
  per frame as (x0, y0, x1, y1, ...) and fed through 1x1 ``Conv1d`` layers (computed on the
  token-major layout by ``TokenConv1d`` / ``TokenBatchNorm1d``, the same modules):
  ``Conv1d(2J, W) -> BN -> LeakyReLU(0.2) -> Dropout``, ``L`` residual sub-blocks
  ``[Conv1d(W, W) -> BN -> LeakyReLU(0.2) -> Dropout] x 2 (+ input)``, ``Conv1d(W, C)``,
  with W = 2C.
- ``FCSEM``: a single linear layer ``2J -> C`` (Li et al.'s embedding; Table 3 "TEM only",
  Table 4 "fc").
- ``TransformerSEM``: PoseFormer's spatial transformer (Table 4 "Transformer").
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pstmo.models.layers import Dropout, MultiHeadAttention, TokenBatchNorm1d, TokenConv1d


def _flatten_frames(x: torch.Tensor) -> torch.Tensor:
    """``(B, N, J, 2) -> (B, N, 2J)``: one vector (x0, y0, x1, y1, ...) per frame."""
    B, N, J, C = x.shape
    return x.reshape(B, N, J * C)


class MLPBlock(nn.Module):
    """Residual sub-block ``x + [Conv1d -> BN -> LeakyReLU(0.2) -> Dropout] x 2 (x)`` on ``(B, N, W)``."""

    _fold_pairs = [("conv1", "bn1"), ("conv2", "bn2")]

    def __init__(self, width: int, dropout: float = 0.1):
        super().__init__()
        self.conv1 = TokenConv1d(width, width, kernel_size=1)
        self.bn1 = TokenBatchNorm1d(width)
        self.conv2 = TokenConv1d(width, width, kernel_size=1)
        self.bn2 = TokenBatchNorm1d(width)
        self.drop = Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.drop(F.leaky_relu(self.bn1(self.conv1(x)), 0.2))
        y = self.drop(F.leaky_relu(self.bn2(self.conv2(y)), 0.2))
        return x + y


class MLPSEM(nn.Module):
    """The paper's SEM: an MLP block over each frame ``(B, N, J, 2) -> (B, N, C)``."""

    _fold_pairs = [("fc_in", "bn_in")]

    def __init__(self, joints: int, channel: int, width: int, blocks: int = 1, dropout: float = 0.1):
        super().__init__()
        self.fc_in = TokenConv1d(2 * joints, width, kernel_size=1)
        self.bn_in = TokenBatchNorm1d(width)
        self.drop = Dropout(dropout)
        self.blocks = nn.ModuleList(MLPBlock(width, dropout) for _ in range(blocks))
        self.fc_out = TokenConv1d(width, channel, kernel_size=1)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        h = self.drop(F.leaky_relu(self.bn_in(self.fc_in(_flatten_frames(x))), 0.2))
        for block in self.blocks:
            h = block(h)
        if keep is not None:  # after the last BatchNorm, whose statistics need every frame
            h = h[:, keep]
        return self.fc_out(h)


class FCSEM(nn.Module):
    """A single linear embedding per frame ``(B, N, J, 2) -> (B, N, C)`` (1x1 Conv1d, 2J -> C)."""

    def __init__(self, joints: int, channel: int):
        super().__init__()
        self.fc = TokenConv1d(2 * joints, channel, kernel_size=1)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        return self.fc(_flatten_frames(x if keep is None else x[:, keep]))


class SpatialBlock(nn.Module):
    """PoseFormer's spatial block: pre-LN (``nn.LayerNorm``) self-attention and GELU MLP (ratio 2)."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.1, attention: str = "sdpa"):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = MultiHeadAttention(dim, heads, dropout, attention)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.fc2 = nn.Linear(2 * dim, dim)
        self.drop = Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x)))
        return x + self.drop(self.fc2(self.drop(F.gelu(self.fc1(self.norm2(x))))))


class TransformerSEM(nn.Module):
    """PoseFormer's spatial transformer as SEM ``(B, N, J, 2) -> (B, N, J * d)``, ``d = C / J``.

    Each joint is embedded by ``Linear(2, d)``, a learnable spatial positional embedding
    ``(1, J, d)`` is added, ``blocks`` spatial blocks attend across the J joints of each
    frame, a final LayerNorm is applied and the joints are flattened to one token of width
    ``C = J * d`` (so ``channel`` must be a multiple of J; the paper's row uses d = 32,
    C = 544). Heads: ``heads`` if ``d`` is divisible by it, else 1.

    Reconstruction of Table 4's "Transformer" row (N = 81, 7.2 M params, 1218 MFLOPs):
    3 spatial blocks with d = 32 followed by a TEM of width C = 17 * 32 = 544, FFN 1088
    (= 2C, the P-STMO default ratio H / C), 3 layers and no MOFA gives 7.17 M parameters and
    2 x 81 x 7.52 M = 1218 MFLOPs under the paper's counting convention (thop, leaf
    Conv/Linear/BN, attention products not counted); see ``ABLATIONS["table4/transformer"]``.
    """

    def __init__(
        self,
        joints: int,
        channel: int,
        blocks: int = 3,
        heads: int = 8,
        dropout: float = 0.1,
        attention: str = "sdpa",
    ):
        super().__init__()
        if channel % joints:
            raise ValueError(f"sem='transformer' needs channel divisible by joints ({joints}), got {channel}")
        dim = channel // joints
        self.embed = nn.Linear(2, dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, joints, dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.blocks = nn.ModuleList(
            SpatialBlock(dim, heads if dim % heads == 0 else 1, dropout, attention) for _ in range(blocks)
        )
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.drop = Dropout(dropout)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        if keep is not None:
            x = x[:, keep]
        B, N, J, _ = x.shape
        h = self.drop(self.embed(x.reshape(B * N, J, 2)) + self.pos_embed)
        for block in self.blocks:
            h = block(h)
        return self.norm(h).reshape(B, N, -1)


def build_sem(cfg) -> nn.Module:
    """The SEM of an ``STMOConfig`` (``fc`` when ``"sem"`` is not among ``cfg.components``)."""
    kind = cfg.sem if "sem" in cfg.components else "fc"
    if kind == "mlp":
        return MLPSEM(cfg.joints, cfg.channel, cfg.sem_width, cfg.sem_blocks, cfg.dropout)
    if kind == "fc":
        return FCSEM(cfg.joints, cfg.channel)
    return TransformerSEM(cfg.joints, cfg.channel, cfg.sem_blocks, cfg.heads, cfg.dropout, cfg.attention)
