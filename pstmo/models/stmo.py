"""STMO, the Stage II lifting model of P-STMO: SEM -> TEM -> MOFA.

``STMO(cfg).forward(x)`` with ``x (B, N, J, 2)`` normalised 2D poses returns
``LiftOutput(center (B, 1, J, 3), frames (B, N, J, 3) | None)``; it is
``lift_tokens(embed_frames(x))``, step 1 then steps 2-5 (whole-sequence lifting embeds every
frame once with ``embed_frames`` and lifts windows of tokens with ``lift_tokens``):

1. **SEM** (``pstmo.models.sem``) embeds each frame: ``(B, N, J, 2) -> (B, N, C)``.
2. **TEM**: learnable positional embedding + ``layers`` pre-LN transformer layers over
   the N frame tokens (``(B, N, C) -> (B, N, C)``).
3. Multi-frame head ``BN(C) -> Conv1d(C, 3J)`` on every TEM token -> ``frames``
   (supervised by the paper's multi-frame loss).
4. **MOFA**: strided transformer layers (strides ``cfg.mofa_strides``, product N) reduce
   the N tokens to 1: ``(B, N, C) -> (B, 1, C)``.
5. Single-frame head ``BN(C) -> Conv1d(C, 3J)`` -> ``center``, the 3D pose of the middle frame.

Ablations (``cfg.components``, the paper's Table 3): without ``"mofa"`` the single-frame
head reads the middle TEM token (or SEM token) and ``frames`` is None; without ``"sem"``
the frames are embedded by one linear layer ("TEM only"); without ``"tem"`` the SEM
tokens go straight to the heads ("SEM only").

Module names are readable; ``pstmo.official.weights`` maps the official checkpoint names to them.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from pstmo.errors import CheckpointError, DataError
from pstmo.models.config import STMOConfig
from pstmo.models.layers import LiftOutput, TokenBatchNorm1d, TokenConv1d, TransformerEncoder
from pstmo.models.sem import build_sem


class PoseHead(nn.Module):
    """``BN(C) -> Conv1d(C, k J, 1)`` on tokens ``(B, T, C) -> (B, T, J, k)``.

    Output channels are joint-major (index ``j * k + c``), as in the official heads.
    """

    _fold_pairs = [("bn", "conv")]

    def __init__(self, channel: int, joints: int, coords: int):
        super().__init__()
        self.joints, self.coords = joints, coords
        self.bn = TokenBatchNorm1d(channel)
        self.conv = TokenConv1d(channel, joints * coords, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        return self.conv(self.bn(x)).view(B, T, self.joints, self.coords)


def check_input(x: torch.Tensor, frames: int | None, joints: int, where: str = "input") -> None:
    """Raise ``DataError`` unless ``x`` is ``(B, frames, joints, 2)`` (frames None: any N)."""
    ok = x.dim() == 4 and x.shape[2] == joints and x.shape[3] == 2
    ok = ok and (frames is None or x.shape[1] == frames)
    if not ok:
        n = "N" if frames is None else frames
        raise DataError(f"expected 2D poses of shape (B, {n}, {joints}, 2), got {tuple(x.shape)}", key=where)


class STMO(nn.Module):
    """P-STMO's Stage II model ``(B, N, J, 2) -> LiftOutput``; see the module docstring.

    Paper ablations (``pstmo.models.config.ABLATIONS``), parameters / FLOPs at the paper's
    counting convention versus Tables 3-4: "TEM only" (fc SEM + TEM, one centre head)
    1.6 M / 769 M, SEM+TEM 2.27 M / 1094 M, SEM+TEM+MOFA 6.22 M / 1482 M, MLP L = 2, 3
    2.80 / 3.32 M, Transformer SEM (see ``TransformerSEM``) 7.17 M / ~1221 M: all match.

    Deviation, "SEM only" (Table 3: 1.1 M, 536 MFLOPs): ours is SEM + the centre head on the
    middle frame, 0.69 M and ~330 MFLOPs (SEM run on all 243 frames). The paper's numbers
    imply ~0.41 M more parameters applied to every frame (FLOPs ~ 2 x 243 x params), but no
    natural reconstruction fits both: a second MLP sub-block (L = 2) gives 1.2 M / 586 M,
    three 256-wide residual MLP blocks in place of TEM 1.09 M / ~525 M, a TEM layer without
    attention 0.95 M. Without the official ablation code we keep the plain reading
    (SEM alone, no temporal mixing: the centre output depends on the centre frame only).
    """

    def __init__(self, cfg: STMOConfig):
        super().__init__()
        self.cfg = cfg
        C, H, N, J = cfg.channel, cfg.hidden, cfg.frames, cfg.joints
        comps = set(cfg.components)
        self.sem = build_sem(cfg)
        self.tem = (
            TransformerEncoder(
                cfg.layers, C, H, cfg.heads, cfg.dropout, cfg.attention, pos_embeds=1, max_len=N
            )
            if "tem" in comps
            else None
        )
        if "mofa" in comps:
            strides = cfg.mofa_strides
            self.head_frames = PoseHead(C, J, 3)
            self.mofa = TransformerEncoder(
                len(strides),
                C,
                H,
                cfg.heads,
                cfg.dropout,
                cfg.attention,
                strides=strides,
                pos_embeds=min(3, len(strides)),
                max_len=N,
            )
        else:
            self.head_frames = None
            self.mofa = None
        self.head_center = PoseHead(C, J, 3)
        if cfg.refine:
            from pstmo.models.refine import Refine

            self.refiner = Refine(J)
        else:
            self.refiner = None

    def forward(self, x: torch.Tensor) -> LiftOutput:
        """``x (B, N, J, 2) -> LiftOutput``; the same as ``lift_tokens(embed_frames(x))``."""
        check_input(x, self.cfg.frames if self._needs_window else None, self.cfg.joints)
        return self.lift_tokens(self.sem(x))

    @property
    def _needs_window(self) -> bool:
        """TEM and MOFA work on exactly ``cfg.frames`` tokens; "SEM only" on any number."""
        return self.tem is not None or self.mofa is not None

    def embed_frames(self, x: torch.Tensor) -> torch.Tensor:
        """SEM on every frame: ``(B, T, J, 2) -> (B, T, C)`` for any number of frames T.

        SEM sees one frame at a time, so in eval mode (BatchNorm with running statistics) the
        token of a frame does not depend on the other frames: a whole sequence can be embedded
        once and its N-frame windows of tokens handed to :meth:`lift_tokens`, instead of
        embedding every frame N times, once per window. (In training mode BatchNorm takes its
        statistics over the batch, and the tokens depend on what else is in it.)
        """
        check_input(x, None, self.cfg.joints)
        return self.sem(x)

    def lift_tokens(self, h: torch.Tensor) -> LiftOutput:
        """TEM, the heads and MOFA on the SEM tokens of one window: ``(B, N, C) -> LiftOutput``."""
        C, N = self.cfg.channel, self.cfg.frames
        if h.dim() != 3 or h.shape[2] != C or (self._needs_window and h.shape[1] != N):
            n = N if self._needs_window else "N"
            raise DataError(f"expected SEM tokens of shape (B, {n}, {C}), got {tuple(h.shape)}", key="tokens")
        if self.tem is not None:
            h = self.tem(h)
        if self.mofa is None:
            mid = h.shape[1] // 2
            return LiftOutput(self.head_center(h[:, mid : mid + 1]), None)
        frames = self.head_frames(h)  # (B, N, J, 3)
        center = self.head_center(self.mofa(h))  # (B, 1, J, 3)
        return LiftOutput(center, frames)

    def refine_center(
        self,
        center: torch.Tensor,
        input_2d: torch.Tensor,
        focal: torch.Tensor,
        principal: torch.Tensor,
        root_depth: torch.Tensor,
    ) -> torch.Tensor:
        """Apply the refinement module (``cfg.refine``) to ``center (B, 1, J, 3)``.

        ``input_2d (B, N, J, 2)`` (its middle frame is used), ``focal``/``principal (B, 2)``
        normalised intrinsics, ``root_depth (B,)`` camera-frame depth of the root joint.
        See ``pstmo.models.refine``.
        """
        if self.refiner is None:
            raise RuntimeError("this STMO was built with refine=False")
        from pstmo.models.refine import backproject

        mid = input_2d.shape[1] // 2
        xyz = backproject(input_2d[:, mid : mid + 1], center[..., 2], focal, principal, root_depth)
        return self.refiner(center, xyz)

    def load_pretrained_encoder(self, source: nn.Module | Mapping[str, torch.Tensor]) -> list[str]:
        """Copy the pre-trained SEM + TEM (incl. TEM's positional embedding) from Stage I.

        ``source``: an ``MPM`` module or its ``state_dict()`` (optionally ``module.``-prefixed),
        as the official fine-tuning does; an official Stage I ``.pth`` is mapped to these names
        by :func:`pstmo.checkpoint.read_encoder_state`. Returns the names copied; raises ``CheckpointError`` if a
        SEM/TEM tensor is missing from the source or has another shape.
        """
        state = source.state_dict() if isinstance(source, nn.Module) else dict(source)
        state = {k.removeprefix("module."): v for k, v in state.items()}
        own = {k: v for k, v in self.state_dict().items() if k.startswith(("sem.", "tem."))}
        missing = [k for k in own if k not in state]
        shapes = [
            f"{k}: source {tuple(state[k].shape)} vs model {tuple(v.shape)}"
            for k, v in own.items()
            if k in state and state[k].shape != v.shape
        ]
        if missing or shapes:
            raise CheckpointError(
                "pre-trained encoder does not fit this STMO: "
                + (f"missing {missing}; " if missing else "")
                + (f"shape mismatch {shapes}" if shapes else "")
            )
        self.load_state_dict({k: state[k] for k in own}, strict=False)
        return list(own)
