"""MPM, P-STMO's Stage I masked pose modeling model (an MAE for 2D pose sequences).

``MPM(cfg).forward(x, temporal_mask, spatial_mask)`` with ``x (B, N, J, 2)``:

1. Spatial masking: joints where ``spatial_mask (N, J)`` is True are replaced by the
   learnable *spatial padding joint* e^S (``spatial_token``, shape ``(1, 1, 2)``).
2. Encoder = SEM + TEM of Stage II: TEM's positional embedding is added to all N tokens,
   then only the visible frames (``temporal_mask (N,)`` False), in time order, go through
   the TEM layers.
3. ``encoder_norm`` (official LN) -> ``to_decoder`` ``Linear(C, C/2, bias=False)``.
4. Decoder input: [visible features + dec_pos[visible]] then [e^T + dec_pos[masked]],
   e^T the *temporal padding embedding* (``mask_token``, ``(1, 1, C/2)``), dec_pos a
   learnable ``(1, N, C/2)``.
5. Decoder: ``layers - 1`` pre-LN transformer layers of width C/2, FFN H/2.
6. Head ``BN(C/2) -> Conv1d(C/2, 2J)`` -> the reconstructed 2D sequence ``(B, N, J, 2)``.

The decoder emits tokens in the order visible-then-masked (the official code does not
unshuffle); ``forward`` returns them in time order unless ``official_order=True``.
The training objective is ``pstmo.losses.mpm_loss`` (mean 2D joint distance, all frames).
"""

from __future__ import annotations

import torch
from torch import nn

from pstmo.errors import DataError
from pstmo.models.config import STMOConfig
from pstmo.models.layers import OfficialLayerNorm, TransformerEncoder
from pstmo.models.sem import build_sem
from pstmo.models.stmo import PoseHead, check_input


class MPM(nn.Module):
    """Masked pose modeling ``(B, N, J, 2) -> (B, N, J, 2)``; see the module docstring."""

    def __init__(self, cfg: STMOConfig):
        super().__init__()
        if cfg.layers < 2:
            raise ValueError(f"MPM needs layers >= 2 (its decoder has layers - 1), got {cfg.layers}")
        self.cfg = cfg
        C, H, N, J = cfg.channel, cfg.hidden, cfg.frames, cfg.joints
        D = C // 2
        self.spatial_token = nn.Parameter(torch.randn(1, 1, 2))  # e^S
        self.sem = build_sem(cfg)
        self.tem = TransformerEncoder(
            cfg.layers, C, H, cfg.heads, cfg.dropout, cfg.attention, pos_embeds=1, max_len=N
        )
        self.encoder_norm = OfficialLayerNorm(C)
        self.to_decoder = nn.Linear(C, D, bias=False)
        self.mask_token = nn.Parameter(torch.randn(1, 1, D))  # e^T
        self.dec_pos_embed = nn.Parameter(torch.randn(1, N, D))
        self.decoder = TransformerEncoder(cfg.layers - 1, D, H // 2, cfg.heads, cfg.dropout, cfg.attention)
        self.head = PoseHead(D, J, 2)

    def forward(
        self,
        x: torch.Tensor,
        temporal_mask: torch.Tensor,
        spatial_mask: torch.Tensor | None = None,
        official_order: bool = False,
    ) -> torch.Tensor:
        """Reconstruct ``x (B, N, J, 2)``; ``temporal_mask (N,)`` / ``spatial_mask (N, J)`` bool, True = masked."""
        N, J = self.cfg.frames, self.cfg.joints
        check_input(x, N, J)
        temporal_mask = temporal_mask.to(device=x.device, dtype=torch.bool)
        if temporal_mask.shape != (N,):
            raise DataError(f"expected shape ({N},), got {tuple(temporal_mask.shape)}", key="temporal_mask")
        if spatial_mask is not None:
            spatial_mask = spatial_mask.to(device=x.device, dtype=torch.bool)
            if spatial_mask.shape != (N, J):
                raise DataError(
                    f"expected shape ({N}, {J}), got {tuple(spatial_mask.shape)}", key="spatial_mask"
                )
            x = torch.where(
                spatial_mask[None, :, :, None], self.spatial_token.view(1, 1, 1, 2).to(x.dtype), x
            )
        B = x.shape[0]
        visible = ~temporal_mask
        h = self.tem(self.sem(x, keep=visible), positions=visible)  # (B, N_vis, C)
        h = self.to_decoder(self.encoder_norm(h))  # (B, N_vis, C/2)
        pos = self.dec_pos_embed[:, :N]
        masked = (self.mask_token + pos[:, temporal_mask]).expand(B, -1, -1)
        out = self.head(self.decoder(torch.cat([h + pos[:, visible], masked], dim=1)))  # (B, N, J, 2)
        if official_order:
            return out
        order = torch.cat([visible.nonzero(), temporal_mask.nonzero()]).flatten()  # token t is frame order[t]
        return out[:, torch.argsort(order)]
