"""Official P-STMO equivalence: the reference fixture, checkpoint loading, name mapping, verify CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import SHARED

from pstmo.checkpoint import read_encoder_state
from pstmo.cli import main
from pstmo.errors import CheckpointError
from pstmo.models import MPM, STMO, get_config
from pstmo.official.weights import (
    config_from_state_dict,
    export_official_state_dict,
    load_official_checkpoint,
    official_to_pstmo,
    pstmo_to_official,
)

FIXTURE = SHARED / "fixtures" / "official_pstmo_tiny.npz"
SHAPES = SHARED / "reference" / "official_pstmo_state_dict_shapes.json"


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"shared reference file not found: {path}")


@pytest.fixture(scope="module")
def fixture():
    _need(FIXTURE)
    return dict(np.load(FIXTURE))


def _sd(f: dict, stage: str) -> dict[str, torch.Tensor]:
    prefix = f"{stage}/state_dict/"
    return {k[len(prefix) :]: torch.from_numpy(np.array(v)) for k, v in f.items() if k.startswith(prefix)}


def _ours(arr: np.ndarray) -> torch.Tensor:
    """Official layout (B, C, N, J, 1) -> ours (B, N, J, C)."""
    return torch.from_numpy(arr)[..., 0].permute(0, 2, 3, 1)


@pytest.mark.parametrize("attention", ["reference", "sdpa"])
def test_stage2_matches_official(fixture, attention):
    sd = _sd(fixture, "stage2")
    cfg = get_config(
        "p-stmo-s",
        frames=int(fixture["config/frames"]),
        layers=int(fixture["config/layers"]),
        channel=int(fixture["config/channel"]),
        hidden=int(fixture["config/d_hid"]),
        strides=tuple(int(s) for s in fixture["config/stride_num"]),
        attention=attention,
    )
    model = load_official_checkpoint(STMO(cfg), sd).eval()
    with torch.no_grad():
        out = model(_ours(fixture["stage2/input"]))
    assert (out.center - _ours(fixture["stage2/output_single"])).abs().max() < 1e-5
    assert (out.frames - _ours(fixture["stage2/output_multi"])).abs().max() < 1e-5


@pytest.mark.parametrize("attention", ["reference", "sdpa"])
def test_stage1_matches_official(fixture, attention):
    sd = _sd(fixture, "stage1")
    cfg = config_from_state_dict(
        sd, strides=tuple(int(s) for s in fixture["config/stride_num"]), attention=attention
    )
    assert (cfg.layers, cfg.channel, cfg.hidden) == tuple(
        int(fixture[f"config/{k}"]) for k in ("layers", "channel", "d_hid")
    )
    model = load_official_checkpoint(MPM(cfg), sd).eval()
    t = torch.from_numpy(fixture["stage1/temporal_mask"])
    s = torch.from_numpy(fixture["stage1/spatial_mask"])
    x = _ours(fixture["stage1/input"])
    expected = _ours(fixture["stage1/output"])  # official token order: visible frames, then masked
    with torch.no_grad():
        official = model(x, t, s, official_order=True)
        timed = model(x, t, s)
    assert (official - expected).abs().max() < 1e-5
    order = torch.cat([torch.nonzero(~t), torch.nonzero(t)]).flatten()
    assert (timed[:, order] - expected).abs().max() < 1e-5


def test_official_stage1_encoder_into_stage2(fixture, tmp_path):
    sd1 = _sd(fixture, "stage1")
    cfg = config_from_state_dict(_sd(fixture, "stage2"), strides=(3, 3, 3))
    model = STMO(cfg)
    path = tmp_path / "official_stage1.pth"  # as the official run.py saves it (DataParallel names)
    torch.save({f"module.{k}": v for k, v in sd1.items()}, path)
    model.load_pretrained_encoder(read_encoder_state(path))
    assert torch.equal(model.tem.pos_embeds[0], sd1["Transformer.pos_embedding"])
    assert torch.equal(model.sem.fc_in.weight, sd1["encoder.fc_1.weight"])
    assert torch.equal(
        model.tem.layers[1].attn.v.weight, sd1["Transformer.model.layers.1.self_attn.linears.2.weight"]
    )


@pytest.mark.parametrize("wrapper", [None, "model_pos", "model", "state_dict"])
def test_load_checkpoint_file_with_wrappers_and_module_prefix(fixture, tmp_path, wrapper):
    sd = {f"module.{k}": v for k, v in _sd(fixture, "stage2").items()}
    obj = sd if wrapper is None else {wrapper: sd, "epoch": 3}
    path = tmp_path / "ckpt.pth"
    torch.save(obj, path)
    model = STMO(config_from_state_dict(sd, strides=(3, 3, 3)))
    load_official_checkpoint(model, path)
    assert torch.equal(model.head_frames.conv.weight, sd["module.fcn_1.1.weight"])
    assert torch.equal(model.mofa.pos_embeds[2], sd["module.Transformer_reduce.model.pos_embedding_3"])


def test_load_checkpoint_reports_problems(fixture, tmp_path):
    sd = _sd(fixture, "stage2")
    model = STMO(config_from_state_dict(sd, strides=(3, 3, 3)))
    bad = dict(sd)
    bad["extra.weight"] = torch.zeros(1)
    del bad["fcn.1.bias"]
    bad["encoder.fc_2.weight"] = torch.zeros(5, 5, 1)
    with pytest.raises(CheckpointError) as err:
        load_official_checkpoint(model, bad)
    msg = str(err.value)
    assert "extra.weight" in msg and "head_center.conv.bias" in msg and "sem.fc_out.weight" in msg
    with pytest.raises(CheckpointError, match="no such"):
        load_official_checkpoint(model, tmp_path / "missing.pth")
    torch.save({"optimizer": {"lr": 1}}, tmp_path / "odd.pth")
    with pytest.raises(CheckpointError, match="model_pos"):
        load_official_checkpoint(model, tmp_path / "odd.pth")
    with pytest.raises(CheckpointError, match="MPM"):  # a Stage II checkpoint into a Stage I model
        load_official_checkpoint(MPM(config_from_state_dict(sd, strides=(3, 3, 3))), sd)


def _shape_configs():
    if not SHAPES.exists():
        return []
    return sorted(json.loads(SHAPES.read_text()))


@pytest.mark.parametrize("key", _shape_configs() or ["<missing>"])
def test_name_mapping_against_every_released_configuration(key):
    _need(SHAPES)
    shapes = json.loads(SHAPES.read_text())[key]
    stage, name = key.split("/")
    preset, frames = name.rsplit("_", 1)
    meta = {k: torch.empty(v, device="meta") for k, v in shapes.items()}
    cfg = config_from_state_dict(meta)
    assert cfg.frames == int(frames)
    assert cfg.layers == {"P-STMO-S": 3, "P-STMO": 4}[preset]
    assert (cfg.channel, cfg.hidden) == (256, 512)
    with torch.device("meta"):
        model = STMO(cfg) if stage == "stage2" else MPM(cfg)
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    mapped = {official_to_pstmo(k): tuple(v) for k, v in shapes.items()}
    assert None not in mapped, [k for k in shapes if official_to_pstmo(k) is None]
    assert set(mapped) == set(ours)  # nothing unmatched either way
    assert mapped == ours
    assert {pstmo_to_official(k) for k in ours} == set(shapes)


def test_verify_cli_on_reference_fixture(capsys):
    _need(FIXTURE)
    assert main(["official", "verify", str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    assert "stage2/output_single" in out and "stage1/output" in out and "PASS" in out


def test_verify_cli_fails_on_tampered_fixture(fixture, tmp_path, capsys):
    data = dict(fixture)
    data["stage2/output_multi"] = data["stage2/output_multi"] + 1e-3
    np.savez(tmp_path / "bad.npz", **data)
    assert main(["official", "verify", str(tmp_path / "bad.npz")]) == 1
    assert "FAIL" in capsys.readouterr().out
    del data["stage1/input"]
    np.savez(tmp_path / "broken.npz", **data)
    assert main(["official", "verify", str(tmp_path / "broken.npz")]) == 2  # one line, no traceback
    assert "key 'stage1/input': missing" in capsys.readouterr().err


def test_verify_cli_derives_other_sizes(tmp_path):
    """A fixture of the same format with other N / layers / widths: everything comes from config + shapes."""
    torch.manual_seed(0)
    frames, strides = 9, (1, 3, 3)
    cfg = get_config("p-stmo", frames=frames, channel=48, hidden=80, sem_blocks=2, attention="reference")
    stmo, mpm = STMO(cfg), MPM(cfg)
    for m in (stmo, mpm):  # random BN statistics so that eval mode matters
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm1d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
        m.eval()
    x2, x1 = torch.randn(2, frames, 17, 2), torch.randn(2, frames, 17, 2)
    t = torch.tensor([True, False, True, True, False, True, True, True, False])
    s = torch.zeros(frames, 17, dtype=torch.bool)
    s[:, 3] = True
    with torch.no_grad():
        out, rec = stmo(x2), mpm(x1, t, s, official_order=True)

    def official(a: torch.Tensor) -> np.ndarray:  # (B, N, J, C) -> (B, C, N, J, 1)
        return a.permute(0, 3, 1, 2).unsqueeze(-1).numpy()

    data = {
        "config/frames": np.array(frames),
        "config/layers": np.array(cfg.layers),
        "config/channel": np.array(48),
        "config/d_hid": np.array(80),
        "config/stride_num": np.array(strides),
        "config/spatial_mask_num": np.array(1),
        "config/temporal_mask_ratio": np.array(0.6),
        "stage2/input": official(x2),
        "stage2/output_single": official(out.center),
        "stage2/output_multi": official(out.frames),
        "stage1/input": official(x1),
        "stage1/temporal_mask": t.numpy(),
        "stage1/spatial_mask": s.numpy(),
        "stage1/output": official(rec),
    }
    for stage, m in (("stage2", stmo), ("stage1", mpm)):
        for k, v in export_official_state_dict(m).items():
            data[f"{stage}/state_dict/{k}"] = v.numpy()
    np.savez(tmp_path / "other.npz", **data)
    assert main(["official", "verify", str(tmp_path / "other.npz"), "--attention", "sdpa"]) == 0
