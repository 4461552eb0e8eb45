"""Engine: profiles, schedules, flip test-time augmentation, runs, checkpoints, evaluation.

Runs use a tiny synthetic dataset (``ToyDataset``: smooth random 3D motion, perspective
projection to 2D) so they take seconds; ``test_resume.py`` and ``test_ddp.py`` import it.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import SHARED

from pstmo import engine
from pstmo.errors import CheckpointError
from pstmo.skeleton import H36M_SKELETON, LEFT_JOINTS, RIGHT_JOINTS


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """The smoke profile runs with one torch thread; give other tests back their setting."""
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


# --------------------------------------------------------------------------- toy data


class ToySequence:
    def __init__(self, subject, action, camera, pose_2d, pose_3d):
        self.subject, self.action, self.camera = subject, action, camera
        self.pose_2d, self.pose_3d = pose_2d, pose_3d
        self.res_w = self.res_h = 1000
        self.valid = None
        # pinhole camera: focal 500 px, centre (600, 500) px -> normalised f = 1, c = (0.2, 0)
        self.intrinsics = {"focal": [500.0, 500.0], "center": [600.0, 500.0]}
        self.root_3d = np.tile(np.array([0.0, 0.0, 4.0], np.float32), (len(pose_2d), 1))

    def __len__(self):
        return len(self.pose_2d)


class ToyDataset:
    """Smooth random 3D motion (root-relative metres) and its perspective projection."""

    name = "toy"
    skeleton = H36M_SKELETON
    root_joint = 0

    def __init__(self, seed: int = 0, train=(("S1", "Walking 1"), ("S1", "Eating"), ("S5", "Walking")),
                 test=(("S9", "Walking"), ("S9", "Eating 2")), length: int = 48):  # fmt: skip
        rng = np.random.default_rng(seed)
        base = rng.normal(scale=0.25, size=(17, 3))
        self._splits = {}
        for split, keys in (("train", train), ("test", test)):
            seqs = []
            for subject, action in keys:
                t = np.arange(length)[:, None, None]
                freq = rng.uniform(0.05, 0.2, size=(1, 17, 3))
                phase = rng.uniform(0, 2 * np.pi, size=(1, 17, 3))
                pose = base + 0.1 * np.sin(freq * t + phase)
                pose = (pose - pose[:, :1]).astype(np.float32)
                cam = pose + np.array([0.0, 0.0, 4.0])
                pose_2d = (cam[..., :2] / cam[..., 2:] + np.array([0.2, 0.0])).astype(np.float32)
                seqs.append(ToySequence(subject, action, 0, pose_2d, pose))
            self._splits[split] = seqs

    def sequences(self, split="train", subjects=None, actions=None):
        return [s for s in self._splits[split] if subjects is None or s.subject in subjects]


def toy_cfg(tmp_path, stage="liftformer", **overrides) -> engine.TrainConfig:
    base = dict(results_dir=str(tmp_path), frames=9, epochs=2, max_steps=None, batch_size=32, progress=False)
    if stage == "liftformer":
        base["model_overrides"] = {"dim": 16, "ff_dim": 32, "blocks": 1, "heads": 2}
    else:
        base["model_overrides"] = {"channel": 16, "hidden": 32, "layers": 2, "heads": 2}
    base.update(overrides)
    return engine.get_profile("smoke", stage=stage, **base)


# --------------------------------------------------------------------------- configuration


def test_paper_profiles_match_the_papers():
    s2 = engine.get_profile("paper", stage="train", model="p-stmo-s")
    assert (s2.lr, s2.lr_decay, s2.batch_size, s2.epochs, s2.frames, s2.lambda_multi) == (
        7e-4,
        0.97,
        160,
        80,
        243,
        1.0,
    )
    assert engine.get_profile("paper", stage="train", model="p-stmo").lr == 1e-3
    assert engine.get_profile("paper", stage="pretrain").lr == 1e-4
    lf = engine.get_profile("paper", stage="liftformer")
    assert (lf.model, lf.warmup, lf.noam_factor, lf.epochs, lf.batch_size) == (
        "liftformer",
        1000,
        12.0,
        80,
        1536,
    )
    smoke = engine.get_profile("smoke", stage="train", epochs=1)
    assert smoke.dataset == "demo" and smoke.frames == 27 and smoke.epochs == 1
    with pytest.raises(ValueError, match="profile"):
        engine.get_profile("huge")
    with pytest.raises(ValueError, match="odd"):
        engine.TrainConfig(frames=10)


def test_noam_schedule_closed_form():
    fn = engine.noam_lambda(d_model=512, warmup=1000, factor=12.0)
    # LambdaLR step s (0-based) is Noam step s + 1.
    assert fn(999) == pytest.approx(12.0 / math.sqrt(512) / math.sqrt(1000))  # peak at the warm-up end
    assert fn(0) == pytest.approx(12.0 / math.sqrt(512) * 1 * 1000**-1.5)  # linear warm-up
    assert fn(3999) == pytest.approx(fn(999) / 2)  # inverse square root decay: 4x steps -> half
    assert max(fn(s) for s in range(3000)) == fn(999)


def test_resolve_device():
    assert engine.resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert engine.resolve_device("auto").type == expected


# --------------------------------------------------------------------------- windows and flip


def test_sequence_windows_edge_padding_and_tds():
    x = torch.arange(5, dtype=torch.float32)[:, None, None].expand(5, 17, 2)
    w = engine.sequence_windows(x, frames=3, tds=2)
    assert w.shape == (5, 3, 17, 2)
    # window t = frames t-2, t, t+2 clamped to [0, 4]
    expected = [[0, 0, 2], [0, 1, 3], [0, 2, 4], [1, 3, 4], [2, 4, 4]]
    assert w[:, :, 0, 0].tolist() == expected


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
    plain = engine.predict(model, windows, flip=False)
    assert torch.allclose(plain, pose.expand(4, 17, 3))
    flipped_back = pose.clone()
    flipped_back[:, 0] *= -1
    for left, right in zip(LEFT_JOINTS, RIGHT_JOINTS):
        flipped_back[[left, right]] = flipped_back[[right, left]]
    out = engine.predict(model, windows, flip=True)
    assert torch.allclose(out, ((pose + flipped_back) / 2).expand(4, 17, 3))


def test_flip_2d_swaps_and_negates():
    x = torch.zeros(1, 17, 2)
    x[0, 4] = torch.tensor([0.3, 0.1])  # LHip
    y = engine.flip_2d(x)
    assert torch.allclose(y[0, 1], torch.tensor([-0.3, 0.1]))  # RHip
    assert torch.allclose(y[0, 4], torch.zeros(2))


# --------------------------------------------------------------------------- runs


def test_liftformer_run_writes_results_and_reloads(tmp_path):
    data = ToyDataset()
    cfg = toy_cfg(tmp_path, stage="liftformer", epochs=3, lr=1.0, warmup=5, noam_factor=0.5, run_name="lf")
    run = engine.train(cfg, dataset=data)
    files = {p.name for p in run.run_dir.iterdir()}
    assert {
        "config.json",
        "provenance.json",
        "history.csv",
        "metrics.json",
        "per_action.csv",
        "last.pt",
        "best.pt",
    } <= files
    config = json.loads((run.run_dir / "config.json").read_text())
    assert config["stage"] == "liftformer" and config["model_config"]["dim"] == 16
    prov = json.loads((run.run_dir / "provenance.json").read_text())
    assert {"pstmo_version", "git_commit", "torch_version", "device", "seed", "dataset_fingerprint"} <= set(
        prov
    )
    history = pd.read_csv(run.run_dir / "history.csv")
    assert list(history.columns[:5]) == ["epoch", "step", "loss", "lr", "val_metric"]
    assert history["epoch"].tolist() == [1, 2, 3]
    # 3 train sequences x 48 frames x 2 (flip copies) = 288 windows -> 9 batches of 32 per epoch
    assert history["step"].tolist() == [9, 18, 27]
    # Noam lr after 9 steps (warm-up 5): factor * d^-0.5 * step^-0.5 with step = 10 at the next update
    assert history["lr"].iloc[0] == pytest.approx(0.5 / math.sqrt(16) / math.sqrt(10))
    metrics = json.loads((run.run_dir / "metrics.json").read_text())
    assert metrics == run.metrics
    assert metrics["frames"] == 2 * 48
    # the best checkpoint reproduces the run's metrics through evaluate()
    res = engine.evaluate(run.checkpoint, dataset=data)
    assert res.mpjpe == pytest.approx(metrics["mpjpe"], rel=1e-5)
    assert list(res.per_action.columns) == ["Walk", "Eat", "Avg"] or "Avg" in res.per_action.columns
    assert len(res.predictions) == 2 and res.predictions[0].pred.shape == (48, 17, 3)


def test_eval_is_per_action_then_mean_over_actions(tmp_path):
    data = ToyDataset(test=(("S9", "Walking"), ("S9", "Walking 1"), ("S11", "Eating")))
    model = engine.build_stage_model(toy_cfg(tmp_path, stage="liftformer"))[0]
    res = engine.evaluate(model, dataset=data, frames=9)
    per_frame = np.concatenate(
        [np.linalg.norm(p.pred - p.target, axis=-1).mean(-1) * 1000 for p in res.predictions]
    )
    walk, eat = per_frame[:96].mean(), per_frame[96:].mean()
    assert res.per_action.loc["MPJPE", "Walk"] == pytest.approx(walk, rel=1e-5)
    assert res.mpjpe == pytest.approx((walk + eat) / 2, rel=1e-5)
    assert list(res.per_action.columns)[-1] == "Avg"


def test_checkpoint_into_other_configuration_fails_clearly(tmp_path):
    data = ToyDataset()
    run = engine.train(toy_cfg(tmp_path, stage="liftformer", epochs=1, max_steps=2), dataset=data)
    other, _ = engine.build_stage_model(
        toy_cfg(
            tmp_path, stage="liftformer", model_overrides={"dim": 24, "ff_dim": 32, "blocks": 1, "heads": 2}
        )
    )
    state = engine.load_checkpoint(run.checkpoint)["model"]
    with pytest.raises(CheckpointError, match=r"shape mismatch.*\(16"):
        engine.load_state_checked(other, state, source=str(run.checkpoint))
    with pytest.raises(CheckpointError, match="not a pstmo checkpoint"):
        torch.save({"x": 1}, tmp_path / "bad.pt")
        engine.load_checkpoint(tmp_path / "bad.pt")
    # resuming with another model configuration names the differing field
    cfg = toy_cfg(
        tmp_path,
        stage="liftformer",
        epochs=2,
        resume=True,
        model_overrides={"dim": 24, "ff_dim": 32, "blocks": 1, "heads": 2},
    )
    with pytest.raises(CheckpointError, match="model_overrides"):
        engine.train(cfg, dataset=data)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    data = ToyDataset()
    real = engine.compute_loss
    calls = {"n": 0}

    def flaky(model, batch, cfg, generator=None, cameras=None):
        calls["n"] += 1
        loss = real(model, batch, cfg, generator, cameras)
        return loss * float("nan") if calls["n"] == 4 else loss

    monkeypatch.setattr(engine, "compute_loss", flaky)
    cfg = toy_cfg(tmp_path, stage="liftformer", checkpoint_every=1, run_name="nan")
    with pytest.raises(engine.TrainingError, match="nan.*step 4.*last good checkpoint"):
        engine.train(cfg, dataset=data)
    ckpt = engine.load_checkpoint(tmp_path / "nan" / "last.pt")
    assert ckpt["step"] == 3
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values() if v.is_floating_point())


def test_amp_and_compile_are_noops_with_warning_on_cpu(tmp_path):
    cfg = toy_cfg(tmp_path, stage="liftformer", epochs=1, max_steps=1, amp=True, compile=True, device="cpu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = engine.train(cfg, dataset=ToyDataset())
    assert any("CUDA only" in str(w.message) for w in caught)
    assert math.isfinite(run.metrics["mpjpe"])


# --------------------------------------------------------------------------- P-STMO stages


def test_pretrain_then_finetune_loads_the_encoder(tmp_path):
    data = ToyDataset()
    pre = engine.pretrain(
        toy_cfg(tmp_path, stage="pretrain", epochs=1, max_steps=3, run_name="pre"), dataset=data
    )
    assert pre.metrics["stage"] == "pretrain" and math.isfinite(pre.metrics["recon_2d"])
    assert pre.history["val_name"].iloc[-1] == "recon_2d"
    ckpt = engine.load_checkpoint(pre.checkpoint)
    cfg = toy_cfg(
        tmp_path, stage="train", epochs=1, max_steps=2, pretrained=str(pre.checkpoint), run_name="ft"
    )
    # the Stage II model starts from the Stage I SEM + TEM weights
    model, _ = engine.build_stage_model(cfg)
    model.load_pretrained_encoder(ckpt["model"])
    sem_key = next(k for k in model.state_dict() if k.startswith("sem."))
    assert torch.equal(model.state_dict()[sem_key], ckpt["model"][sem_key])
    run = engine.train(cfg, dataset=data)
    assert {"mpjpe", "p_mpjpe", "n_mpjpe", "mpjve"} <= set(run.metrics)
    # a Stage II checkpoint is not a valid pre-trained encoder source
    bad = toy_cfg(
        tmp_path, stage="train", epochs=1, max_steps=1, pretrained=str(run.checkpoint), run_name="bad"
    )
    with pytest.raises(CheckpointError, match="pretrain"):
        engine.train(bad, dataset=data)


@pytest.mark.parametrize("strategy", engine.MASK_STRATEGIES)
def test_stage1_masks_follow_the_strategy(strategy):
    cfg = engine.TrainConfig(
        stage="pretrain", frames=9, mask_strategy=strategy, mask_ratio=5 / 9, mask_joints=2
    )
    t_mask, s_mask = engine._masks(cfg, 17, torch.Generator().manual_seed(0))
    assert t_mask.shape == (9,) and s_mask.shape == (9, 17)
    assert int(t_mask.sum()) == (0 if strategy == "spatial" else 5)
    if strategy == "temporal":
        assert not s_mask.any()
    else:  # m = 2 joints per (visible) frame
        assert set(s_mask.sum(1).tolist()) <= {0, 2} and s_mask.any()


def test_stage2_loss_is_single_plus_lambda_multi(tmp_path):
    cfg = toy_cfg(tmp_path, stage="train", lambda_multi=0.5)
    model, _ = engine.build_stage_model(cfg)
    model.eval()
    data = ToyDataset()
    from pstmo.data import WindowBatcher

    batch = next(iter(WindowBatcher(data.sequences("train"), frames=9, batch_size=4, shuffle=False)))
    out = model(batch.pose_2d)
    single = (out.center - batch.center_3d).norm(dim=-1).mean()
    multi = (out.frames - batch.pose_3d).norm(dim=-1).mean()
    loss = engine.compute_loss(model, batch, cfg)
    assert loss.item() == pytest.approx((single + 0.5 * multi).item(), rel=1e-5)


def test_evaluate_official_checkpoint_fixture(tmp_path):
    fixture = SHARED / "fixtures" / "official_pstmo_tiny.npz"
    if not fixture.is_file():
        pytest.skip(f"{fixture} absent (shared reference material)")
    data = np.load(fixture)
    prefix = "stage2/state_dict/"
    state = {
        "module." + k[len(prefix) :]: torch.from_numpy(data[k]) for k in data.files if k.startswith(prefix)
    }
    path = tmp_path / "official.pth"
    torch.save(state, path)
    model, info = engine.load_model(path)
    assert info["frames"] == int(data["config/frames"]) and info.get("official")
    x = (
        torch.from_numpy(data["stage2/input"]).squeeze(-1).permute(0, 2, 3, 1)
    )  # (B, 2, N, J, 1) -> (B, N, J, 2)
    expected = torch.from_numpy(data["stage2/output_single"]).squeeze(-1).permute(0, 2, 3, 1)  # (B, 1, J, 3)
    with torch.no_grad():
        assert torch.allclose(model(x).center, expected, atol=1e-5)
    # evaluate() accepts the official file directly
    res = engine.evaluate(path, dataset=ToyDataset(), flip=False)
    assert math.isfinite(res.mpjpe) and res.frames == 96


# --------------------------------------------------------------------------- CLI on the demo data


def test_cli_pretrain_train_evaluate_on_demo(tmp_path, capsys):
    from pstmo.cli import main

    common = ["--profile", "smoke", "--results-dir", str(tmp_path), "--max-steps", "2", "--epochs", "1",
              "--eval-max-frames", "8", "--frames", "9", "--no-progress"]  # fmt: skip
    assert main(["pretrain", *common, "--run-name", "pre", "--mask-strategy", "temporal"]) == 0
    pre = tmp_path / "pre" / "best.pt"
    assert pre.is_file()
    assert main(["train", *common, "--run-name", "ft", "--pretrained", str(pre), "--set", "dropout=0.0"]) == 0
    config = json.loads((tmp_path / "ft" / "config.json").read_text())
    assert config["pretrained"] == str(pre) and config["model_config"]["dropout"] == 0.0
    capsys.readouterr()
    out_json = tmp_path / "eval.json"
    assert (
        main(["evaluate", "--checkpoint", str(tmp_path / "ft" / "best.pt"), "--output", str(out_json)]) == 0
    )
    printed = capsys.readouterr().out
    assert "MPJPE" in printed and "P-MPJPE" in printed
    assert {"mpjpe", "p_mpjpe", "n_mpjpe", "mpjve"} <= set(json.loads(out_json.read_text()))
    # a Stage I checkpoint cannot be evaluated in 3D: clear message, exit code 2
    assert main(["evaluate", "--checkpoint", str(pre)]) == 2
    assert "pretrain" in capsys.readouterr().err


def test_liftformer_model_selects_the_liftformer_stage_and_humaneva_table(tmp_path):
    cfg = engine.get_profile("smoke", stage="train", model="liftformer")
    assert cfg.stage == "liftformer" and cfg.model_overrides["dim"] == 32
    with pytest.raises(ValueError, match="LiftFormer"):
        engine.TrainConfig(stage="pretrain", model="liftformer")
    data = ToyDataset(test=(("Validate/S1", "Walk 1 chunk0"), ("Validate/S2", "Jog 1 chunk1")))
    model = engine.build_stage_model(toy_cfg(tmp_path, stage="liftformer"))[0]
    res = engine.evaluate(model, dataset=data, frames=9, flip=False)
    table = res.per_subject_action
    assert list(table.columns) == [("Walk", "S1"), ("Jog", "S2"), ("Avg", "")]
    assert table[("Avg", "")].iloc[0] == pytest.approx(res.p_mpjpe, rel=1e-6)  # 2 pairs = 2 actions


def test_refinement_cameras_backproject_the_truth_also_for_flipped_windows(tmp_path):
    from pstmo.data import WindowBatcher
    from pstmo.models.refine import backproject

    data = ToyDataset()
    seqs = data.sequences("train")
    batcher = WindowBatcher(seqs, frames=9, batch_size=64, shuffle=True, flip=True, seed=1)
    cameras = engine._Cameras.from_sequences(seqs, torch.device("cpu"))
    batch = next(iter(batcher))
    assert batch.flipped.any() and (~batch.flipped).any()
    focal, principal, depth = cameras.for_batch(batch)
    assert torch.allclose(focal, torch.ones_like(focal))
    assert torch.allclose(principal[:, 0], torch.where(batch.flipped, -0.2, 0.2))
    assert torch.allclose(depth, torch.full_like(depth, 4.0))
    # with the true depth, back-projecting the 2D input recovers the true (flipped) 3D pose
    xyz = backproject(batch.pose_2d[:, 4:5], batch.center_3d[..., 2], focal, principal, depth)
    assert torch.allclose(xyz, batch.center_3d, atol=1e-5)


def test_refinement_stage_trains_from_a_stage2_model(tmp_path):
    data = ToyDataset()
    base = engine.train(toy_cfg(tmp_path, stage="train", epochs=1, max_steps=2, run_name="s2"), dataset=data)
    cfg = toy_cfg(tmp_path, stage="train", epochs=1, max_steps=2, refine=True, init_from=str(base.checkpoint),
                  lr=1e-5, run_name="refine")  # fmt: skip
    run = engine.train(cfg, dataset=data)
    model, _ = engine.load_model(run.checkpoint)
    assert model.refiner is not None
    assert math.isfinite(run.metrics["mpjpe"])
    with pytest.raises(ValueError, match="refine"):
        engine.TrainConfig(stage="pretrain", refine=True)


def test_cli_rejects_unknown_model_option_with_the_valid_names(capsys):
    from pstmo.cli import main

    assert main(["train", "--profile", "smoke", "--set", "bogus=1"]) == 2
    err = capsys.readouterr().err
    assert "--set bogus" in err and "channel" in err and "Traceback" not in err
