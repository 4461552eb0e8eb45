"""Load released official P-STMO checkpoints into ``pstmo`` models.

The official code names modules after its classes (``encoder.fc_1``,
``Transformer.model.layers.0.self_attn.linears.0``, ``fcn_1.0``...); ``pstmo`` uses
readable names. ``OFFICIAL_NAME_MAP`` is the translation table (regular expressions,
applied in order; the first match wins):

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

_LAYER_MAP: list[tuple[str, str]] = [
    (r"self_attn\.linears\.0\.", "attn.q."),
    (r"self_attn\.linears\.1\.", "attn.k."),
    (r"self_attn\.linears\.2\.", "attn.v."),
    (r"self_attn\.linears\.3\.", "attn.proj."),
    (r"sublayer\.0\.norm\.a_2$", "attn_norm.weight"),
    (r"sublayer\.0\.norm\.b_2$", "attn_norm.bias"),
    (r"sublayer\.1\.norm\.a_2$", "ffn_norm.weight"),
    (r"sublayer\.1\.norm\.b_2$", "ffn_norm.bias"),
    (r"feed_forward\.w_1\.", "ffn.fc1."),
    (r"feed_forward\.w_2\.", "ffn.fc2."),
]

_STACKS = {"Transformer": "tem", "Transformer_reduce": "mofa", "Transformer_dec": "decoder"}

#: Official name pattern -> pstmo name (``re.sub`` replacement), first match wins.
OFFICIAL_NAME_MAP: list[tuple[str, str]] = [
    (r"^encoder\.fc_1\.", "sem.fc_in."),
    (r"^encoder\.bn_1\.", "sem.bn_in."),
    (r"^encoder\.fc_2\.", "sem.fc_out."),
    (r"^encoder\.layers\.(\d+)\.w1\.", r"sem.blocks.\1.conv1."),
    (r"^encoder\.layers\.(\d+)\.batch_norm1\.", r"sem.blocks.\1.bn1."),
    (r"^encoder\.layers\.(\d+)\.w2\.", r"sem.blocks.\1.conv2."),
    (r"^encoder\.layers\.(\d+)\.batch_norm2\.", r"sem.blocks.\1.bn2."),
    (r"^Transformer\.pos_embedding$", "tem.pos_embeds.0"),
    (r"^Transformer_reduce\.model\.pos_embedding_1$", "mofa.pos_embeds.0"),
    (r"^Transformer_reduce\.model\.pos_embedding_2$", "mofa.pos_embeds.1"),
    (r"^Transformer_reduce\.model\.pos_embedding_3$", "mofa.pos_embeds.2"),
    (r"^(Transformer|Transformer_reduce|Transformer_dec)\.model\.norm\.a_2$", r"<\1>.final_norm.weight"),
    (r"^(Transformer|Transformer_reduce|Transformer_dec)\.model\.norm\.b_2$", r"<\1>.final_norm.bias"),
    (r"^(Transformer|Transformer_reduce|Transformer_dec)\.model\.layers\.(\d+)\.", r"<\1>.layers.\2."),
    (r"^fcn_1\.0\.", "head_frames.bn."),
    (r"^fcn_1\.1\.", "head_frames.conv."),
    (r"^fcn\.0\.", "head_center.bn."),
    (r"^fcn\.1\.", "head_center.conv."),
    (r"^fcn_dec\.0\.", "head.bn."),
    (r"^fcn_dec\.1\.", "head.conv."),
    (r"^spatial_mask_token$", "spatial_token"),
    (r"^mask_token$", "mask_token"),
    (r"^encoder_LN\.a_2$", "encoder_norm.weight"),
    (r"^encoder_LN\.b_2$", "encoder_norm.bias"),
    (r"^encoder_to_decoder\.", "to_decoder."),
    (r"^dec_pos_embedding$", "dec_pos_embed"),
]

_WRAPPER_KEYS = ("model_pos", "model", "state_dict", "model_state_dict", "net")


def official_to_pstmo(name: str) -> str | None:
    """The ``pstmo`` name of an official state-dict name (``module.`` stripped), or None."""
    name = name.removeprefix("module.")
    for pattern, repl in OFFICIAL_NAME_MAP:
        if re.search(pattern, name):
            out = re.sub(pattern, repl, name)
            stack = re.match(r"^<(\w+)>\.", out)
            if stack:
                out = _STACKS[stack.group(1)] + out[stack.end() - 1 :]
                if ".layers." in out:
                    head, _, tail = out.partition(".layers.")
                    idx, _, rest = tail.partition(".")
                    for lp, lr in _LAYER_MAP:
                        if re.search(lp, rest):
                            return f"{head}.layers.{idx}.{re.sub(lp, lr, rest)}"
                    return None
            return out
    return None


_INVERSE_MAP: list[tuple[str, str]] = [
    (r"^sem\.fc_in\.", "encoder.fc_1."),
    (r"^sem\.bn_in\.", "encoder.bn_1."),
    (r"^sem\.fc_out\.", "encoder.fc_2."),
    (r"^sem\.blocks\.(\d+)\.conv1\.", r"encoder.layers.\1.w1."),
    (r"^sem\.blocks\.(\d+)\.bn1\.", r"encoder.layers.\1.batch_norm1."),
    (r"^sem\.blocks\.(\d+)\.conv2\.", r"encoder.layers.\1.w2."),
    (r"^sem\.blocks\.(\d+)\.bn2\.", r"encoder.layers.\1.batch_norm2."),
    (r"^tem\.pos_embeds\.0$", "Transformer.pos_embedding"),
    (r"^mofa\.pos_embeds\.0$", "Transformer_reduce.model.pos_embedding_1"),
    (r"^mofa\.pos_embeds\.1$", "Transformer_reduce.model.pos_embedding_2"),
    (r"^mofa\.pos_embeds\.2$", "Transformer_reduce.model.pos_embedding_3"),
    (r"^(tem|mofa|decoder)\.final_norm\.weight$", r"<\1>.model.norm.a_2"),
    (r"^(tem|mofa|decoder)\.final_norm\.bias$", r"<\1>.model.norm.b_2"),
    (r"^(tem|mofa|decoder)\.layers\.", r"<\1>.model.layers."),
    (r"^head_frames\.bn\.", "fcn_1.0."),
    (r"^head_frames\.conv\.", "fcn_1.1."),
    (r"^head_center\.bn\.", "fcn.0."),
    (r"^head_center\.conv\.", "fcn.1."),
    (r"^head\.bn\.", "fcn_dec.0."),
    (r"^head\.conv\.", "fcn_dec.1."),
    (r"^spatial_token$", "spatial_mask_token"),
    (r"^mask_token$", "mask_token"),
    (r"^encoder_norm\.weight$", "encoder_LN.a_2"),
    (r"^encoder_norm\.bias$", "encoder_LN.b_2"),
    (r"^to_decoder\.", "encoder_to_decoder."),
    (r"^dec_pos_embed$", "dec_pos_embedding"),
]
_LAYER_INVERSE: list[tuple[str, str]] = [
    ("attn.q.", "self_attn.linears.0."),
    ("attn.k.", "self_attn.linears.1."),
    ("attn.v.", "self_attn.linears.2."),
    ("attn.proj.", "self_attn.linears.3."),
    ("attn_norm.weight", "sublayer.0.norm.a_2"),
    ("attn_norm.bias", "sublayer.0.norm.b_2"),
    ("ffn_norm.weight", "sublayer.1.norm.a_2"),
    ("ffn_norm.bias", "sublayer.1.norm.b_2"),
    ("ffn.fc1.", "feed_forward.w_1."),
    ("ffn.fc2.", "feed_forward.w_2."),
]
_INVERSE_STACKS = {"tem": "Transformer", "mofa": "Transformer_reduce", "decoder": "Transformer_dec"}


def pstmo_to_official(name: str) -> str | None:
    """The official name of a ``pstmo`` state-dict name (inverse of ``official_to_pstmo``), or None."""
    for pattern, repl in _INVERSE_MAP:
        if re.search(pattern, name):
            out = re.sub(pattern, repl, name)
            stack = re.match(r"^<(\w+)>\.", out)
            if stack:
                out = _INVERSE_STACKS[stack.group(1)] + out[stack.end() - 1 :]
                if ".model.layers." in out:
                    head, _, tail = out.partition(".model.layers.")
                    idx, _, rest = tail.partition(".")
                    for ours, official in _LAYER_INVERSE:
                        if rest.startswith(ours):
                            return f"{head}.model.layers.{idx}.{official}{rest[len(ours) :]}"
                    return None
            return out
    return None


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
