"""The bad-input battery: every command, hostile or careless input, one row per case.

Each row runs ``pstmo <argv>`` in-process and asserts: exit code 2, exactly one line on stderr
that contains the expected words and no traceback, and not one file created, changed or removed
in the work folder. ``{w}`` in a row is the work folder, prepared once (good and bad files; FIFOs
among them, which a reader would block on: each row has a time limit). ``BIG`` is 10**30.

Ctrl-C (a SIGINT sent to ``python -m pstmo``) is tested at the end: one line, exit 130.
"""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from pstmo.checkpoint import build_run_model, save_model
from pstmo.cli import main
from pstmo.config import get_profile
from pstmo.data import demo_dir
from pstmo.skeleton import COCO_LEFT_JOINTS, COCO_RIGHT_JOINTS, Skeleton


class _Payload:
    """Unpickling this runs ``os.system`` (what a crafted data file would do)."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _object_npz(path: Path, key: str, value) -> None:
    arr = np.empty((), dtype=object)
    arr[()] = value
    np.savez(path, **{key: arr})


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    w = tmp_path_factory.mktemp("battery")
    (w / "empty_dir").mkdir()
    (w / "a_file").write_text("mine")
    (w / "empty.npz").write_bytes(b"")
    (w / "notzip.npz").write_text("not a zip")
    np.savez(w / "nan3d.npz", positions_3d=np.full((3, 17, 3), np.nan))
    _object_npz(w / "pwned.npz", "positions_3d", {"S1": {"Walk": _Payload(str(w / "MARKER"))}})
    _object_npz(w / "nan_dict.npz", "positions_3d", {"S1": {"Walk": np.full((3, 17, 3), np.nan)}})
    good = np.savez(
        w / "kp.npz", keypoints=np.random.default_rng(0).uniform(0, 500, (20, 17, 2)), width=1000, height=1000
    )
    del good
    np.save(w / "kp16.npy", np.zeros((5, 16, 2)))
    (w / "empty.npy").write_bytes(b"")
    with zipfile.ZipFile(w / "truncated.npz", "w") as z:
        z.writestr("keypoints.npy", b"\x93NUMPY\x01\x00")
    _object_npz(w / "kp_pickle.npz", "keypoints", _Payload(str(w / "MARKER")))
    (w / "kp.txt").write_text("1 2 3")
    (w / "nonutf8.json").write_bytes(b"\xff\xfe[\x00")
    det = {"image_id": 0, "score": 1.0, "category_id": 1}
    (w / "strings.json").write_text(json.dumps([{**det, "keypoints": ["1.5"] * 51}]))
    (w / "number.json").write_text(json.dumps([{**det, "keypoints": 7}]))
    (w / "mixed.json").write_text(json.dumps([{**det, "keypoints": [1.0] * 51}, {**det, "image_id": "b", "keypoints": [1.0] * 51}]))  # fmt: skip
    (w / "gap.json").write_text(json.dumps([{**det, "keypoints": [1.0] * 51}, {**det, "image_id": 200_000, "keypoints": [1.0] * 51}]))  # fmt: skip
    (w / "short.json").write_text(json.dumps([{**det, "keypoints": [1.0] * 50}]))
    cfg = get_profile("smoke", "lift", frames=9)
    save_model(build_run_model(cfg), cfg, w / "stage2.pt")
    pre = get_profile("smoke", "pretrain", frames=9)
    save_model(build_run_model(pre), pre, w / "stage1.pt")
    # issue 18: a run trained on COCO-ordered 2D (its skeleton's left/right are COCO's)
    coco_skeleton = Skeleton(left=COCO_LEFT_JOINTS, right=COCO_RIGHT_JOINTS)
    save_model(build_run_model(cfg), cfg, w / "stage2_coco.pt", coco_skeleton)
    torch.save(
        {"format": "pstmo-checkpoint-v2", "stage": "lift", "train_config": cfg.to_dict()}, w / "no_model.pt"
    )
    torch.save({"format": "pstmo-checkpoint-v2", "stage": "lift", "model": {},
                "train_config": {**cfg.to_dict(), "bogus": 1}}, w / "bad_config.pt")  # fmt: skip
    (w / "garbage.pt").write_bytes(b"\x00garbage")
    with open(w / "pickle.pt", "wb") as fh:
        pickle.dump(_Payload(str(w / "MARKER")), fh)
    (w / "results" / "taken").mkdir(parents=True)
    (w / "results" / "taken" / "last.pt").write_bytes(b"old run")
    badcam = w / "badcam"
    badcam.mkdir()
    for f in demo_dir().glob("*.npz"):
        (badcam / f.name).write_bytes(f.read_bytes())
    (badcam / "demo_cameras.json").write_text("{ not json")
    # issue 18: files that are not what they claim, and data sets whose splits do not fit their data
    for name in ("fifo.npz", "fifo.json", "fifo.pt", "fifo.ipynb"):
        os.mkfifo(w / name)  # a reader would block on it for ever
    base = json.loads((demo_dir() / "demo_cameras.json").read_text())
    demo_splits = {
        "fifodemo": None, "absent": {"splits": {"train": ["S01", "S99"], "test": ["S02", "S11"]}},
        "emptysplit": {"splits": {"train": [], "test": ["S02", "S11"]}},
        "blank": {"splits": {"train": ["S01", " "], "test": ["S02", "S11"]}},
        "overlap": {"splits": {"train": ["S01", "S02"], "test": ["S02", "S11"]}},
        "notest": {"splits": {"train": ["S01"]}}, "negfps": {"fps": -50},
    }  # fmt: skip
    for name, change in demo_splits.items():
        folder = w / name
        folder.mkdir()
        for f in demo_dir().glob("data_*.npz"):
            (folder / f.name).symlink_to(f)
        (folder / "demo_cameras.json").write_text(json.dumps({**base, **(change or {})}))
    (w / "fifodemo" / "data_2d_demo_gt.npz").unlink()
    os.mkfifo(w / "fifodemo" / "data_2d_demo_gt.npz")
    _object_npz(w / "blank_subject.npz", "positions_3d", {"": {"Walk": np.zeros((3, 17, 3))}})
    view = {"data_2d": np.zeros((5, 17, 2)), "data_3d": np.zeros((5, 17, 3))}
    _object_npz(w / "3dhp_negfps.npz", "data", {"S1 Seq1": [{0: view}, -25.0]})
    _object_npz(w / "3dhp_blank.npz", "data", {" Seq1": [{0: view}, 25.0]})
    (w / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    kps = [1.0] * 51
    for name, ids in (("ids_text", ["a", "b"]), ("ids_two_clips", ["cam1_frame_1", "cam2_frame_2"]),
                      ("ids_same_number", ["frame_1", "frame_01"]), ("far", [0, 10**9])):  # fmt: skip
        (w / f"{name}.json").write_text(json.dumps([{**det, "image_id": i, "keypoints": kps} for i in ids]))
    (w / "README.md").write_text("# not a notebook\n")
    nb = w / "nb.ipynb"
    nb.write_text(json.dumps({"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "profile = \"smoke\"\nframes = 27\nout_dir = None\n",
                                         "outputs": [], "execution_count": None}],
                              "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                              "nbformat": 4, "nbformat_minor": 5}))  # fmt: skip
    _checkpoint_files(w, cfg)
    return w


def _checkpoint_files(w: Path, cfg) -> None:
    """Checkpoints that are not what they claim (issue 18, round 2): a flipped tensor byte, NaN
    weights, garbled skeleton lists, an unknown stage, a 272 TB model, official weights of the
    wrong stage or size; and a run folder whose last.pt and last.prev.pt are both corrupted."""
    from pstmo.checkpoint import CHECKSUM_KEY, save
    from pstmo.models import MPM, STMO, get_config
    from pstmo.official.weights import export_official_state_dict

    good = torch.load(w / "stage2.pt", weights_only=True)
    tensor = next(v for v in good["model"].values() if v.is_floating_point() and v.numel() > 4)
    data = bytearray((w / "stage2.pt").read_bytes())
    data[data.find(tensor.reshape(-1)[:4].numpy().tobytes())] ^= 0x40
    (w / "corrupt.pt").write_bytes(bytes(data))
    run = w / "results" / "corrupt"
    run.mkdir()
    for name in ("last.pt", "last.prev.pt"):
        (run / name).write_bytes(bytes(data))

    def variant(name: str, change) -> None:
        ckpt = {k: v for k, v in torch.load(w / "stage2.pt", weights_only=True).items() if k != CHECKSUM_KEY}
        change(ckpt)
        save(w / name, ckpt)  # a valid checksum: the other checks are their own

    variant("nan.pt", lambda c: c["model"]["sem.fc_in.weight"].fill_(float("nan")))
    variant("skeleton_range.pt", lambda c: c["skeleton"].update(left=[4, 5, 99, 11, 12, 13]))
    variant("skeleton_unbalanced.pt", lambda c: c["skeleton"].update(left=[4, 5, 6]))
    variant("skeleton_missing.pt", lambda c: c.pop("skeleton"))
    variant("stage_bogus.pt", lambda c: c.update(stage="bogus"))
    variant("huge.pt", lambda c: c["train_config"]["model"].update(channel=2**21, hidden=2**21))
    paper = get_config("p-stmo-s", frames=243)
    torch.save(
        {"module." + k: v for k, v in export_official_state_dict(MPM(paper)).items()},
        w / "official_stage1.pth",
    )
    small = get_config("p-stmo-s", frames=9, channel=32, hidden=64, layers=2, heads=4)
    torch.save(
        {"module." + k: v for k, v in export_official_state_dict(STMO(small)).items()},
        w / "official_stage2.pth",
    )


TRAIN = ["--results-dir", "{w}/results", "--no-progress"]
BIG = str(10**30)
LIFT = ["--checkpoint", "{w}/stage2.pt", "--out", "{w}/out"]
EVAL = ["evaluate", "--checkpoint", "{w}/stage2.pt"]

# (id, argv, words expected in the one line)
ROWS: list[tuple[str, list[str], str]] = [
    # data
    ("info-no-dir", ["data", "info", "--dataset", "h36m"], "needs data_dir"),
    ("info-missing-dir", ["data", "info", "--dataset", "h36m", "--data-dir", "{w}/missing"], "not found"),
    ("info-empty-dir", ["data", "info", "--dataset", "h36m", "--data-dir", "{w}/empty_dir"], "not found"),
    ("info-bad-name", ["data", "info", "--dataset", "coco"], "invalid choice"),
    ("info-bad-cameras", ["data", "info", "--data-dir", "{w}/badcam"], "demo_cameras.json"),
    ("check-missing", ["data", "check", "{w}/missing.npz"], "not found"),
    ("check-notzip", ["data", "check", "{w}/notzip.npz"], "not an .npz archive"),
    ("check-empty", ["data", "check", "{w}/empty.npz"], "empty.npz"),
    ("check-dir", ["data", "check", "{w}/empty_dir"], "empty_dir"),
    ("check-pickle", ["data", "check", "{w}/pwned.npz"], "refuses to load"),
    ("check-nan", ["data", "check", "{w}/nan_dict.npz"], "NaN"),
    ("check-pair", ["data", "check", str(demo_dir() / "data_3d_demo.npz"), "{w}/notzip.npz"], "notzip.npz"),
    # data: only regular files (issue 18)
    ("check-fifo", ["data", "check", "{w}/fifo.npz"], "fifo.npz: is a FIFO (named pipe), not a regular file"),
    ("check-device", ["data", "check", "/dev/zero"], "/dev/zero: is a character device"),
    ("check-pair-fifo", ["data", "check", str(demo_dir() / "data_3d_demo.npz"), "{w}/fifo.npz"], "FIFO"),
    ("info-fifo", ["data", "info", "--data-dir", "{w}/fifodemo"], "data_2d_demo_gt.npz: is a FIFO"),
    # data: splits, frame rate and subjects against the data (issue 18)
    (
        "info-split-absent",
        ["data", "info", "--data-dir", "{w}/absent"],
        "names subject(s) ['S99'] that the data does not hold",
    ),
    ("info-split-empty", ["data", "info", "--data-dir", "{w}/emptysplit"], "split 'train' is empty"),
    ("info-split-blank", ["data", "info", "--data-dir", "{w}/blank"], "names an empty subject"),
    (
        "info-split-overlap",
        ["data", "info", "--data-dir", "{w}/overlap"],
        "['S02'] are in both the 'train' and the 'test'",
    ),
    ("info-split-notest", ["data", "info", "--data-dir", "{w}/notest"], "the splits lack 'test'"),
    ("info-fps-neg", ["data", "info", "--data-dir", "{w}/negfps"], "expected a positive frame rate, got -50"),
    (
        "check-subject-blank",
        ["data", "check", "{w}/blank_subject.npz"],
        "subject '': expected a non-empty name",
    ),
    (
        "check-3dhp-fps-neg",
        ["data", "check", "{w}/3dhp_negfps.npz"],
        "expected a positive frame rate, got -25.0",
    ),
    (
        "check-3dhp-blank",
        ["data", "check", "{w}/3dhp_blank.npz"],
        "sequence ' Seq1': expected a subject name",
    ),
    # complexity
    ("cx-heads0", ["complexity", "--model", "p-stmo-s", "--set", "heads=0"], "heads"),
    ("cx-hidden0", ["complexity", "--model", "p-stmo-s", "--set", "hidden=0"], "hidden"),
    ("cx-layers0", ["complexity", "--model", "p-stmo-s", "--set", "layers=0"], "layers"),
    ("cx-layers-neg", ["complexity", "--model", "p-stmo-s", "--set", "layers=-1"], "layers"),
    ("cx-frames-even", ["complexity", "--model", "p-stmo-s", "--frames", "10"], "odd"),
    ("cx-frames0", ["complexity", "--model", "p-stmo-s", "--frames", "0"], "frames"),
    ("cx-frames-nostrides", ["complexity", "--model", "p-stmo-s", "--frames", "101"], "strides"),
    ("cx-device", ["complexity", "--model", "p-stmo-s", "--device", "foo"], "device"),
    ("cx-cuda", ["complexity", "--model", "p-stmo-s", "--device", "cuda"], "CUDA"),
    ("cx-model", ["complexity", "--model", "bogus"], "invalid choice"),
    ("cx-components", ["complexity", "--model", "p-stmo-s", "--set", "components=sem,bogus"], "components"),
    ("cx-misplaced", ["complexity", "--model", "p-stmo-s", "--set", "blocks=2"], "a field of LiftFormer's configuration"),
    ("cx-sem", ["complexity", "--model", "p-stmo-s", "--set", "sem=bogus"], "sem"),
    ("cx-semblocks", ["complexity", "--model", "p-stmo-s", "--set", "sem_blocks=0"], "sem_blocks"),
    ("cx-heads-div", ["complexity", "--model", "p-stmo-s", "--set", "heads=3"], "divisible"),
    # complexity: sizes within the memory budget, before anything is built (issue 18)
    ("cx-channel-huge", ["complexity", "--model", "p-stmo-s", "--set", f"channel={2**30}"], "GiB budget"),
    ("cx-layers-huge", ["complexity", "--model", "p-stmo-s", "--set", f"layers={10**9}"], "GiB budget"),
    (
        "cx-dim-huge",
        ["complexity", "--model", "liftformer", "--set", f"dim={2**30}", "--set", "heads=1"],
        "GiB budget",
    ),
    (
        "cx-channel-overflow",
        ["complexity", "--model", "p-stmo-s", "--set", f"channel={BIG}"],
        "GiB budget",
    ),
    ("cx-frames-huge", ["complexity", "--model", "p-stmo-s", "--frames", "6561"], "up to 2,187"),
    ("cx-mps", ["complexity", "--model", "p-stmo-s", "--device", "mps"], "MPS is not available"),
    # official verify
    ("ov-missing", ["official", "verify", "{w}/missing.npz"], "not found"),
    ("ov-empty", ["official", "verify", "{w}/empty.npz"], "empty.npz"),
    ("ov-notzip", ["official", "verify", "{w}/notzip.npz"], "notzip.npz"),
    ("ov-truncated", ["official", "verify", "{w}/truncated.npz"], "truncated.npz"),
    ("ov-nokeys", ["official", "verify", "{w}/kp.npz"], "kp.npz"),
    ("ov-dir", ["official", "verify", "{w}/empty_dir"], "empty_dir"),
    ("ov-pickle", ["official", "verify", "{w}/pwned.npz"], "pwned.npz"),
    ("ov-tolerance", ["official", "verify", "{w}/kp.npz", "--tolerance", "-1"], "tolerance"),
    ("ov-tolerance-huge", ["official", "verify", "{w}/kp.npz", "--tolerance", "1e30"], "up to 1"),
    ("ov-fifo", ["official", "verify", "{w}/fifo.npz"], "fifo.npz: is a FIFO"),
    # train / pretrain options
    ("tr-epochs0", ["train", *TRAIN, "--epochs", "0"], "epochs=0"),
    ("tr-epochs-neg", ["train", *TRAIN, "--epochs", "-1"], "epochs=-1"),
    ("tr-steps0", ["train", *TRAIN, "--max-steps", "0"], "max_steps=0"),
    ("tr-steps-neg", ["train", *TRAIN, "--max-steps", "-1"], "max_steps=-1"),
    ("tr-batch0", ["train", *TRAIN, "--batch-size", "0"], "batch_size=0"),
    ("tr-batch-text", ["train", *TRAIN, "--batch-size", "abc"], "expected an integer"),
    ("tr-lr0", ["train", *TRAIN, "--lr", "0"], "lr=0"),
    ("tr-lr-neg", ["train", *TRAIN, "--lr", "-1"], "lr=-1"),
    ("tr-lr-nan", ["train", *TRAIN, "--lr", "nan"], "finite"),
    ("tr-lr-text", ["train", *TRAIN, "--lr", "abc"], "expected a number"),
    ("tr-decay-neg", ["train", *TRAIN, "--lr-decay", "-1"], "lr_decay"),
    ("tr-decay-big", ["train", *TRAIN, "--lr-decay", "2"], "lr_decay"),
    ("tr-evalmax0", ["train", *TRAIN, "--eval-max-frames", "0"], "eval_max_frames=0"),
    ("tr-evalmax-neg", ["train", *TRAIN, "--eval-max-frames", "-1"], "eval_max_frames=-1"),
    ("tr-ckpt-neg", ["train", *TRAIN, "--checkpoint-every", "-1"], "checkpoint_every=-1"),
    ("tr-threads-neg", ["train", *TRAIN, "--threads", "-1"], "threads=-1"),
    ("tr-threads0", ["train", *TRAIN, "--threads", "0"], "threads=0"),
    ("tr-tds0", ["train", *TRAIN, "--tds", "0"], "tds=0"),
    ("tr-tds-huge", ["train", *TRAIN, "--tds", "1000"], "longest training clip"),
    ("tr-frames-even", ["train", *TRAIN, "--frames", "10"], "odd"),
    ("tr-frames0", ["train", *TRAIN, "--frames", "0"], "frames"),
    ("tr-frames-nostrides", ["train", *TRAIN, "--frames", "101"], "strides"),
    ("tr-mask-ratio", ["pretrain", *TRAIN, "--mask-ratio", "1.5"], "mask_ratio"),
    ("tr-mask-ratio-neg", ["pretrain", *TRAIN, "--mask-ratio", "-0.1"], "mask_ratio"),
    ("tr-mask-joints", ["pretrain", *TRAIN, "--mask-joints", "20"], "mask_joints"),
    ("tr-mask-strategy", ["pretrain", *TRAIN, "--mask-strategy", "bogus"], "invalid choice"),
    ("tr-set-text", ["train", *TRAIN, "--set", "channel=abc"], "expected an integer"),
    ("tr-set-unknown", ["train", *TRAIN, "--set", "bogus=1"], "choose from"),
    ("tr-set-noeq", ["train", *TRAIN, "--set", "channel"], "KEY=VALUE"),
    ("tr-set-heads0", ["train", *TRAIN, "--set", "heads=0"], "heads"),
    ("tr-set-layers0", ["train", *TRAIN, "--set", "layers=0"], "layers"),
    ("tr-warmup0", ["train", *TRAIN, "--model", "liftformer", "--warmup", "0"], "warmup=0"),
    ("tr-noam0", ["train", *TRAIN, "--model", "liftformer", "--noam-factor", "0"], "noam_factor"),
    ("tr-device", ["train", *TRAIN, "--device", "foo"], "not a device name"),
    ("tr-cuda", ["train", *TRAIN, "--device", "cuda"], "CUDA is not available"),
    ("tr-runname-up", ["train", *TRAIN, "--run-name", "../../x"], "no path separators"),
    ("tr-runname-slash", ["train", *TRAIN, "--run-name", "a/b"], "no path separators"),
    ("tr-h36m-nodir", ["train", *TRAIN, "--dataset", "h36m"], "needs data_dir"),
    ("tr-h36m-missing", ["train", *TRAIN, "--dataset", "h36m", "--data-dir", "{w}/missing"], "not found"),
    ("tr-pretrained-missing", ["train", *TRAIN, "--pretrained", "{w}/missing.pt"], "not found"),
    (
        "tr-pretrained-stage2",
        ["train", *TRAIN, "--frames", "9", "--pretrained", "{w}/stage2.pt"],
        "expected a pretrain",
    ),
    ("tr-pretrained-garbage", ["train", *TRAIN, "--pretrained", "{w}/garbage.pt"], "cannot be read"),
    ("tr-pretrained-pickle", ["train", *TRAIN, "--pretrained", "{w}/pickle.pt"], "cannot be read"),
    ("tr-initfrom-missing", ["train", *TRAIN, "--init-from", "{w}/missing.pt"], "not found"),
    ("tr-results-file", ["train", "--results-dir", "{w}/a_file", "--no-progress"], "a_file"),
    ("tr-padmode", ["train", *TRAIN, "--pad-mode", "bogus"], "invalid choice"),
    ("tr-keypoints", ["train", *TRAIN, "--keypoints", "bogus"], "bogus"),
    ("tr-lambda-neg", ["train", *TRAIN, "--lambda-multi", "-1"], "lambda_multi"),
    ("tr-liftformer-pretrain", ["pretrain", *TRAIN, "--model", "liftformer"], "LiftFormer"),
    ("tr-taken", ["train", *TRAIN, "--run-name", "taken"], "already holds a run"),
    ("tr-resume-garbage", ["train", *TRAIN, "--run-name", "taken", "--resume"], "no readable checkpoint"),
    ("tr-profile", ["train", "--profile", "huge"], "invalid choice"),
    # train: numbers bounded before use, sizes within the memory budget, real devices (issue 18)
    ("tr-tds-overflow", ["train", *TRAIN, "--tds", BIG], "--tds=1e+30: must be between 1 and 1,000"),
    ("tr-batch-huge", ["train", *TRAIN, "--batch-size", str(10**12)], "--batch-size=1e+12"),
    ("tr-threads-huge", ["train", *TRAIN, "--threads", str(10**12)], "--threads=1e+12"),
    ("tr-seed-huge", ["train", *TRAIN, "--seed", BIG], "--seed=1e+30"),
    ("tr-seed-neg", ["train", *TRAIN, "--seed", "-1"], "--seed=-1"),
    ("tr-epochs-huge", ["train", *TRAIN, "--epochs", BIG], "--epochs=1e+30"),
    ("tr-lr-huge", ["train", *TRAIN, "--lr", "1e30"], "--lr=1e+30"),
    ("tr-device-meta", ["train", *TRAIN, "--device", "meta"], "cannot run a model"),
    ("tr-device-cpu-index", ["train", *TRAIN, "--device", "cpu:0"], "not a device name"),
    ("tr-set-channel-huge", ["train", *TRAIN, "--set", f"channel={10**12}"], "GiB budget"),
    ("tr-set-semhidden-huge", ["train", *TRAIN, "--set", f"sem_hidden={10**12}"], "GiB budget"),
    ("tr-set-hidden-huge", ["train", *TRAIN, "--set", f"hidden={10**12}"], "GiB budget"),
    ("tr-set-layers-huge", ["train", *TRAIN, "--set", f"layers={10**12}"], "GiB budget"),
    ("tr-set-semblocks-huge", ["train", *TRAIN, "--set", f"sem_blocks={10**12}"], "GiB budget"),
    ("tr-set-joints-huge", ["train", *TRAIN, "--set", f"joints={10**12}"], "GiB budget"),
    ("tr-pretrain-channel-huge", ["pretrain", *TRAIN, "--set", f"channel={10**12}"], "GiB budget"),
    ("tr-lf-heads-huge", ["train", *TRAIN, "--model", "liftformer", "--set", f"heads={10**12}"], "divisible"),
    (
        "tr-lf-dim-heads-huge",
        ["train", *TRAIN, "--model", "liftformer", "--set", f"dim={10**12}", "--set", f"heads={10**12}"],
        "GiB budget",
    ),
    ("tr-lf-ff-huge", ["train", *TRAIN, "--model", "liftformer", "--set", f"ff_dim={10**12}"], "GiB budget"),
    (
        "tr-frames-huge",
        ["train", *TRAIN, "--frames", "6561", "--set", "strides=3,3,3,3,3,3,3,3"],
        "frames=6561: at most 2,187",
    ),
    # train: only regular files (issue 18)
    ("tr-pretrained-fifo", ["train", *TRAIN, "--pretrained", "{w}/fifo.pt"], "fifo.pt: is a FIFO"),
    ("tr-initfrom-fifo", ["train", *TRAIN, "--init-from", "{w}/fifo.pt"], "fifo.pt: is a FIFO"),
    ("tr-initfrom-device", ["train", *TRAIN, "--init-from", "/dev/zero"], "is a character device"),
    ("tr-datadir-fifo", ["train", *TRAIN, "--data-dir", "{w}/fifodemo"], "data_2d_demo_gt.npz: is a FIFO"),
    # evaluate
    ("ev-missing", ["evaluate", "--checkpoint", "{w}/missing.pt"], "not found"),
    ("ev-garbage", ["evaluate", "--checkpoint", "{w}/garbage.pt"], "cannot be read"),
    ("ev-pickle", ["evaluate", "--checkpoint", "{w}/pickle.pt"], "cannot be read"),
    ("ev-dir", ["evaluate", "--checkpoint", "{w}/empty_dir"], "is a directory"),
    ("ev-stage1", ["evaluate", "--checkpoint", "{w}/stage1.pt"], "Stage I"),
    ("ev-no-model", ["evaluate", "--checkpoint", "{w}/no_model.pt"], "without key(s) ['model']"),
    ("ev-bad-config", ["evaluate", "--checkpoint", "{w}/bad_config.pt"], "unknown training option"),
    ("ev-tds0", ["evaluate", "--checkpoint", "{w}/stage2.pt", "--tds", "0"], "positive integer"),
    ("ev-maxframes0", ["evaluate", "--checkpoint", "{w}/stage2.pt", "--max-frames", "0"], "positive integer"),
    (
        "ev-maxframes-neg",
        ["evaluate", "--checkpoint", "{w}/stage2.pt", "--max-frames", "-1"],
        "positive integer",
    ),
    ("ev-batch0", ["evaluate", "--checkpoint", "{w}/stage2.pt", "--batch-size", "0"], "positive integer"),
    (
        "ev-output-dir",
        ["evaluate", "--checkpoint", "{w}/stage2.pt", "--output", "{w}/empty_dir"],
        "is a directory",
    ),
    ("ev-cuda", ["evaluate", "--checkpoint", "{w}/stage2.pt", "--device", "cuda"], "CUDA is not available"),
    ("ev-device", ["evaluate", "--checkpoint", "{w}/stage2.pt", "--device", "foo"], "not a device name"),
    ("ev-h36m", ["evaluate", "--checkpoint", "{w}/stage2.pt", "--dataset", "h36m"], "needs data_dir"),
    ("ev-split", ["evaluate", "--checkpoint", "{w}/stage2.pt", "--split", "val"], "invalid choice"),
    ("ev-keypoints", ["evaluate", "--checkpoint", "{w}/stage2.pt", "--keypoints", "bogus"], "bogus"),
    ("ev-no-checkpoint", ["evaluate"], "required"),
    # evaluate: numbers bounded, real devices, regular files (issue 18)
    ("ev-tds-overflow", [*EVAL, "--tds", BIG], "expected a positive integer up to 1,000"),
    ("ev-tds-float", [*EVAL, "--tds", "1e30"], "expected a positive integer up to 1,000"),
    ("ev-maxframes-huge", [*EVAL, "--max-frames", BIG], "expected a positive integer up to"),
    ("ev-batch-huge", [*EVAL, "--batch-size", BIG], "expected a positive integer up to 65,536"),
    ("ev-device-meta", [*EVAL, "--device", "meta"], "cannot run a model"),
    ("ev-ckpt-fifo", ["evaluate", "--checkpoint", "{w}/fifo.pt"], "fifo.pt: is a FIFO"),
    ("ev-ckpt-device", ["evaluate", "--checkpoint", "/dev/zero"], "/dev/zero: is a character device"),
    ("ev-datadir-fifo", [*EVAL, "--data-dir", "{w}/fifodemo"], "data_2d_demo_gt.npz: is a FIFO"),
    # checkpoints checked as data from a stranger (issue 18, round 2)
    (
        "ev-ckpt-corrupt",
        ["evaluate", "--checkpoint", "{w}/corrupt.pt"],
        "corrupt.pt: corrupted: its tensors do not",
    ),
    ("ev-ckpt-nan", ["evaluate", "--checkpoint", "{w}/nan.pt"], "tensor 'model.sem.fc_in.weight' holds"),
    (
        "ev-skeleton-range",
        ["evaluate", "--checkpoint", "{w}/skeleton_range.pt"],
        "'skeleton.left' is [4, 5, 99",
    ),
    (
        "ev-skeleton-unbalanced",
        ["evaluate", "--checkpoint", "{w}/skeleton_unbalanced.pt"],
        "of the same length",
    ),
    (
        "ev-skeleton-missing",
        ["evaluate", "--checkpoint", "{w}/skeleton_missing.pt"],
        "key 'skeleton' is None",
    ),
    (
        "ev-stage-bogus",
        ["evaluate", "--checkpoint", "{w}/stage_bogus.pt"],
        "key 'stage' is 'bogus', expected one of",
    ),
    ("ev-ckpt-huge", ["evaluate", "--checkpoint", "{w}/huge.pt"], "GiB budget; refusing to build it"),
    (
        "ev-official-stage1",
        ["evaluate", "--checkpoint", "{w}/official_stage1.pth"],
        "official Stage I weights",
    ),
    (
        "lf-ckpt-corrupt",
        ["lift", "{w}/kp.npz", "--checkpoint", "{w}/corrupt.pt", "--out", "{w}/out"],
        "corrupted",
    ),
    (
        "lf-ckpt-nan",
        ["lift", "{w}/kp.npz", "--checkpoint", "{w}/nan.pt", "--out", "{w}/out"],
        "NaN or infinite",
    ),
    ("tr-initfrom-corrupt", ["train", *TRAIN, "--frames", "9", "--init-from", "{w}/corrupt.pt"], "corrupted"),
    (
        "tr-initfrom-stage1",
        ["train", *TRAIN, "--frames", "9", "--init-from", "{w}/stage1.pt"],
        "key 'stage' is 'pretrain' (Stage I weights), expected a Stage II (lift or refine) run for --init-from",
    ),
    (
        "tr-pretrained-official-stage2",
        ["train", *TRAIN, "--frames", "9", "--pretrained", "{w}/official_stage2.pth"],
        "official Stage II weights (Model: keys 'Transformer_reduce.*', 'fcn.*'), expected official Stage I",
    ),
    (
        "tr-pretrained-official-size",
        ["train", *TRAIN, "--pretrained", "{w}/official_stage1.pth"],
        "to start from them use --frames 243 --set channel=256 --set hidden=512 --set layers=3",
    ),
    ("tr-pretrained-huge", ["train", *TRAIN, "--pretrained", "{w}/huge.pt"], "GiB budget"),
    (
        "tr-resume-corrupt",
        ["train", *TRAIN, "--frames", "9", "--run-name", "corrupt", "--resume"],
        "no readable checkpoint to resume from",
    ),
    # no metric is ever NaN (issue 18, round 2): one frame per clip has no velocity error
    ("ev-maxframes1", [*EVAL, "--max-frames", "1"], "none of the"),
    # lift
    (
        "lf-missing",
        ["lift", "{w}/missing.json", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out"],
        "not found",
    ),
    ("lf-dir", ["lift", "{w}/empty_dir", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out"], "directory"),
    (
        "lf-txt",
        ["lift", "{w}/kp.txt", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out"],
        "expected a COCO",
    ),
    (
        "lf-strings",
        [
            "lift",
            "{w}/strings.json",
            "--checkpoint",
            "{w}/stage2.pt",
            "--out",
            "{w}/out",
            "--width",
            "1000",
            "--height",
            "1000",
        ],
        "must be numbers",
    ),  # fmt: skip
    (
        "lf-number",
        ["lift", "{w}/number.json", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out"],
        "51 numbers",
    ),
    (
        "lf-mixed",
        ["lift", "{w}/mixed.json", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out"],
        "mix integers",
    ),
    ("lf-gap", ["lift", "{w}/gap.json", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out"], "--max-gap"),
    ("lf-short", ["lift", "{w}/short.json", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out"], "51"),
    (
        "lf-nonutf8",
        ["lift", "{w}/nonutf8.json", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out"],
        "UTF-8",
    ),
    (
        "lf-empty-npy",
        ["lift", "{w}/empty.npy", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out"],
        "empty.npy",
    ),
    (
        "lf-truncated",
        ["lift", "{w}/truncated.npz", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out"],
        "truncated",
    ),
    (
        "lf-joints",
        [
            "lift",
            "{w}/kp16.npy",
            "--checkpoint",
            "{w}/stage2.pt",
            "--out",
            "{w}/out",
            "--width",
            "9",
            "--height",
            "9",
        ],
        "joint count 16",
    ),  # fmt: skip
    (
        "lf-pickle",
        ["lift", "{w}/kp_pickle.npz", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out"],
        "pickled",
    ),
    (
        "lf-width-nan",
        ["lift", "{w}/kp.npz", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out", "--width", "nan"],
        "finite",
    ),
    (
        "lf-width0",
        ["lift", "{w}/kp.npz", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out", "--width", "0"],
        "positive",
    ),
    (
        "lf-batch-neg",
        ["lift", "{w}/kp.npz", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out", "--batch-size", "-1"],
        "positive",
    ),
    (
        "lf-tds0",
        ["lift", "{w}/kp.npz", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out", "--tds", "0"],
        "positive",
    ),
    (
        "lf-tds-neg",
        ["lift", "{w}/kp.npz", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out", "--tds", "-1"],
        "positive",
    ),
    (
        "lf-fps0",
        ["lift", "{w}/kp.npz", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out", "--fps", "0"],
        "positive",
    ),
    (
        "lf-minscore",
        ["lift", "{w}/kp.npz", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out", "--min-score", "2"],
        "min_score",
    ),
    (
        "lf-maxgap",
        ["lift", "{w}/kp.npz", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out", "--max-gap", "-1"],
        "max_gap",
    ),
    (
        "lf-animstride",
        ["lift", "{w}/kp.npz", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/out", "--anim-stride", "0"],
        "positive",
    ),
    (
        "lf-out-file",
        ["lift", "{w}/kp.npz", "--checkpoint", "{w}/stage2.pt", "--out", "{w}/a_file"],
        "is a file",
    ),
    (
        "lf-ckpt-missing",
        ["lift", "{w}/kp.npz", "--checkpoint", "{w}/missing.pt", "--out", "{w}/out"],
        "not found",
    ),
    (
        "lf-ckpt-stage1",
        ["lift", "{w}/kp.npz", "--checkpoint", "{w}/stage1.pt", "--out", "{w}/out"],
        "Stage I",
    ),
    (
        "lf-fps-mismatch",
        [
            "lift",
            "{w}/kp.npz",
            "--checkpoint",
            "{w}/stage2.pt",
            "--out",
            "{w}/out",
            "--fps",
            "100",
            "--tds",
            "1",
        ],
        "--tds 2",
    ),  # fmt: skip
    # lift: numbers bounded, real devices, regular files, keypoint JSON that parses and orders (issue 18)
    (
        "lf-fps-huge",
        ["lift", "{w}/kp.npz", *LIFT, "--fps", "1e30"],
        "expected a positive finite number up to",
    ),
    ("lf-tds-huge", ["lift", "{w}/kp.npz", *LIFT, "--tds", BIG], "expected a positive integer up to 1,000"),
    ("lf-width-huge", ["lift", "{w}/kp.npz", *LIFT, "--width", "1e30"], "up to 1e+06"),
    ("lf-maxgap-overflow", ["lift", "{w}/kp.npz", *LIFT, "--max-gap", BIG], "max_gap=1e+30"),
    ("lf-device-meta", ["lift", "{w}/kp.npz", *LIFT, "--device", "meta"], "cannot run a model"),
    ("lf-fifo", ["lift", "{w}/fifo.json", *LIFT], "fifo.json: is a FIFO"),
    ("lf-device-file", ["lift", "/dev/null", *LIFT], "/dev/null: is a character device"),
    (
        "lf-ckpt-fifo",
        ["lift", "{w}/kp.npz", "--checkpoint", "{w}/fifo.pt", "--out", "{w}/out"],
        "fifo.pt: is a FIFO",
    ),
    ("lf-deep-json", ["lift", "{w}/deep.json", *LIFT], "JSON nested too deeply"),
    ("lf-ids-text", ["lift", "{w}/ids_text.json", *LIFT], "carries no frame number"),
    ("lf-ids-two-clips", ["lift", "{w}/ids_two_clips.json", *LIFT], "differ in more than their frame number"),
    ("lf-ids-same-number", ["lift", "{w}/ids_same_number.json", *LIFT], "carry the same frame number 1"),
    ("lf-far-huge-gap", ["lift", "{w}/far.json", *LIFT, "--max-gap", str(2 * 10**9)], "GiB budget"),
    # sweep / reproduce
    ("sw-missing", ["sweep", "{w}/missing.ipynb", "--grid", "frames=9"], "not found"),
    ("sw-readme", ["sweep", "{w}/README.md", "--grid", "frames=9"], "README.md"),
    ("sw-noeq", ["sweep", "{w}/nb.ipynb", "--grid", "frames"], "key=v1,v2"),
    ("sw-unknown", ["sweep", "{w}/nb.ipynb", "--grid", "bogus=1"], "bogus"),
    ("sw-out-file", ["sweep", "{w}/nb.ipynb", "--grid", "frames=9", "--out", "{w}/a_file"], "a_file"),
    ("sw-name-up", ["sweep", "{w}/nb.ipynb", "--grid", "frames=9", "--name", "../../../x"], "name"),
    ("sw-nogrid", ["sweep", "{w}/nb.ipynb"], "--grid"),
    (
        "sw-type",
        ["sweep", "{w}/nb.ipynb", "--grid", "frames=abc"],
        "frames='abc': nb.ipynb expects int values",
    ),
    ("sw-fixed-unknown", ["sweep", "{w}/nb.ipynb", "--grid", "frames=9", "--set", "bogus=1"], "bogus"),
    ("rp-only", ["reproduce", "--only", "table99"], "table99"),
    ("rp-h36m", ["reproduce", "--dataset", "h36m"], "data"),
    ("sw-fifo", ["sweep", "{w}/fifo.ipynb", "--grid", "frames=9"], "fifo.ipynb: is a FIFO"),
    ("rp-device-meta", ["reproduce", "--device", "meta"], "cannot run a model"),
    ("rp-jobs-huge", ["reproduce", "--jobs", BIG], "expected a positive integer up to 256"),
    ("rp-seed-huge", ["reproduce", "--seed", BIG], "--seed"),
    ("rp-datadir-fifo", ["reproduce", "--data-dir", "{w}/fifodemo"], "data_2d_demo_gt.npz: is a FIFO"),
    # bench: not part of the package; its own program checks its options (tests/test_bench.py)
    ("bn-moved", ["bench"], "python -m benchmarks.bench"),
    ("bn-moved-options", ["bench", "--threads", "-1", "--official-repo", "{w}/missing"], "make bench"),
    # issue 18: the official in-the-wild layout and the official windows of short clips
    ("lf-coco-trained-as-h36m", ["lift", "{w}/kp.npz", "--checkpoint", "{w}/stage2_coco.pt", "--out", "{w}/out"],
     "trained on COCO-ordered 2D keypoints"),  # fmt: skip
    ("lf-coco-trained-native", ["lift", "{w}/kp.npz", "--checkpoint", "{w}/stage2_coco.pt", "--out", "{w}/out",
                                "--layout", "native"], "pass --layout coco-native"),  # fmt: skip
    ("lf-layout-bogus", ["lift", "{w}/kp.npz", *LIFT, "--layout", "coco-wild"], "invalid choice"),
    ("tr-official-pad-short", ["train", *TRAIN, "--pad-mode", "official", "--frames", "27", "--tds", "9"],
     "official generator yields windows as short as"),  # fmt: skip
]


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Size and time of every entry (``lstat``: links and FIFOs are not followed nor opened)."""
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in folder.rglob("*")}


class _Hung(BaseException):
    """A row that blocks (a FIFO opened for reading): not an error the command could catch."""


@pytest.fixture
def time_limit():
    """SIGALRM after 60 s: a command that blocks on a FIFO fails its row instead of hanging."""
    import signal

    def hung(signum, frame):
        raise _Hung("the command blocked for 60 s (a FIFO opened for reading?)")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(("argv", "words"), [pytest.param(a, w, id=i) for i, a, w in ROWS])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(work, capsys, time_limit, argv, words):
    before = _snapshot(work)
    argv = [a.format(w=work) for a in argv]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, f"exit {code}; stderr: {err[-800:]}"
    assert len(lines) == 1, f"expected one line, got {len(lines)}:\n{err[-1500:]}"
    assert "Traceback" not in err
    assert words in lines[0], lines[0]
    assert not (work / "MARKER").exists(), "a crafted file ran code"
    assert _snapshot(work) == before, "the command changed files in the work folder"


def test_the_battery_is_large():
    assert len(ROWS) >= 100 and len({i for i, *_ in ROWS}) == len(ROWS)


def test_a_run_folder_that_disappears_during_training_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    """The run folder is removed after the first step: the run stops at the next checkpoint with
    one line and exit 2, and the folder is not re-created (issue 18, round 2)."""
    import shutil

    import pstmo.train

    real = pstmo.train.train

    def with_removal(cfg, dataset=None, hooks=()):
        def remove(trainer):
            if trainer.step_count == 1:
                shutil.rmtree(trainer.run_dir)

        return real(cfg, dataset, [*hooks, remove])

    monkeypatch.setattr(pstmo.train, "train", with_removal)
    results = tmp_path / "results"
    argv = ["train", "--results-dir", str(results), "--no-progress", "--frames", "9", "--max-steps", "3",
            "--checkpoint-every", "1", "--run-name", "gone"]  # fmt: skip
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, f"exit {code}; stderr: {err[-800:]}"
    assert len(lines) == 1 and "Traceback" not in err, err[-1500:]
    assert "gone disappeared during training (epoch 1, step 1); stopping without re-creating it" in lines[0]
    assert not (results / "gone").exists()


# ----------------------------------------------------------------------------------------------
# Ctrl-C: one line, exit 130, wherever it lands (issue 18)


def _interrupt(argv: list[str], cwd: Path, *, after: float = 0.0, wait_for: Path | None = None):
    """Run ``python -m pstmo ARGV``, send SIGINT ``after`` seconds (after ``wait_for`` exists,
    if given) and return (exit code, stderr)."""
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "pstmo", *argv], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        env={**os.environ, "PSTMO_DEBUG": ""},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while wait_for is not None and not wait_for.exists() and proc.poll() is None:
            assert time.monotonic() < deadline, f"{wait_for} never appeared"
            time.sleep(0.05)
        time.sleep(after)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    return proc.returncode, err


@pytest.mark.parametrize("after", [0.3, 1.5], ids=["while-importing", "later"])
def test_ctrl_c_in_evaluate_is_one_line_exit_130(work, tmp_path, after):
    argv = ["evaluate", "--checkpoint", str(work / "stage2.pt"), "--batch-size", "1", "--no-fast"]
    code, err = _interrupt(argv, tmp_path, after=after)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 130, f"exit {code}; stderr: {err[-1500:]}"
    assert len(lines) == 1 and "Traceback" not in err, err[-1500:]
    assert lines[0].startswith("pstmo") and lines[0].split(";")[0].endswith("interrupted"), lines[0]


def test_ctrl_c_in_train_is_one_line_exit_130_with_the_resume_hint(tmp_path):
    results = tmp_path / "results"
    argv = ["train", "--profile", "smoke", "--epochs", "1000", "--max-steps", str(10**6), "--no-progress",
            "--results-dir", str(results)]  # fmt: skip
    run_dir = results / "lift-p-stmo-s-demo-f27"
    code, err = _interrupt(argv, tmp_path, after=0.5, wait_for=run_dir / "config.json")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 130, f"exit {code}; stderr: {err[-1500:]}"
    assert len(lines) == 1 and "Traceback" not in err, err[-1500:]
    assert lines[0].startswith("pstmo train: interrupted; resume with") and "--resume" in lines[0], lines[0]


@pytest.mark.parametrize(
    "error", [KeyboardInterrupt, ImportError], ids=["interrupt", "import-broken-by-ctrl-c"]
)
def test_ctrl_c_while_the_commands_are_imported(monkeypatch, capsys, error):
    """A Ctrl-C in the import of a C extension can surface as another error (ImportError: cannot
    load module more than once); the handler remembers it, so that is one line and 130 too."""
    import signal

    from pstmo import cli

    def build():
        cli._Sigint.seen = True  # what the handler records when the signal comes
        raise error("cannot load module more than once per process")

    monkeypatch.setattr(cli, "build_parser", build)
    before = signal.getsignal(signal.SIGINT)
    assert cli.main(["evaluate"]) == 130
    assert capsys.readouterr().err == "pstmo: interrupted\n"
    assert signal.getsignal(signal.SIGINT) is before, "a caller in Python gets its own handler back"
