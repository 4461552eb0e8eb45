"""Model configurations: ``STMOConfig``, the paper presets and the ablation variants.

Presets (P-STMO paper, Sec. 4 and supplementary): channel C = 256, FFN hidden H = 512,
8 heads; ``p-stmo-s`` has 3 TEM layers, ``p-stmo`` 4. MOFA's strides depend on N (the
official table, ``official_strides``). ``liftformer`` returns a ``LiftFormerConfig``.

``ABLATIONS`` names the rows of the paper's Table 3 (components) and Table 4 (SEM
backbones) as overrides of ``p-stmo-s``; ``get_config("p-stmo-s", **ABLATIONS[name])``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from pstmo.registry import PRESETS as _REGISTRY_PRESETS

#: MOFA strides of the official code per number of input frames N (product = N).
OFFICIAL_STRIDES: dict[int, tuple[int, ...]] = {
    9: (1, 3, 3),
    27: (3, 3, 3),
    81: (3, 3, 3, 3),
    243: (3, 3, 3, 3, 3),
    351: (3, 9, 13),
}

SEM_KINDS = ("mlp", "fc", "transformer")
COMPONENTS = ("sem", "tem", "mofa")
ATTENTIONS = ("sdpa", "reference")  # pstmo.models.layers: fused sdpa or the explicit softmax


def official_strides(frames: int) -> tuple[int, ...]:
    """MOFA strides of the official code for ``frames`` input frames (9, 27, 81, 243, 351)."""
    if frames not in OFFICIAL_STRIDES:
        raise ValueError(
            f"no official MOFA strides for N={frames} (known: {sorted(OFFICIAL_STRIDES)}); "
            "pass strides=(...) whose product is N"
        )
    return OFFICIAL_STRIDES[frames]


def check_sizes(owner: str, dropout: float | None = None, **sizes: int | None) -> None:
    """Raise ``ValueError`` unless every size is an integer >= 1 (None: not set) and ``dropout``
    is in [0, 1): ``check_sizes("STMOConfig", heads=8, layers=0)`` -> "STMOConfig: layers must be ...".
    """
    for name, value in sizes.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{owner}: {name} must be an integer >= 1, got {value!r}")
    if dropout is not None and not (isinstance(dropout, (int, float)) and 0 <= dropout < 1):
        raise ValueError(f"{owner}: dropout must be a probability in [0, 1), got {dropout!r}")


@dataclass
class STMOConfig:
    """Configuration of P-STMO's STMO (Stage II) and of its MPM pre-training model (Stage I).

    frames: N input frames (odd). layers: TEM layers (the MPM decoder has ``layers - 1``).
    channel: C, token width of TEM/MOFA. hidden: H, FFN width. heads: attention heads.
    strides: MOFA strides (None -> ``official_strides(frames)``).
    sem: SEM backbone, ``"mlp"`` (the paper's), ``"fc"`` (one linear layer, Li et al.) or
    ``"transformer"`` (PoseFormer-style spatial self-attention over the J joints; needs
    ``channel % joints == 0``, per-joint width ``channel // joints``).
    sem_blocks: L residual sub-blocks of the MLP SEM, or spatial transformer blocks.
    sem_hidden: width of the MLP SEM (None -> 2 * channel, the official value).
    components: which of SEM / TEM / MOFA are used (Table 3); without ``"sem"`` the frames
    are embedded by a single linear layer (the paper's "TEM only" row).
    refine: add the refinement module of the (*) rows (``pstmo.models.refine``).
    attention: ``"sdpa"`` (fused) or ``"reference"`` (explicit softmax), same outputs.
    """

    frames: int = 243
    layers: int = 3
    channel: int = 256
    hidden: int = 512
    heads: int = 8
    joints: int = 17
    strides: tuple[int, ...] | None = None
    sem: str = "mlp"
    sem_blocks: int = 1
    components: tuple[str, ...] = field(default=COMPONENTS)
    dropout: float = 0.1
    refine: bool = False
    attention: str = "sdpa"
    sem_hidden: int | None = None

    def __post_init__(self) -> None:
        self.components = tuple(self.components)
        check_sizes(
            "STMOConfig", self.dropout, frames=self.frames, layers=self.layers, channel=self.channel,
            hidden=self.hidden, heads=self.heads, joints=self.joints, sem_blocks=self.sem_blocks,
            sem_hidden=self.sem_hidden,
        )  # fmt: skip
        if self.strides is not None:
            self.strides = tuple(int(s) for s in self.strides)
        if self.sem not in SEM_KINDS:
            raise ValueError(f"sem must be one of {SEM_KINDS}, got {self.sem!r}")
        bad = [c for c in self.components if c not in COMPONENTS]
        if bad or not self.components:
            raise ValueError(f"components must be a non-empty subset of {COMPONENTS}, got {self.components}")
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {self.attention!r}")
        if self.frames < 1 or self.frames % 2 == 0:
            raise ValueError(f"frames must be odd (a centre frame), got {self.frames}")
        if self.channel % self.heads:
            raise ValueError(f"channel {self.channel} must be divisible by heads {self.heads}")
        if "mofa" in self.components:
            strides = self.mofa_strides
            prod = 1
            for s in strides:
                prod *= s
            if prod != self.frames:
                raise ValueError(
                    f"MOFA strides {strides} reduce {self.frames} frames to {self.frames / prod}, not 1"
                )

    @property
    def mofa_strides(self) -> tuple[int, ...]:
        return self.strides if self.strides is not None else official_strides(self.frames)

    @property
    def sem_width(self) -> int:
        return self.sem_hidden if self.sem_hidden is not None else 2 * self.channel

    def replace(self, **overrides: Any) -> STMOConfig:
        return dataclasses.replace(self, **overrides)


@dataclass
class LiftFormerConfig:
    """LiftFormer hyper-parameters; the defaults are the paper's base model (18.96M parameters).

    ``frames`` is the receptive field N (27, 81 or 243 in the paper), ``dim`` the hidden size d
    ("hd" in Table 7), ``heads`` the number of attention heads, ``blocks`` the number of encoder
    blocks B, ``ff_dim`` the feed-forward size (2048 in every experiment of the paper).
    """

    frames: int = 243
    dim: int = 512
    heads: int = 8
    blocks: int = 6
    ff_dim: int = 2048
    dropout: float = 0.1
    weight_sharing: bool = False
    causal: bool = False
    attention: str = "sdpa"
    joints: int = 17

    def __post_init__(self) -> None:
        check_sizes(
            "LiftFormerConfig", self.dropout, frames=self.frames, dim=self.dim, heads=self.heads,
            blocks=self.blocks, ff_dim=self.ff_dim, joints=self.joints,
        )  # fmt: skip
        if self.dim % self.heads != 0:
            raise ValueError(f"LiftFormerConfig: dim={self.dim} must be divisible by heads={self.heads}")
        if self.attention not in ATTENTIONS:
            raise ValueError(
                f"LiftFormerConfig: attention must be one of {ATTENTIONS}, got {self.attention!r}"
            )


#: Stage I (MPM) is configured by the same dataclass: it shares SEM + TEM with Stage II.
MPMConfig = STMOConfig

#: The papers' model names (:data:`pstmo.registry.PRESETS`), in order.
PRESETS: tuple[str, ...] = tuple(_REGISTRY_PRESETS)

_STMO_PRESETS: dict[str, dict[str, Any]] = {
    "p-stmo-s": dict(layers=3, channel=256, hidden=512, heads=8),
    "p-stmo": dict(layers=4, channel=256, hidden=512, heads=8),
}

#: Paper ablations as overrides of ``p-stmo-s`` (Table 3: N = 243; Table 4: N = 243 / 81).
ABLATIONS: dict[str, dict[str, Any]] = {
    "table3/sem": dict(frames=243, components=("sem",)),
    "table3/tem": dict(frames=243, components=("tem",)),
    "table3/sem+tem": dict(frames=243, components=("sem", "tem")),
    "table3/sem+tem+mofa": dict(frames=243, components=("sem", "tem", "mofa")),
    "table4/fc": dict(frames=243, sem="fc", components=("sem", "tem")),
    "table4/transformer": dict(
        frames=81, sem="transformer", sem_blocks=3, channel=544, hidden=1088, components=("sem", "tem")
    ),
    "table4/mlp-l1": dict(frames=243, sem_blocks=1, components=("sem", "tem")),
    "table4/mlp-l2": dict(frames=243, sem_blocks=2, components=("sem", "tem")),
    "table4/mlp-l3": dict(frames=243, sem_blocks=3, components=("sem", "tem")),
}


def get_config(preset: str, **overrides: Any):
    """Configuration of a preset (``PRESETS``) with field overrides, e.g. ``frames=81``."""
    info = _REGISTRY_PRESETS.get(preset)
    if info is None:
        raise ValueError(f"unknown preset {preset!r}; choose one of {PRESETS}")
    if info.family == "liftformer":
        return LiftFormerConfig(**overrides)
    return STMOConfig(**{**_STMO_PRESETS[preset], **overrides})
