"""Checkpoints: strict loading with a readable error, unreadable files, official Stage I weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from pstmo.checkpoint import (
    CHECKSUM_KEY,
    build_run_model,
    checksum,
    load_checkpoint,
    load_model,
    official_stage,
    read_encoder_state,
    save_model,
)
from pstmo.errors import CheckpointError
from pstmo.official.weights import export_official_state_dict
from pstmo.state import load_state_strict


def test_checkpoint_into_other_configuration_fails_clearly(toy_cfg, tmp_path):
    cfg = toy_cfg()
    path = save_model(build_run_model(cfg), cfg, tmp_path / "a.pt")
    other = build_run_model(toy_cfg(model_overrides={"dim": 24}))
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
    path = save_model(build_run_model(cfg), cfg, tmp_path / "a.pt")
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
    model = build_run_model(cfg)
    copied = model.load_pretrained_encoder(encoder)
    assert copied and all(k.startswith(("sem.", "tem.")) for k in copied)
    compared = 0
    for name, tensor in export_official_state_dict(model).items():
        if name.startswith(("encoder.", "Transformer.")) and "module." + name in state:
            assert torch.equal(tensor, state["module." + name]), name
            compared += 1
    assert compared == len(copied)  # every copied SEM/TEM tensor equals the official one


# ----------------------------------------------------------------------------------------------
# issue 18: everything read from a checkpoint is checked, in pstmo.checkpoint.validate

DEMO = Path(__file__).resolve().parents[1] / "pstmo" / "data" / "demo" / "p-stmo-s_demo_f27.pt"
SHAPES = (
    Path(__file__).resolve().parents[2] / "shared" / "reference" / "official_pstmo_state_dict_shapes.json"
)


def _saved(toy_cfg, tmp_path, stage="lift", model="p-stmo-s"):
    cfg = toy_cfg(stage, model)
    return save_model(build_run_model(cfg), cfg, tmp_path / f"{stage}.pt"), cfg


def _resave(path, change):
    """Load ``path`` raw, apply ``change(ckpt)`` and write it back with plain ``torch.save``."""
    ckpt = torch.load(path, weights_only=True)
    change(ckpt)
    torch.save(ckpt, path)
    return path


def test_save_writes_a_checksum_that_load_verifies(toy_cfg, tmp_path):
    path, _ = _saved(toy_cfg, tmp_path)
    ckpt = torch.load(path, weights_only=True)
    assert ckpt[CHECKSUM_KEY] == checksum({k: v for k, v in ckpt.items() if k != CHECKSUM_KEY})
    assert ckpt[CHECKSUM_KEY].startswith("sha256:") and len(ckpt[CHECKSUM_KEY]) == 71
    load_checkpoint(path)  # the checksum verifies


def test_a_flipped_byte_in_a_tensor_is_refused_by_name(toy_cfg, tmp_path):
    """torch.load itself does not notice a changed tensor byte; the checksum does."""
    path, _ = _saved(toy_cfg, tmp_path)
    ckpt = torch.load(path, weights_only=True)
    name, tensor = next((k, v) for k, v in ckpt["model"].items() if v.is_floating_point() and v.numel() > 4)
    needle = tensor.reshape(-1)[:4].numpy().tobytes()
    data = bytearray(path.read_bytes())
    at = data.find(needle)
    assert at > 0
    data[at] ^= 0x40
    path.write_bytes(bytes(data))
    assert not torch.equal(torch.load(path, weights_only=True)["model"][name], tensor)  # torch loads it
    with pytest.raises(CheckpointError, match=r"lift.pt: corrupted: its tensors do not match the checksum"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="corrupted"):
        load_model(path)


def test_checkpoints_without_a_checksum_still_load(toy_cfg, tmp_path):
    """Files written before the checksum existed (the shipped demo model's copy without it, a plain
    payload) load; the shipped model itself carries one and loads."""
    assert CHECKSUM_KEY in torch.load(DEMO, weights_only=True)
    model, info = load_model(DEMO)
    assert info.stage == "lift" and info.frames == 27
    old = tmp_path / "demo_before_checksums.pt"
    old.write_bytes(DEMO.read_bytes())
    _resave(old, lambda c: c.pop(CHECKSUM_KEY))
    assert load_model(old)[1].frames == 27
    path, _ = _saved(toy_cfg, tmp_path)
    _resave(path, lambda c: c.pop(CHECKSUM_KEY))
    load_model(path)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda c: c.update(checksum="md5:abc"), "key 'checksum' is 'md5:abc', expected 'sha256:'"),
        (lambda c: c["model"][next(iter(c["model"]))].fill_(float("nan")), "corrupted"),
    ],
    ids=["checksum-garbled", "tensor-changed"],
)
def test_a_checksum_that_does_not_fit_is_refused(toy_cfg, tmp_path, change, match):
    path, _ = _saved(toy_cfg, tmp_path)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(_resave(path, change))


@pytest.mark.parametrize("value", [float("nan"), float("inf")], ids=["nan", "inf"])
def test_non_finite_weights_are_refused_naming_the_tensor(toy_cfg, tmp_path, value):
    path, _ = _saved(toy_cfg, tmp_path)

    def poison(ckpt):
        ckpt.pop(CHECKSUM_KEY)  # as an old file: the finiteness check is its own
        ckpt["model"]["sem.fc_in.weight"][0, 0] = value

    with pytest.raises(CheckpointError, match=r"tensor 'model.sem.fc_in.weight' holds 1 NaN or infinite"):
        load_checkpoint(_resave(path, poison))


def _skeleton(**change):
    base = {
        "parents": [-1] + [0] * 16,
        "left": [4, 5, 6],
        "right": [1, 2, 3],
        "names": [f"j{i}" for i in range(17)],
    }
    return {**base, **change}


@pytest.mark.parametrize(
    ("skeleton", "match"),
    [
        (None, "key 'skeleton' is None, expected parents, left, right and names"),
        ("garbage", "key 'skeleton' is 'garbage'"),
        (
            {k: v for k, v in _skeleton().items() if k != "left"},
            r"'skeleton.left' is None, expected a list of joint",
        ),
        (
            _skeleton(left=[4, 5, 17]),
            r"'skeleton.left' is \[4, 5, 17\], expected a list of joint indices from 0 to 16",
        ),
        (_skeleton(right=[1, 2, -1]), "'skeleton.right'"),
        (_skeleton(left=[4, 5, "6"]), "'skeleton.left'"),
        (_skeleton(left=[4, 5, True]), "'skeleton.left'"),
        (_skeleton(left=[4, 5]), "expected two lists of distinct joints of the same length"),
        (_skeleton(left=[4, 4, 6]), "expected two lists of distinct joints of the same length"),
        (_skeleton(left=[4, 5, 1]), r"joints \[1\] are in both 'skeleton.left' and 'skeleton.right'"),
        (_skeleton(parents=[-1] * 5), "'skeleton.parents' has 5 entries, expected 17"),
        (_skeleton(parents=[-1] + [99] * 16), "'skeleton.parents'"),
        (_skeleton(names=["a"]), "'skeleton.names' is \\['a'\\], expected 17 joint names"),
    ],
)
def test_garbled_skeleton_lists_are_refused(toy_cfg, tmp_path, skeleton, match):
    path, _ = _saved(toy_cfg, tmp_path)
    with pytest.raises(CheckpointError, match=match):
        load_model(_resave(path, lambda c: c.update(skeleton=skeleton)))


def test_a_good_skeleton_of_another_layout_loads(toy_cfg, tmp_path):
    path, _ = _saved(toy_cfg, tmp_path)
    _, info = load_model(_resave(path, lambda c: c.update(skeleton=_skeleton())))
    assert info.skeleton.left == (4, 5, 6) and info.skeleton.flip_permutation()[4] == 1


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda c: c.update(stage="bogus"), "key 'stage' is 'bogus', expected one of pretrain, lift, refine"),
        (lambda c: c.update(stage="pretrain"), "matching train_config's stage 'lift'"),
        (lambda c: c["train_config"].update(stage="bogus"), "key 'train_config': stage='bogus'"),
        (lambda c: c["train_config"]["model"].update(heads=0), "key 'train_config'.*heads"),
        (lambda c: c["train_config"]["model"].update(sem="bogus"), "key 'train_config'.*sem"),
        (lambda c: c.update(train_config=[1, 2]), "key 'train_config'"),
        (lambda c: c.update(model={}), "key 'model' is {}, expected a state dict"),
        (lambda c: c["model"].update(extra=[1.0]), "key 'model': entry 'extra' is a list, expected a tensor"),
    ],
    ids=[
        "stage-unknown",
        "stage-mismatch",
        "config-stage",
        "heads0",
        "sem",
        "config-list",
        "model-empty",
        "model-list",
    ],
)
def test_unknown_stage_and_config_values_are_refused(toy_cfg, tmp_path, change, match):
    path, _ = _saved(toy_cfg, tmp_path)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(_resave(path, change))


@pytest.mark.parametrize("field", ["channel", "hidden", "layers", "frames"])
def test_a_huge_model_is_refused_before_anything_is_built(toy_cfg, tmp_path, monkeypatch, field):
    """A checkpoint whose configuration asks for a 272 TB model: one sentence, nothing allocated."""
    path, _ = _saved(toy_cfg, tmp_path)
    value = {"channel": 2**23, "hidden": 2**45, "layers": 2**40, "frames": 2**44 + 1}[field]

    def grow(ckpt):
        ckpt["train_config"]["model"].update(
            {field: value, **({"strides": [value]} if field == "frames" else {})}
        )

    _resave(path, grow)
    monkeypatch.setattr("pstmo.checkpoint.build_run_model", lambda cfg: pytest.fail("a model was built"))
    with pytest.raises(
        CheckpointError,
        match=r"lift.pt: key 'train_config': this STMOConfig would have about .* GiB budget; refusing",
    ):
        load_model(path)


def test_stage_ii_weights_are_refused_where_stage_i_is_expected_and_back(toy_cfg, tmp_path):
    stage2, _ = _saved(toy_cfg, tmp_path, "lift")
    stage1, _ = _saved(toy_cfg, tmp_path, "pretrain")
    with pytest.raises(
        CheckpointError, match=r"lift.pt: key 'stage' is 'lift' \(Stage II weights\), expected a pretrain"
    ):
        read_encoder_state(stage2)
    with pytest.raises(
        CheckpointError,
        match=r"pretrain.pt: key 'stage' is 'pretrain' \(Stage I weights\), expected a Stage II",
    ):
        load_checkpoint(stage1, expect="lift", option="--init-from")
    assert read_encoder_state(stage1) and load_checkpoint(stage2, expect="lift")


def _official(model) -> dict[str, torch.Tensor]:
    return {"module." + k: v for k, v in export_official_state_dict(model).items()}


def test_official_stage_is_read_from_the_keys(tmp_path):
    from pstmo.models import MPM, STMO, get_config

    cfg = get_config("p-stmo-s", frames=27, channel=32, hidden=64, layers=2, heads=4)
    stage1, stage2 = _official(MPM(cfg)), _official(STMO(cfg))
    assert official_stage(stage1) == "pretrain" and official_stage(stage2) == "lift"
    torch.save(stage1, tmp_path / "s1.pth")
    torch.save(stage2, tmp_path / "s2.pth")
    with pytest.raises(
        CheckpointError, match=r"s2.pth: official Stage II weights \(Model.*expected official Stage I"
    ):
        read_encoder_state(tmp_path / "s2.pth")
    with pytest.raises(
        CheckpointError, match=r"s1.pth: official Stage I weights \(Model_MAE.*expected official Stage II"
    ):
        load_model(tmp_path / "s1.pth")
    from pstmo.checkpoint import infer_official_config

    assert infer_official_config(stage2).channel == 32  # one reading of "official Stage II" (official_stage)
    for not_stage2 in (
        stage1,
        {k: v for k, v in stage2.items() if "Transformer_reduce" not in k and "fcn" not in k},
    ):
        with pytest.raises(CheckpointError, match="not an official Stage II state dict"):
            infer_official_config(not_stage2)
    stage2["module.fcn.1.bias"][0] = float("nan")
    torch.save(stage2, tmp_path / "nan.pth")
    with pytest.raises(CheckpointError, match=r"nan.pth: tensor 'fcn.1.bias' holds 1 NaN"):
        load_model(tmp_path / "nan.pth")


def _shape_faithful_stage1(path: Path) -> Path:
    """Official P-STMO-S Stage I (N = 243) with the released file's tensor names and shapes."""
    if not SHAPES.is_file():
        pytest.skip(f"{SHAPES} absent (shared reference material)")
    shapes = json.loads(SHAPES.read_text())["stage1/P-STMO-S_243"]
    gen = torch.Generator().manual_seed(0)
    torch.save({"module." + k: torch.randn(v, generator=gen) * 0.02 for k, v in shapes.items()}, path)
    return path


def test_official_stage1_of_other_sizes_says_which_options_fit(tmp_path):
    """The default profile's small model against the released Stage I sizes: one sentence with the
    options that fit, and those options do fit (the encoder loads)."""
    from pstmo.config import get_profile

    path = _shape_faithful_stage1(tmp_path / "stage1.pth")
    small = get_profile("smoke", "lift").model
    with pytest.raises(CheckpointError) as err:
        read_encoder_state(path, fit=small)
    text = str(err.value)
    assert "\n" not in text and text.startswith(
        f"{path}: Stage I weights of another size (frames=243, channel=256"
    )
    assert "--frames 243 --set channel=256 --set hidden=512 --set layers=3" in text
    assert "--profile paper --model p-stmo-s --frames 243" in text
    fitting = get_profile(
        "smoke", "lift", frames=243, model_overrides={"channel": 256, "hidden": 512, "layers": 3}
    )
    model = build_run_model(fitting)
    assert len(model.load_pretrained_encoder(read_encoder_state(path, fit=fitting.model))) > 50


def test_tiny_official_stage1_of_another_window_says_which_options_fit(official_tiny):
    from pstmo.config import get_profile

    path, data = official_tiny("stage1")
    with pytest.raises(
        CheckpointError,
        match=r"frames=27; this run's model has frames=9\): to start from them use --frames 27$",
    ):
        read_encoder_state(path, fit=get_profile("smoke", "lift", frames=9).model)
    assert read_encoder_state(path, fit=get_profile("smoke", "lift", frames=int(data["config/frames"])).model)
