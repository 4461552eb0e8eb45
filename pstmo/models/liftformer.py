"""LiftFormer: a Transformer encoder that lifts a window of 2D poses to the 3D pose of one frame.

Architecture (LiftFormer paper, section 3 and Figure 1), read top to bottom:

1. Input ``x: (B, N, J, 2)`` -> flatten each frame to ``2J = 34`` values ``(x0, y0, x1, y1, ...)``
   -> channels first ``(B, 34, N)`` -> ``Conv1d(34 -> d, kernel 1)`` ("re-projection from
   [N, 34] to [N, 512]") -> tokens ``(B, N, d)``.
2. *Temporal encoding*: the sinusoidal positional encoding of Vaswani et al. (sin on even,
   cos on odd channels, wavelengths up to 10000) is added to the tokens, then dropout.
3. ``blocks`` Transformer encoder blocks of the *base* Transformer (d = 512, 8 heads,
   feed-forward 2048, 6 blocks). The paper uses the original encoder of Vaswani et al., so
   the blocks are **post-LN**: ``x = LN(x + Dropout(MHA(x)))``, ``x = LN(x + Dropout(FFN(x)))``
   with ``FFN = Linear(d -> 2048) -> ReLU -> Dropout -> Linear(2048 -> d)``. No final LayerNorm
   (the post-LN encoder of Vaswani et al. has none).
4. Token selection: like BERT's [CLS] token for classification, the output token of the
   *middle* of the receptive field (index ``N // 2``) is the pose to lift.
5. ``Conv1d(d -> 3J = 51, kernel 1)`` ("from [1, 512] to [1, 51]") -> ``center (B, 1, J, 3)``.

Options:

- ``weight_sharing=True``: the attention layers are shared across blocks as in ALBERT
  (LiftFormer Table 7): ONE :class:`MultiHeadAttention` object is used by every block
  (``model.blocks[i].attn is model.blocks[0].attn``); feed-forward layers and LayerNorms are
  not shared. ``model.parameters()`` lists the shared weights once.
- ``causal=True`` (the paper's causal inference mode, "only *past* frames"): the window holds
  the N frames ``t-N+1 .. t`` up to the target frame ``t``, which is the LAST token. A causal
  attention mask lets token ``i`` attend only to tokens ``<= i``, so every token's output (and
  in particular the prediction of the last token) depends on past and current frames only.
- ``attention="sdpa"`` uses ``torch.nn.functional.scaled_dot_product_attention`` (fast path);
  ``attention="reference"`` computes ``softmax(Q K^T / sqrt(d_k)) V`` explicitly. Both give the
  same result in eval mode.

Parameter count with the defaults (counted by ``pstmo.complexity``, all parameters):
18,958,387 = 18.96M, the number in LiftFormer Tables 6 and 7.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from pstmo.errors import DataError
from pstmo.models.config import LiftFormerConfig
from pstmo.models.layers import (
    Dropout,
    LiftOutput,
    MultiHeadAttention,
    TokenConv1d,
    reference_attention,
)

__all__ = [
    "EncoderBlock",
    "LiftFormer",
    "LiftFormerConfig",
    "MultiHeadAttention",
    "reference_attention",
    "sinusoidal_encoding",
]


def sinusoidal_encoding(length: int, dim: int) -> torch.Tensor:
    """Vaswani et al.'s positional ("temporal") encoding, shape ``(length, dim)``.

    ``PE[t, 2i] = sin(t / 10000^(2i/dim))``, ``PE[t, 2i+1] = cos(t / 10000^(2i/dim))``.
    """
    position = torch.arange(length, dtype=torch.float64)[:, None]
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float64) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * div)
    pe[:, 1::2] = torch.cos(position * div)[:, : dim // 2]
    return pe.float()


class EncoderBlock(nn.Module):
    """One post-LN Transformer encoder block (Vaswani et al.): ``(B, N, d) -> (B, N, d)``.

    ``attn`` may be a module shared with other blocks (weight sharing); the FFN and the two
    LayerNorms always belong to this block.
    """

    def __init__(self, attn: MultiHeadAttention, dim: int, ff_dim: int, dropout: float):
        super().__init__()
        self.attn = attn
        self.norm1 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff_dim), nn.ReLU(), Dropout(dropout), nn.Linear(ff_dim, dim))
        self.norm2 = nn.LayerNorm(dim)
        self.drop1 = Dropout(dropout)
        self.drop2 = Dropout(dropout)

    def forward(self, x: torch.Tensor, causal: bool = False) -> torch.Tensor:
        x = self.norm1(x + self.drop1(self.attn(x, causal=causal)))
        return self.norm2(x + self.drop2(self.ff(x)))


class LiftFormer(nn.Module):
    """LiftFormer: ``forward(x: (B, N, J, 2)) -> LiftOutput(center=(B, 1, J, 3), frames=None)``."""

    def __init__(self, cfg: LiftFormerConfig | None = None):
        super().__init__()
        cfg = cfg or LiftFormerConfig()
        self.cfg = cfg
        J, d = cfg.joints, cfg.dim
        self.embed = TokenConv1d(2 * J, d, kernel_size=1)
        self.register_buffer("temporal_encoding", sinusoidal_encoding(cfg.frames, d), persistent=False)
        self.drop = Dropout(cfg.dropout)
        shared = MultiHeadAttention(d, cfg.heads, cfg.dropout, cfg.attention) if cfg.weight_sharing else None
        self.blocks = nn.ModuleList(
            EncoderBlock(
                shared or MultiHeadAttention(d, cfg.heads, cfg.dropout, cfg.attention),
                d,
                cfg.ff_dim,
                cfg.dropout,
            )
            for _ in range(cfg.blocks)
        )
        self.head = TokenConv1d(d, 3 * J, kernel_size=1)

    @property
    def target_index(self) -> int:
        """Index of the lifted token in an N-frame window: the middle one, or the last if causal."""
        return self.cfg.frames - 1 if self.cfg.causal else self.cfg.frames // 2

    def _check(self, x: torch.Tensor) -> None:
        J = self.cfg.joints
        if (
            not isinstance(x, torch.Tensor)
            or x.ndim != 4
            or x.shape[2] != J
            or x.shape[3] != 2
            or x.shape[1] < 1
        ):
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise DataError(f"LiftFormer expects 2D poses of shape (B, N, {J}, 2), got {shape}", key="x")

    def embed_frames(self, x: torch.Tensor) -> torch.Tensor:
        """The input re-projection of every frame: ``(B, T, J, 2) -> (B, T, d)``, any T.

        Per frame, so a whole sequence can be embedded once and windows of its tokens handed
        to :meth:`lift_tokens` (the temporal encoding is added there, per window position).
        """
        self._check(x)
        B, T, J, _ = x.shape
        return self.embed(x.reshape(B, T, 2 * J))

    def encode_tokens(self, h: torch.Tensor) -> torch.Tensor:
        """Temporal encoding, dropout and the encoder blocks: ``(B, N, d) -> (B, N, d)``."""
        if h.dim() != 3 or h.shape[2] != self.cfg.dim:
            raise DataError(
                f"expected tokens of shape (B, N, {self.cfg.dim}), got {tuple(h.shape)}", key="tokens"
            )
        N = h.shape[1]
        pe = self.temporal_encoding
        if pe.shape[0] != N:  # a window of another length than cfg.frames
            pe = sinusoidal_encoding(N, self.cfg.dim).to(h)
        h = self.drop(h + pe.to(h.dtype))
        for block in self.blocks:
            h = block(h, causal=self.cfg.causal)
        return h

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Encoder features of every frame token: ``(B, N, J, 2) -> (B, N, d)``."""
        return self.encode_tokens(self.embed_frames(x))

    def _project(self, h: torch.Tensor) -> torch.Tensor:
        """Output re-projection ``(B, M, d) -> (B, M, J, 3)``."""
        B, M, _ = h.shape
        return self.head(h).view(B, M, self.cfg.joints, 3)

    def predict_all(self, x: torch.Tensor) -> torch.Tensor:
        """The output re-projection applied to every token: ``(B, N, J, 2) -> (B, N, J, 3)``.

        In causal mode token i is the prediction for frame i from frames ``<= i`` only.
        """
        return self._project(self.encode(x))

    def lift_tokens(self, h: torch.Tensor) -> LiftOutput:
        """``(B, N, d)`` embedded frames (:meth:`embed_frames`) -> ``LiftOutput(center, frames=None)``."""
        h = self.encode_tokens(h)
        N = h.shape[1]
        t = N - 1 if self.cfg.causal else N // 2
        return LiftOutput(center=self._project(h[:, t : t + 1]), frames=None)

    def forward(self, x: torch.Tensor) -> LiftOutput:
        """``x: (B, N, J, 2)`` -> ``LiftOutput(center=(B, 1, J, 3), frames=None)``.

        ``center`` is the 3D pose of the middle frame (index ``N // 2``), or of the last frame
        in causal mode. The same as ``lift_tokens(embed_frames(x))``.
        """
        return self.lift_tokens(self.embed_frames(x))
