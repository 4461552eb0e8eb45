"""Transformer building blocks shared by P-STMO's TEM, MOFA and the MPM decoder.

Everything here reproduces the official P-STMO code (itself derived from the Annotated
Transformer and the Strided Transformer of Li et al.) operation for operation, so that the
released weights give the same outputs (see /work/shared/reference/pstmo_architecture.md):

- ``OfficialLayerNorm``: ``a * (x - mean) / (std + 1e-6) + b`` with the *unbiased* std.
- ``MultiHeadAttention``: four ``Linear(C, C)`` (q, k, v, proj), softmax(QK^T / sqrt(d_k)) V.
- ``TransformerLayer``: pre-LN ``x + Dropout(MHA(LN(x)))`` then ``x + Dropout(FFN(LN(x)))``;
  with ``stride`` set it is a *strided* layer (MOFA): the FFN is
  ``Conv1d(C, H, 1) -> ReLU -> Dropout -> Conv1d(H, C, 3, stride=s, padding=1)`` and the
  residual of that sublayer is the input subsampled by ``s`` (``x[:, ::s]``).
- ``TransformerEncoder``: a stack of layers with optional learnable positional embeddings.

Shapes: tokens are ``(B, T, C)`` (batch, tokens = frames, channels).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

ATTENTION_KINDS = ("sdpa", "reference")


class OfficialLayerNorm(nn.Module):
    """The official LayerNorm: ``weight * (x - mean) / (std + eps) + bias`` over the last dim.

    Differs from ``torch.nn.LayerNorm`` in two ways that matter for exact equivalence: the
    standard deviation is the unbiased one (``x.std``) and ``eps`` is added to the std, not
    to the variance. Official parameter names ``a_2`` / ``b_2`` map to ``weight`` / ``bias``.
    """

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(-1, keepdim=True)
        std = x.std(-1, keepdim=True)
        return self.weight * (x - mean) / (std + self.eps) + self.bias


def reference_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    dropout: nn.Module | None = None,
    causal: bool = False,
) -> torch.Tensor:
    """Explicit ``softmax(q k^T / sqrt(d_k)) v`` on ``(B, h, T, d_k)`` tensors (the official path).

    ``dropout`` is applied to the attention probabilities; with ``causal`` a query at position
    ``i`` sees keys at positions ``<= i`` only (LiftFormer's causal mode).
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if causal:
        future = torch.ones(scores.shape[-2:], dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(future, float("-inf"))
    attn = scores.softmax(dim=-1)
    if dropout is not None:
        attn = dropout(attn)
    return attn @ v


class MultiHeadAttention(nn.Module):
    """Multi-head self-attention ``(B, T, C) -> (B, T, C)`` with ``heads`` heads of ``C / heads``.

    ``attention="sdpa"`` uses ``torch.nn.functional.scaled_dot_product_attention`` (the fast
    path), ``"reference"`` the explicit softmax of the official code; both give the same
    output (dropout on the attention probabilities in training, as the official code).
    The attribute ``attention`` is read at every call, so it can be switched at run time.
    ``forward(x, causal=True)`` masks future tokens (LiftFormer's causal mode). The parameter
    count, ``4 C^2 + 4 C``, does not depend on ``heads`` (projections act before the split).
    """

    def __init__(self, dim: int, heads: int, dropout: float = 0.1, attention: str = "sdpa"):
        super().__init__()
        if dim % heads != 0:
            raise ValueError(f"channel {dim} must be divisible by heads {heads}")
        if attention not in ATTENTION_KINDS:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS}, got {attention!r}")
        self.heads = heads
        self.attention = attention
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)
        self.attn_drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, causal: bool = False) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = (
            lin(x).view(B, T, self.heads, C // self.heads).transpose(1, 2) for lin in (self.q, self.k, self.v)
        )  # (B, h, T, d_k)
        if self.attention == "sdpa":
            p = self.attn_drop.p if self.training else 0.0
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=causal)
        else:
            y = reference_attention(q, k, v, self.attn_drop, causal=causal)
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.proj(y)


class FeedForward(nn.Module):
    """Position-wise FFN ``Linear(C, H) -> ReLU -> Dropout -> Linear(H, C)`` on ``(B, T, C)``."""

    def __init__(self, dim: int, hidden: int, dropout: float = 0.1):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(F.relu(self.fc1(x))))


class StridedFeedForward(nn.Module):
    """MOFA's FFN: ``Conv1d(C, H, 1) -> ReLU -> Dropout -> Conv1d(H, C, 3, stride, padding=1)``.

    ``(B, T, C) -> (B, ceil(T / stride), C)``: each output token aggregates 3 neighbouring
    frames (the strided temporal convolution of TCN / Strided Transformer).
    """

    def __init__(self, dim: int, hidden: int, stride: int, dropout: float = 0.1):
        super().__init__()
        self.fc1 = nn.Conv1d(dim, hidden, kernel_size=1)
        self.fc2 = nn.Conv1d(hidden, dim, kernel_size=3, stride=stride, padding=1)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.transpose(1, 2)  # (B, C, T)
        x = self.fc2(self.drop(F.relu(self.fc1(x))))
        return x.transpose(1, 2)


class TransformerLayer(nn.Module):
    """One pre-LN encoder layer ``(B, T, C) -> (B, T / stride, C)``.

    ``stride=None``: the vanilla layer of TEM / the MPM decoder (Linear FFN).
    ``stride=s``: a Strided Transformer layer of MOFA (Conv1d FFN, residual ``x[:, ::s]``).
    """

    def __init__(
        self,
        dim: int,
        hidden: int,
        heads: int,
        dropout: float = 0.1,
        attention: str = "sdpa",
        stride: int | None = None,
    ):
        super().__init__()
        self.stride = stride
        self.attn_norm = OfficialLayerNorm(dim)
        self.attn = MultiHeadAttention(dim, heads, dropout, attention)
        self.ffn_norm = OfficialLayerNorm(dim)
        if stride is None:
            self.ffn: nn.Module = FeedForward(dim, hidden, dropout)
        else:
            self.ffn = StridedFeedForward(dim, hidden, stride, dropout)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.attn_norm(x)))
        residual = x if not self.stride or self.stride == 1 else x[:, :: self.stride]
        return residual + self.drop(self.ffn(self.ffn_norm(x)))


class TransformerEncoder(nn.Module):
    """A stack of ``TransformerLayer`` ``(B, T, C) -> (B, T', C)``.

    ``pos_embeds``: number of learnable positional embeddings ``(1, max_len, C)``; embedding
    ``i`` is added (sliced to the current length) before layer ``i``. TEM has 1 (P-STMO's
    ``Transformer.pos_embedding``), MOFA 3 (``pos_embedding_1..3``), the MPM decoder 0.
    ``final_norm`` is built but never applied, exactly like the official code (the released
    checkpoints contain it); it keeps the state dict one-to-one with the official one.
    """

    def __init__(
        self,
        layers: int,
        dim: int,
        hidden: int,
        heads: int,
        dropout: float = 0.1,
        attention: str = "sdpa",
        strides: tuple[int, ...] | None = None,
        pos_embeds: int = 0,
        max_len: int = 0,
    ):
        super().__init__()
        if strides is not None and len(strides) != layers:
            raise ValueError(f"{layers} layers but {len(strides)} strides {strides}")
        self.pos_embeds = nn.ParameterList(
            [nn.Parameter(torch.randn(1, max_len, dim)) for _ in range(pos_embeds)]
        )
        self.layers = nn.ModuleList(
            TransformerLayer(dim, hidden, heads, dropout, attention, None if strides is None else strides[i])
            for i in range(layers)
        )
        self.final_norm = OfficialLayerNorm(dim)  # unused, as in the official code

    def forward(self, x: torch.Tensor, visible: torch.Tensor | None = None) -> torch.Tensor:
        """``x (B, T, C)``; ``visible (T,) bool`` keeps only those tokens *after* the first
        positional embedding is added (MPM's temporal masking drops the masked frames)."""
        if len(self.pos_embeds) > 0:
            x = x + self.pos_embeds[0][:, : x.shape[1]]
        if visible is not None:
            x = x[:, visible]
        for i, layer in enumerate(self.layers):
            if 0 < i < len(self.pos_embeds):
                x = x + self.pos_embeds[i][:, : x.shape[1]]
            x = layer(x)
        return x
