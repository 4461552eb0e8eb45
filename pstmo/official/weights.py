"""Load released official P-STMO checkpoints into ``pstmo`` models.

The official code names modules after its classes (``encoder.fc_1``,
``Transformer.model.layers.0.self_attn.linears.0``, ``fcn_1.0``...); ``pstmo`` uses
readable names. ``OFFICIAL_NAME_PAIRS`` is the translation table, read in both directions
(``official_to_pstmo``, ``pstmo_to_official``):

=============================================  =========================================
official                                       pstmo
=============================================  =========================================
encoder.fc_1 / bn_1 / fc_2                     sem.fc_in / sem.bn_in / sem.fc_out
encoder.layers.i.w1 / batch_norm1 / w2 / ...   sem.blocks.i.conv1 / bn1 / conv2 / bn2
Transformer.pos_embedding                      tem.pos_embeds.0
Transformer.model.layers.i.<layer>             tem.layers.i.<layer>
Transformer.model.norm                         tem.final_norm (built, never applied)
Transformer_reduce.model.pos_embedding_k       mofa.pos_embeds.(k-1)
Transformer_reduce.model.layers.i.<layer>      mofa.layers.i.<layer>
fcn_1.0 / fcn_1.1                              head_frames.bn / head_frames.conv
fcn.0 / fcn.1                                  head_center.bn / head_center.conv
spatial_mask_token / mask_token                spatial_token (e^S) / mask_token (e^T)
encoder_LN / encoder_to_decoder                encoder_norm / to_decoder
dec_pos_embedding                              dec_pos_embed
Transformer_dec.model.*                        decoder.*
fcn_dec.0 / fcn_dec.1                          head.bn / head.conv
=============================================  =========================================

and inside a layer ``<layer>``: ``self_attn.linears.0..3`` -> ``attn.q/k/v/proj``,
``sublayer.0.norm.a_2/b_2`` -> ``attn_norm.weight/bias``, ``sublayer.1.norm`` ->
``ffn_norm``, ``feed_forward.w_1/w_2`` -> ``ffn.fc1/fc2``.

``load_official_checkpoint(model, path_or_state_dict)`` accepts a torch file holding a
bare state dict or a dict with one under ``model_pos`` / ``model`` / ``state_dict`` /
``model_state_dict`` (and the official ``module.`` prefixes), maps the names and loads them
strictly: anything unmatched, missing or of another shape raises ``CheckpointError`` with
the full list.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pstmo.errors import CheckpointError

#: (official, pstmo) name pairs, read both ways. ``{i}`` stands for a layer / block index; a
#: name ending in "." is a module prefix (``weight``, ``bias``, ``running_mean``... follow),
#: any other name is a whole parameter name.
_LAYER_PAIRS: list[tuple[str, str]] = [
    ("self_attn.linears.0.", "attn.q."),
    ("self_attn.linears.1.", "attn.k."),
    ("self_attn.linears.2.", "attn.v."),
    ("self_attn.linears.3.", "attn.proj."),
    ("sublayer.0.norm.a_2", "attn_norm.weight"),
    ("sublayer.0.norm.b_2", "attn_norm.bias"),
    ("sublayer.1.norm.a_2", "ffn_norm.weight"),
    ("sublayer.1.norm.b_2", "ffn_norm.bias"),
    ("feed_forward.w_1.", "ffn.fc1."),
    ("feed_forward.w_2.", "ffn.fc2."),
]
_STACKS = {"Transformer": "tem", "Transformer_reduce": "mofa", "Transformer_dec": "decoder"}

OFFICIAL_NAME_PAIRS: list[tuple[str, str]] = [
    ("encoder.fc_1.", "sem.fc_in."),
    ("encoder.bn_1.", "sem.bn_in."),
    ("encoder.fc_2.", "sem.fc_out."),
    ("encoder.layers.{i}.w1.", "sem.blocks.{i}.conv1."),
    ("encoder.layers.{i}.batch_norm1.", "sem.blocks.{i}.bn1."),
    ("encoder.layers.{i}.w2.", "sem.blocks.{i}.conv2."),
    ("encoder.layers.{i}.batch_norm2.", "sem.blocks.{i}.bn2."),
    ("Transformer.pos_embedding", "tem.pos_embeds.0"),
    ("Transformer_reduce.model.pos_embedding_1", "mofa.pos_embeds.0"),
    ("Transformer_reduce.model.pos_embedding_2", "mofa.pos_embeds.1"),
    ("Transformer_reduce.model.pos_embedding_3", "mofa.pos_embeds.2"),
    *[
        pair
        for official, ours in _STACKS.items()
        for pair in [
            (f"{official}.model.norm.a_2", f"{ours}.final_norm.weight"),
            (f"{official}.model.norm.b_2", f"{ours}.final_norm.bias"),
            *[(f"{official}.model.layers.{{i}}.{a}", f"{ours}.layers.{{i}}.{b}") for a, b in _LAYER_PAIRS],
        ]
    ],
    ("fcn_1.0.", "head_frames.bn."),
    ("fcn_1.1.", "head_frames.conv."),
    ("fcn.0.", "head_center.bn."),
    ("fcn.1.", "head_center.conv."),
    ("fcn_dec.0.", "head.bn."),
    ("fcn_dec.1.", "head.conv."),
    ("spatial_mask_token", "spatial_token"),
    ("mask_token", "mask_token"),
    ("encoder_LN.a_2", "encoder_norm.weight"),
    ("encoder_LN.b_2", "encoder_norm.bias"),
    ("encoder_to_decoder.", "to_decoder."),
    ("dec_pos_embedding", "dec_pos_embed"),
]


def _pattern(name: str) -> re.Pattern[str]:
    """``OFFICIAL_NAME_PAIRS`` entry -> regex: ``{i}`` captures an index, a prefix the rest."""
    body = re.escape(name).replace(re.escape("{i}"), r"(?P<i>\d+)")
    return re.compile(f"^{body}" + ("(?P<rest>.+)$" if name.endswith(".") else "$"))


_TO_PSTMO = [(_pattern(official), ours) for official, ours in OFFICIAL_NAME_PAIRS]
_TO_OFFICIAL = [(_pattern(ours), official) for official, ours in OFFICIAL_NAME_PAIRS]

_WRAPPER_KEYS = ("model_pos", "model", "state_dict", "model_state_dict", "net")


def _translate(name: str, table: list[tuple[re.Pattern[str], str]]) -> str | None:
    for pattern, target in table:
        m = pattern.match(name)
        if m:
            groups = m.groupdict()
            return target.replace("{i}", groups.get("i") or "") + (groups.get("rest") or "")
    return None


def official_to_pstmo(name: str) -> str | None:
    """The ``pstmo`` name of an official state-dict name (``module.`` stripped), or None."""
    return _translate(name.removeprefix("module."), _TO_PSTMO)


def pstmo_to_official(name: str) -> str | None:
    """The official name of a ``pstmo`` state-dict name (inverse of ``official_to_pstmo``), or None."""
    return _translate(name, _TO_OFFICIAL)


def export_official_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """``model.state_dict()`` under official names (to write checkpoints the official code can read)."""
    out = {}
    for k, v in model.state_dict().items():
        name = pstmo_to_official(k)
        if name is None:
            raise CheckpointError(f"{type(model).__name__}.{k} has no official counterpart")
        out[name] = v
    return out


def map_official_state_dict(state: Mapping[str, Any]) -> dict[str, Any]:
    """Rename an official state dict to ``pstmo`` names; raises ``CheckpointError`` on unknown names."""
    out, unknown = {}, []
    for k, v in state.items():
        new = official_to_pstmo(k)
        if new is None:
            unknown.append(k)
        else:
            out[new] = v
    if unknown:
        raise CheckpointError(f"{len(unknown)} official names have no pstmo counterpart: {unknown}")
    return out


def read_state_dict(path_or_state_dict: str | os.PathLike | Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """A flat state dict from a checkpoint path or mapping: unwraps ``model_pos`` etc., strips ``module.``."""
    where = "state dict"
    obj: Any = path_or_state_dict
    if isinstance(obj, (str, os.PathLike)):
        where = str(obj)
        if not Path(obj).is_file():
            raise CheckpointError(f"{where}: no such checkpoint file")
        try:
            obj = torch.load(obj, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - re-raised with the path
            raise CheckpointError(f"{where}: cannot read as a torch checkpoint ({exc})") from exc
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{where}: expected a dict of tensors, got {type(obj).__name__}")
    if not any(isinstance(v, torch.Tensor) for v in obj.values()):
        for key in _WRAPPER_KEYS:
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                where += f"[{key!r}]"
                break
        else:
            raise CheckpointError(
                f"{where}: no state dict found; top-level keys {sorted(map(str, obj))[:20]}, "
                f"expected tensors or one of {list(_WRAPPER_KEYS)}"
            )
    state = {}
    for k, v in obj.items():
        if not isinstance(v, torch.Tensor):
            continue
        state[str(k).removeprefix("module.")] = v
    return state


def load_official_checkpoint(
    model: nn.Module, path_or_state_dict: str | os.PathLike | Mapping[str, Any]
) -> nn.Module:
    """Load official P-STMO weights (Stage II into ``STMO``, Stage I into ``MPM``) strictly.

    Accepts a checkpoint path or a state dict, with official names (or already ``pstmo``
    names). Raises ``CheckpointError`` listing official names with no counterpart in the
    model, model names the checkpoint lacks, and shape mismatches. Returns ``model``.
    """
    where = str(path_or_state_dict) if isinstance(path_or_state_dict, (str, os.PathLike)) else "state dict"
    state = read_state_dict(path_or_state_dict)
    own = model.state_dict()
    mapped: dict[str, torch.Tensor] = {}
    unmatched: list[str] = []
    for k, v in state.items():
        new = k if k in own else official_to_pstmo(k)
        if new is None or new not in own:
            unmatched.append(k if new is None else f"{k} (-> {new})")
        else:
            mapped[new] = v
    missing = [k for k in own if k not in mapped]
    shapes = [
        f"{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}"
        for k, v in mapped.items()
        if v.shape != own[k].shape
    ]
    if unmatched or missing or shapes:
        parts = [f"{where} does not fit {type(model).__name__}:"]
        if unmatched:
            parts.append(f"  {len(unmatched)} unmatched checkpoint names: {unmatched}")
        if missing:
            parts.append(f"  {len(missing)} model names missing from the checkpoint: {missing}")
        if shapes:
            parts.append(f"  {len(shapes)} shape mismatches: {shapes}")
        raise CheckpointError("\n".join(parts))
    model.load_state_dict(mapped, strict=True)
    return model


def config_from_state_dict(state: Mapping[str, Any], frames: int | None = None, **overrides: Any):
    """Infer an ``STMOConfig`` (N, layers, C, H, SEM width/blocks, MOFA layers) from an official state dict.

    Works for Stage II and Stage I state dicts; MOFA strides need ``overrides["strides"]``
    unless N has an official stride table. Heads cannot be read from shapes (default 8).
    """
    from pstmo.models.config import STMOConfig

    state = {k.removeprefix("module."): v for k, v in state.items()}

    def shape(name: str) -> tuple[int, ...]:
        if name not in state:
            raise CheckpointError(f"state dict lacks {name!r}, needed to infer the configuration")
        return tuple(state[name].shape)

    pos = shape("Transformer.pos_embedding")
    n = frames if frames is not None else pos[1]
    channel = pos[2]
    tem_layers = {
        int(m.group(1)) for k in state if (m := re.match(r"^Transformer\.model\.layers\.(\d+)\.", k))
    }
    hidden = shape("Transformer.model.layers.0.feed_forward.w_1.weight")[0]
    blocks = {int(m.group(1)) for k in state if (m := re.match(r"^encoder\.layers\.(\d+)\.", k))}
    kwargs: dict[str, Any] = dict(
        frames=n,
        layers=len(tem_layers),
        channel=channel,
        hidden=hidden,
        sem_hidden=shape("encoder.fc_1.weight")[0],
        sem_blocks=len(blocks),
        joints=shape("encoder.fc_1.weight")[1] // 2,
    )
    if not any(k.startswith("Transformer_reduce.") for k in state):
        kwargs["components"] = ("sem", "tem") if "fcn.0.weight" in state else ("sem", "tem", "mofa")
    kwargs.update(overrides)
    return STMOConfig(**kwargs)
