"""Training runs on the synthetic data (seconds each): files, stages, losses, robustness."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from pstmo import checkpoint
from pstmo.data.windows import WindowBatcher
from pstmo.errors import CheckpointError, ConfigError, TrainingError
from pstmo.evaluate import evaluate
from pstmo.io import exclusive_lock
from pstmo.masking import STRATEGIES
from pstmo.train import PretrainStage, RefineStage, Trainer, make_stage, pretrain, train


def test_liftformer_run_writes_results_and_reloads(toy_data, toy_cfg):
    run = train(toy_cfg(epochs=3, lr=1.0, warmup=5, noam_factor=0.5, run_name="lf"), dataset=toy_data)
    files = {p.name for p in run.run_dir.iterdir()}
    assert {"config.json", "provenance.json", "history.csv", "steps.csv", "metrics.json", "per_action.csv",
            "last.pt", "best.pt"} <= files  # fmt: skip
    assert not {".lock"} & files  # the run folder lock is gone after the run
    config = json.loads((run.run_dir / "config.json").read_text())
    assert (
        config["stage"] == "lift"
        and config["model"]["type"] == "LiftFormerConfig"
        and config["model"]["dim"] == 16
    )
    prov = json.loads((run.run_dir / "provenance.json").read_text())
    assert {"pstmo_version", "git_commit", "torch_version", "device", "seed", "dataset_fingerprint"} <= set(
        prov
    )
    history = pd.read_csv(run.run_dir / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]
    # 3 train sequences x 48 frames x 2 (flip copies) = 288 windows -> 9 batches of 32 per epoch
    assert history["step"].tolist() == [9, 18, 27]
    # Noam lr after 9 steps (warm-up 5): factor * d^-0.5 * step^-0.5 with step = 10 at the next update
    assert history["lr"].iloc[0] == pytest.approx(0.5 / math.sqrt(16) / math.sqrt(10))
    steps = pd.read_csv(run.run_dir / "steps.csv")
    assert steps["step"].tolist() == list(range(1, 28))  # 27 steps: every step is logged
    metrics = json.loads((run.run_dir / "metrics.json").read_text())
    assert metrics == json.loads(json.dumps(run.metrics))
    assert metrics["num_scored"] == 2 * 48 and "all frames" in metrics["protocol"]
    res = evaluate(run.checkpoint, dataset=toy_data)  # best.pt reproduces the run's metrics
    assert res.mpjpe == pytest.approx(metrics["mpjpe"], rel=1e-5)
    assert len(res.predictions) == 2 and res.predictions[0].pred.shape == (48, 17, 3)


def test_reported_metrics_use_the_whole_test_split_even_when_validation_is_capped(toy_data, toy_cfg):
    run = train(toy_cfg(epochs=1, max_steps=3, eval_max_frames=8, run_name="cap"), dataset=toy_data)
    assert run.metrics["num_scored"] == 96 and run.metrics["selected_on"]["eval_max_frames"] == 8
    assert evaluate(run.checkpoint, dataset=toy_data).mpjpe == pytest.approx(run.metrics["mpjpe"], rel=1e-5)


def test_an_existing_run_is_not_replaced_without_overwrite(toy_data, toy_cfg):
    train(toy_cfg(epochs=1, max_steps=2, run_name="r"), dataset=toy_data)
    with pytest.raises(ConfigError, match="already holds a run.*resume.*overwrite"):
        train(toy_cfg(epochs=1, max_steps=2, run_name="r"), dataset=toy_data)
    again = train(toy_cfg(epochs=1, max_steps=1, run_name="r", overwrite=True), dataset=toy_data)
    assert checkpoint.load_checkpoint(again.run_dir / "last.pt")["step"] == 1


def test_a_run_folder_in_use_is_refused(toy_data, toy_cfg, tmp_path):
    with exclusive_lock(tmp_path / "busy"):
        with pytest.raises(BlockingIOError, match="in use by process"):
            train(toy_cfg(epochs=1, max_steps=1, run_name="busy"), dataset=toy_data)


def test_resume_refuses_a_changed_configuration_and_accepts_more_epochs(toy_data, toy_cfg):
    train(toy_cfg(epochs=1, run_name="r"), dataset=toy_data)
    with pytest.raises(ConfigError, match=r"changed configuration \(lr: 1.0 -> 0.5"):
        train(toy_cfg(epochs=2, run_name="r", resume=True, lr=0.5), dataset=toy_data)
    run = train(toy_cfg(epochs=2, run_name="r", resume=True), dataset=toy_data)
    assert run.history["epoch"].tolist() == [1, 2]


def test_resume_falls_back_to_the_previous_checkpoint_when_last_is_truncated(toy_data, toy_cfg):
    first = train(toy_cfg(epochs=2, run_name="r"), dataset=toy_data)
    last = first.run_dir / "last.pt"
    assert (first.run_dir / "last.prev.pt").is_file()
    last.write_bytes(last.read_bytes()[:1000])  # truncated
    with pytest.warns(UserWarning, match="resuming from .*last.prev.pt instead"):
        run = train(toy_cfg(epochs=3, run_name="r", resume=True), dataset=toy_data)
    assert run.history["epoch"].tolist() == [1, 2, 3]  # resumed after epoch 1, from last.prev.pt


def test_nan_loss_stops_and_keeps_last_good_checkpoint(toy_data, toy_cfg, monkeypatch):
    calls = {"n": 0}
    real = type(make_stage(toy_cfg(), toy_data, torch.device("cpu"))).loss

    def flaky(self, model, batch):
        calls["n"] += 1
        loss = real(self, model, batch)
        return loss * float("nan") if calls["n"] == 4 else loss

    trainer = Trainer(toy_cfg(checkpoint_every=1, run_name="nan"), dataset=toy_data)
    monkeypatch.setattr(type(trainer.stage), "loss", flaky)
    with pytest.raises(TrainingError, match="nan.*step 4.*last good checkpoint"):
        trainer.run()
    ckpt = checkpoint.load_checkpoint(trainer.run_dir / "last.pt")
    assert ckpt["step"] == 3
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values() if v.is_floating_point())


def test_amp_and_compile_are_noops_with_warning_on_cpu(toy_data, toy_cfg):
    cfg = toy_cfg(epochs=1, max_steps=1, amp=True, compile=True, device="cpu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = train(cfg, dataset=toy_data)
    assert any("CUDA only" in str(w.message) for w in caught)
    assert math.isfinite(run.metrics["mpjpe"])


def test_too_long_windows_are_refused(toy_data, toy_cfg):
    with pytest.raises(ConfigError, match="spans .* frames, more than 4x the longest training clip"):
        train(toy_cfg(tds=1000), dataset=toy_data)


def test_unavailable_device_is_one_sentence(toy_data, toy_cfg):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigError, match="CUDA is not available here"):
        train(toy_cfg(device="cuda"), dataset=toy_data)
    with pytest.raises(ConfigError, match="not a device name"):
        train(toy_cfg(device="foo"), dataset=toy_data)


def test_hooks_see_every_step(toy_data, toy_cfg):
    seen = []
    train(toy_cfg(epochs=1, max_steps=4), dataset=toy_data, hooks=[lambda t: seen.append(t.step_count)])
    assert seen == [1, 2, 3, 4]


# --------------------------------------------------------------------------- P-STMO stages


def test_pretrain_then_finetune_loads_the_encoder(toy_data, toy_cfg):
    pre = pretrain(toy_cfg("pretrain", "p-stmo-s", epochs=1, max_steps=3, run_name="pre"), dataset=toy_data)
    assert pre.metrics["stage"] == "pretrain" and math.isfinite(pre.metrics["recon_2d"])
    assert pre.history["val_name"].iloc[-1] == "recon_2d"
    state = checkpoint.load_checkpoint(pre.checkpoint)["model"]
    cfg = toy_cfg("lift", "p-stmo-s", epochs=1, max_steps=2, pretrained=str(pre.checkpoint), run_name="ft")
    stage = make_stage(
        cfg, toy_data, torch.device("cpu")
    )  # the Stage II model starts from Stage I's SEM + TEM
    for key in [k for k in state if k.startswith(("sem.", "tem."))]:
        assert torch.equal(stage.model.state_dict()[key], state[key]), key
    run = train(cfg, dataset=toy_data)
    assert {"mpjpe", "p_mpjpe", "n_mpjpe", "mpjve"} <= set(run.metrics)
    bad = toy_cfg("lift", "p-stmo-s", epochs=1, max_steps=1, pretrained=str(run.checkpoint), run_name="bad")
    with pytest.raises(CheckpointError, match="expected a pretrain"):
        train(bad, dataset=toy_data)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_stage1_masks_follow_the_strategy(toy_data, toy_cfg, strategy):
    cfg = toy_cfg("pretrain", "p-stmo-s", mask_strategy=strategy, mask_ratio=5 / 9, mask_joints=2)
    stage = PretrainStage(cfg, toy_data, torch.device("cpu"))
    t_mask, s_mask = stage.masks(17, torch.Generator().manual_seed(0))
    assert t_mask.shape == (9,) and s_mask.shape == (9, 17)
    assert int(t_mask.sum()) == (0 if strategy == "spatial" else 5)
    if strategy == "temporal":
        assert not s_mask.any()
    else:  # m = 2 joints per (visible) frame
        assert set(s_mask.sum(1).tolist()) <= {0, 2} and s_mask.any()


def test_stage2_loss_is_single_plus_lambda_multi(toy_data, toy_cfg):
    stage = make_stage(toy_cfg("lift", "p-stmo-s", lambda_multi=0.5), toy_data, torch.device("cpu"))
    model = stage.model.eval()
    batch = next(iter(WindowBatcher(toy_data.sequences("train"), frames=9, batch_size=4, shuffle=False)))
    out = model(batch.pose_2d)
    single = (out.center - batch.center_3d).norm(dim=-1).mean()
    multi = (out.frames - batch.pose_3d).norm(dim=-1).mean()
    assert stage.loss(model, batch).item() == pytest.approx((single + 0.5 * multi).item(), rel=1e-5)


def test_refinement_cameras_backproject_the_truth_also_for_flipped_windows(toy_data, toy_cfg):
    from pstmo.models.refine import backproject

    stage = RefineStage(toy_cfg("refine", "p-stmo-s"), toy_data, torch.device("cpu"))
    batcher = WindowBatcher(
        toy_data.sequences("train"), frames=9, batch_size=64, shuffle=True, flip=True, seed=1
    )
    batch = next(iter(batcher))
    assert batch.flipped.any() and (~batch.flipped).any()
    focal, principal, depth = stage.cameras.for_batch(batch)
    assert torch.allclose(focal, torch.ones_like(focal))
    assert torch.allclose(principal[:, 0], torch.where(batch.flipped, -0.2, 0.2))
    assert torch.allclose(depth, torch.full_like(depth, 4.0))
    # with the true depth, back-projecting the 2D input recovers the true (flipped) 3D pose
    xyz = backproject(batch.pose_2d[:, 4:5], batch.center_3d[..., 2], focal, principal, depth)
    assert torch.allclose(xyz, batch.center_3d, atol=1e-5)


def test_refinement_stage_trains_from_a_stage2_model(toy_data, toy_cfg):
    base = train(toy_cfg("lift", "p-stmo-s", epochs=1, max_steps=2, run_name="s2"), dataset=toy_data)
    cfg = toy_cfg("refine", "p-stmo-s", epochs=1, max_steps=2, init_from=str(base.checkpoint), lr=1e-5,
                  run_name="refine")  # fmt: skip
    run = train(cfg, dataset=toy_data)
    model, info = checkpoint.load_model(run.checkpoint)
    assert model.refiner is not None and info.stage == "refine"
    assert math.isfinite(run.metrics["mpjpe"])


class ShiftMPM(torch.nn.Module):
    """A stand-in Stage I model: the input shifted by +1 in x (a horizontal error of 1 everywhere)."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x, temporal_mask, spatial_mask):
        return x + torch.tensor([1.0, 0.0]) + self.w


def test_official_stage1_selection_flips_and_averages_per_action(toy_cfg):
    from pstmo.data.synthetic import synthetic_dataset

    data = synthetic_dataset(test=(("S9", "Walking"), ("S9", "Walking 1"), ("S11", "Eating")))
    ours = PretrainStage(toy_cfg("pretrain", "p-stmo-s", selection="test"), data, torch.device("cpu"))
    assert ours.validate(ShiftMPM()).value == pytest.approx(1.0)  # every joint is off by 1
    official = PretrainStage(
        toy_cfg("pretrain", "p-stmo-s", pretrain_selection="official", selection="test"),
        data,
        torch.device("cpu"),
    )
    # the flipped input's error (+1 in flipped x) flips back to -1: the average cancels it exactly
    val = official.validate(ShiftMPM())
    assert val.name == "recon_2d_official" and val.value == pytest.approx(0.0, abs=1e-6)


def test_stage1_selection_is_a_mean_over_actions(toy_cfg):
    from pstmo.data.synthetic import synthetic_dataset

    class Zero(torch.nn.Module):
        def forward(self, x, t, s):
            return torch.zeros_like(x)

    data = synthetic_dataset(test=(("S9", "Walking"), ("S9", "Walking 1"), ("S11", "Eating")))
    stage = PretrainStage(
        toy_cfg("pretrain", "p-stmo-s", pretrain_selection="official", selection="test"),
        data,
        torch.device("cpu"),
    )
    norms = [np.linalg.norm(s.pose_2d, axis=-1) for s in data.sequences("test")]  # the error of predicting 0
    windows = [
        np.stack([n[np.clip(t + np.arange(-4, 5), 0, len(n) - 1)].mean() for t in range(len(n))])
        for n in norms
    ]
    walk, eat = np.concatenate(windows[:2]).mean(), windows[2].mean()
    assert stage.validate(Zero()).value == pytest.approx((walk + eat) / 2, rel=1e-5)


@pytest.mark.parametrize("model", ["p-stmo-s", "liftformer"])
def test_fused_adam_takes_the_steps_of_the_per_tensor_loop(toy_data, toy_cfg, monkeypatch, model):
    """The trainer's fused Adam (pstmo.train.stages.fused_adam) against torch's per-tensor loop,
    which the official code runs, each stage's settings (amsgrad; LiftFormer's betas and eps): fed
    the same gradients for 5 steps, both move every weight to the same value up to float rounding.
    (Trained on their own, two runs part later: entries whose true gradient is zero, e.g. biases in
    front of a BatchNorm, hold round-off that Adam turns into moves of up to lr; docs/FIDELITY.md.)"""
    from pstmo.train import stages

    trainers = {}
    for fused in (False, True):
        monkeypatch.setattr(stages, "fused_adam", lambda device, fused=fused: fused)
        cfg = toy_cfg("lift", model, run_name=f"fused-{fused}", model_overrides={"dropout": 0.0})
        trainers[fused] = Trainer(cfg, toy_data)
        assert trainers[fused].optimizer.defaults["fused"] is fused
    loop, fused = trainers[False], trainers[True]
    start = {k: v.detach().clone() for k, v in loop.model.named_parameters()}
    assert all(torch.equal(start[k], v) for k, v in fused.model.named_parameters())
    loop.batcher.set_epoch(0)
    for _, batch in zip(range(5), loop.batcher):
        loop.optimizer.zero_grad()
        loop.stage.loss(loop.model, batch).backward()
        for (_, a), (_, b) in zip(loop.model.named_parameters(), fused.model.named_parameters()):
            b.grad = None if a.grad is None else a.grad.clone()
        loop.optimizer.step()
        fused.optimizer.step()
    after = dict(fused.model.named_parameters())
    moved = max((v - start[k]).abs().max().item() for k, v in loop.model.named_parameters())
    worst = max((v - after[k]).abs().max().item() for k, v in loop.model.named_parameters())
    assert moved > 1e-4 and worst < 1e-6, (moved, worst)
