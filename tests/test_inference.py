"""The one inference path: windows, flip averaging in one batch, the fast copy, whole sequences."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from pstmo.checkpoint import build_run_model
from pstmo.config import get_profile
from pstmo.data.humaneva import HUMANEVA_SKELETON
from pstmo.data.windows import flip_poses
from pstmo.errors import ConfigError, DataError
from pstmo.inference import Lifter, flip_permutation, predict, sequence_windows
from pstmo.models import ABLATIONS
from pstmo.skeleton import LEFT_JOINTS, RIGHT_JOINTS


def test_sequence_windows_edge_padding_and_tds():
    x = torch.arange(5, dtype=torch.float32)[:, None, None].expand(5, 17, 2)
    w = sequence_windows(x, frames=3, tds=2)
    assert w.shape == (5, 3, 17, 2)
    # window t = frames t-2, t, t+2 clamped to [0, 4]
    assert w[:, :, 0, 0].tolist() == [[0, 0, 2], [0, 1, 3], [0, 2, 4], [1, 3, 4], [2, 4, 4]]


class ConstantPose(torch.nn.Module):
    """A stand-in lifting model that always predicts the same pose."""

    def __init__(self, pose: torch.Tensor):
        super().__init__()
        self.pose = torch.nn.Parameter(pose)

    def forward(self, x):
        center = self.pose.expand(x.shape[0], 1, *self.pose.shape)
        return type("Out", (), {"center": center, "frames": None})()


def test_test_time_flip_averages_with_flipped_back_prediction():
    pose = torch.randn(17, 3)
    model = ConstantPose(pose)
    windows = torch.randn(4, 9, 17, 2)
    assert torch.allclose(predict(model, windows, flip=False), pose.expand(4, 17, 3))
    flipped_back = pose.clone()
    flipped_back[:, 0] *= -1
    for left, right in zip(LEFT_JOINTS, RIGHT_JOINTS):
        flipped_back[[left, right]] = flipped_back[[right, left]]
    out = predict(model, windows, flip=True, batch_size=3)
    assert torch.allclose(out, ((pose + flipped_back) / 2).expand(4, 17, 3))


def test_flip_needs_the_skeleton_of_unknown_layouts():
    assert flip_permutation(17)[1] == 4  # RHip <-> LHip
    with pytest.raises(DataError, match="15-joint layout"):
        flip_permutation(15)
    perm = flip_permutation(15, HUMANEVA_SKELETON)
    assert sorted(perm) == list(range(15)) and perm != list(range(15))


VARIANTS = {
    "p-stmo-s": ("p-stmo-s", {}),
    "p-stmo": ("p-stmo", {}),
    "liftformer": ("liftformer", {}),
    "liftformer shared causal": ("liftformer", {"weight_sharing": True, "causal": True}),
    **{name: ("p-stmo-s", {k: v for k, v in o.items() if k != "frames"}) for name, o in ABLATIONS.items()},
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_fast_path_equals_reference_path(name, one_thread):
    preset, extra = VARIANTS[name]
    small = {"channel": 68, "hidden": 136} if extra.get("sem") == "transformer" else {}
    cfg = get_profile("smoke", "lift", model=preset, frames=27, model_overrides={**extra, **small})
    torch.manual_seed(0)
    model = build_run_model(cfg).eval()
    with torch.no_grad():  # realistic BatchNorm statistics, not the identity
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    pose = torch.randn(40, 17, 2) * 0.3
    # the reference: the model's own forward on every window (plain and flipped), averaged
    windows = sequence_windows(pose, 27, 2)
    with torch.no_grad():
        plain = model(windows).center[:, 0]
        flipped = flip_poses(model(flip_poses(windows)).center[:, 0])
    expected = ((plain + flipped) / 2).numpy()
    for fast in (False, True):
        for embed_once in (False, True):  # window by window / whole sequence (SEM once per frame)
            out = Lifter(model, 27, 2, fast=fast, batch_size=16, embed_once=embed_once).lift(pose)
            assert np.abs(out - expected).max() < 1e-5, (fast, embed_once)


def test_whole_sequence_lifting_embeds_each_frame_once(one_thread):
    """With ``embed_once`` SEM runs on T frames (2T with flip), not on T windows of N frames."""
    cfg = get_profile("smoke", "lift", model="p-stmo-s", frames=27)
    model = build_run_model(cfg).eval()
    seen = []
    model.sem.register_forward_hook(lambda m, args, out: seen.append(args[0].shape[:2].numel()))
    pose = torch.randn(50, 17, 2) * 0.3
    Lifter(model, 27, fast=False, embed_once=True, batch_size=16).lift(pose, flip=True)
    assert sum(seen) == 2 * 50
    seen.clear()
    Lifter(model, 27, fast=False, embed_once=False, batch_size=16).lift(pose, flip=True)
    assert sum(seen) == 2 * 50 * 27


def test_humaneva_model_lifts_with_flip(one_thread):
    cfg = get_profile("smoke", "lift", frames=9, dataset="humaneva")
    model = build_run_model(cfg).eval()
    pose = torch.randn(12, 15, 2) * 0.3
    lifter = Lifter(model, 9, skeleton=HUMANEVA_SKELETON)
    out = lifter.lift(pose, flip=True)
    assert out.shape == (12, 15, 3) and np.isfinite(out).all()
    plain = lifter.lift(pose, flip=False)
    assert not np.allclose(out, plain)  # the flipped half really ran


def test_lift_refuses_bad_input():
    lifter = Lifter(ConstantPose(torch.zeros(17, 3)), 3)
    with pytest.raises(DataError, match=r"\(T > 0, J, 2\)"):
        lifter.lift(np.zeros((0, 17, 2)))
    with pytest.raises(DataError, match="NaN"):
        lifter.lift(np.full((3, 17, 2), np.nan))
    with pytest.raises(DataError, match="lifts 17 joints"):
        lifter.lift(np.zeros((3, 15, 2)))
    for kwargs, match in (
        (dict(frames=4), "odd"),
        (dict(frames=3, tds=0), "TDS"),
        (dict(frames=3, batch_size=-1), "batch_size"),
    ):
        with pytest.raises(DataError, match=match):
            Lifter(ConstantPose(torch.zeros(17, 3)), **kwargs)


def test_a_lifter_is_frozen_and_changed_by_copies():
    lifter = Lifter(ConstantPose(torch.zeros(17, 3)), 3, input_flip=list(range(17)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        lifter.tds = 2
    assert lifter.input_flip == tuple(range(17))  # a list given is kept as a tuple: frozen all the way down
    runner = lifter.runner
    assert lifter.runner is runner  # the fast copy is built once and cached
    copy = dataclasses.replace(lifter, tds=2)
    assert (copy.tds, lifter.tds) == (2, 1) and copy.model is lifter.model
    assert copy.runner is not runner  # a copy builds its own fast copy (its model may differ)
    with pytest.raises(DataError, match="TDS rate must be >= 1"):
        dataclasses.replace(lifter, tds=0)  # a copy is checked as the original was


def _stmo_smoke(frames: int = 9):
    cfg = get_profile("smoke", "lift", model="p-stmo-s", frames=frames)
    torch.manual_seed(0)
    model = build_run_model(cfg).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    return model


@pytest.mark.parametrize("fast", [False, True])
def test_seq2seq_preview_takes_every_frame_from_the_multi_frame_head(fast, one_thread):
    """T = 2N + 2: windows [0, N), [N, 2N) and [2N, 2N + 2) edge-padded; each frame once."""
    N = 9
    model = _stmo_smoke(N)
    pose = torch.randn(2 * N + 2, 17, 2) * 0.3
    last = pose[[2 * N, 2 * N + 1] + [2 * N + 1] * (N - 2)]  # the third window, edge-padded
    with torch.no_grad():
        frames = model(torch.stack([pose[:N], pose[N : 2 * N], last])).frames  # (3, N, J, 3)
    expected = torch.cat([frames[0], frames[1], frames[2, :2]]).numpy()
    out = Lifter(model, N, fast=fast, batch_size=2).lift(pose, flip=False, seq2seq=True)
    assert np.abs(out - expected).max() < 1e-5
    flipped = Lifter(model, N, fast=fast).lift(pose, flip=True, seq2seq=True)
    assert np.abs(flipped - out).max() > 1e-4  # the flipped half really ran
    # TDS 2: the same frames, interleaved windows; still every frame exactly once, finite
    out2 = Lifter(model, N, tds=2, fast=fast).lift(pose, flip=True, seq2seq=True)
    assert out2.shape == out.shape and np.isfinite(out2).all()


def test_seq2seq_needs_the_multi_frame_head():
    cfg = get_profile("smoke", "lift", model="liftformer", frames=9)
    with pytest.raises(ConfigError, match="multi-frame head"):
        Lifter(build_run_model(cfg).eval(), 9).lift(torch.zeros(12, 17, 2), seq2seq=True)
