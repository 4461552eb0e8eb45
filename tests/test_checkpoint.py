"""Checkpoints: strict loading with a readable error, unreadable files, official Stage I weights."""

from __future__ import annotations

import pytest
import torch

from pstmo.checkpoint import build_model, load_checkpoint, load_model, read_encoder_state, save_model
from pstmo.errors import CheckpointError
from pstmo.official import export_official_state_dict
from pstmo.state import load_state_strict


def test_checkpoint_into_other_configuration_fails_clearly(toy_cfg, tmp_path):
    cfg = toy_cfg()
    path = save_model(build_model(cfg), cfg, tmp_path / "a.pt")
    other = build_model(toy_cfg(model_overrides={"dim": 24}))
    with pytest.raises(
        CheckpointError, match=r"a.pt: does not fit LiftFormer.*shape mismatches, e.g. .*\(16"
    ):
        load_state_strict(other, load_checkpoint(path)["model"], source=str(path))
    model, info = load_model(path)
    assert info.config == cfg and info.frames == 9 and info.skeleton.num_joints == 17


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (lambda p: torch.save({"x": 1}, p), "not a pstmo checkpoint"),
        (lambda p: p.write_bytes(b"garbage"), "cannot be read as a torch checkpoint"),
        (lambda p: p.write_bytes(b""), "cannot be read as a torch checkpoint"),
        (lambda p: p.mkdir(), "is a directory"),
    ],
)
def test_unreadable_checkpoints_are_one_sentence(tmp_path, content, match):
    path = tmp_path / "bad.pt"
    content(path)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_truncated_checkpoint(toy_cfg, tmp_path):
    cfg = toy_cfg()
    path = save_model(build_model(cfg), cfg, tmp_path / "a.pt")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_model(path)


def test_official_stage1_weights_initialise_stage2(official_tiny, toy_cfg):
    """``--pretrained`` accepts an official Stage I .pth: its SEM + TEM reach the Stage II model."""
    path, data = official_tiny("stage1")
    state = torch.load(path, weights_only=True)
    encoder = read_encoder_state(path)
    cfg = toy_cfg("lift", "p-stmo-s", frames=int(data["config/frames"]),
                  model_overrides={"channel": int(data["config/channel"]), "hidden": int(data["config/d_hid"]),
                                   "layers": int(data["config/layers"]), "heads": 8})  # fmt: skip
    model = build_model(cfg)
    copied = model.load_pretrained_encoder(encoder)
    assert copied and all(k.startswith(("sem.", "tem.")) for k in copied)
    compared = 0
    for name, tensor in export_official_state_dict(model).items():
        if name.startswith(("encoder.", "Transformer.")) and "module." + name in state:
            assert torch.equal(tensor, state["module." + name]), name
            compared += 1
    assert compared == len(copied)  # every copied SEM/TEM tensor equals the official one
