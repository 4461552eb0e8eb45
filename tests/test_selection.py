"""Model selection on a split held out from the training subjects, early stopping, fixed-length
epochs (the ``demo`` profile's schedule)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pstmo.config import get_profile
from pstmo.data import load_dataset
from pstmo.errors import ConfigError
from pstmo.train import train
from pstmo.train.stages import Validation


def test_holdout_cuts_the_tail_of_every_training_sequence_in_every_camera():
    ds = load_dataset("demo")
    held = ds.with_holdout(0.1)
    full = ds.sequences("train")
    head, tail = held.sequences("train"), held.sequences("val")
    assert len(full) == len(head) == len(tail)
    for f, h, t in zip(full, head, tail):
        n_val = max(1, round(len(f) * 0.1))
        assert len(t) == n_val and len(h) == len(f) - n_val
        np.testing.assert_array_equal(np.concatenate([h.pose_2d, t.pose_2d]), f.pose_2d)
        np.testing.assert_array_equal(np.concatenate([h.pose_3d, t.pose_3d]), f.pose_3d)
        assert (f.subject, f.camera) == (t.subject, t.camera)
    # the test split is untouched, and never part of "val"
    assert [len(s) for s in held.sequences("test")] == [len(s) for s in ds.sequences("test")]
    assert set(held.splits["val"]) == set(ds.splits["train"])
    assert not set(held.splits["val"]) & set(ds.splits["test"])


def test_holdout_fraction_is_checked():
    ds = load_dataset("demo")
    assert ds.with_holdout(0.0) is ds
    with pytest.raises(ConfigError, match="val_fraction"):
        get_profile("smoke", "lift", val_fraction=0.7)
    with pytest.raises(ConfigError, match="selection"):
        get_profile("smoke", "lift", selection="train")


def _cfg(tmp_path, **kw):
    base = dict(results_dir=str(tmp_path), progress=False, eval_max_frames=16, batch_size=16, frames=9)
    base.update(kw)
    frames = base.pop("frames")
    return get_profile("smoke", "lift", frames=frames, **base)


def test_best_is_selected_on_the_validation_split(tmp_path):
    run = train(_cfg(tmp_path, epochs=1, max_steps=2, run_name="val"))
    metrics = json.loads((run.run_dir / "metrics.json").read_text())
    assert metrics["selected_on"]["split"] == "val"
    # the reported metric is the whole test split, not the validation value
    assert metrics["mpjpe"] != pytest.approx(metrics["selected_on"]["value"])
    official = train(_cfg(tmp_path, epochs=1, max_steps=2, run_name="test", selection="test"))
    assert json.loads((official.run_dir / "metrics.json").read_text())["selected_on"]["split"] == "test"


def test_epoch_steps_fix_the_length_of_an_epoch(tmp_path):
    run = train(_cfg(tmp_path, epochs=3, max_steps=None, epoch_steps=2, run_name="short"))
    assert run.history["step"].tolist() == [2, 4, 6]


def test_patience_stops_after_that_many_validations_without_improvement(tmp_path, monkeypatch):
    values = iter([5.0, 4.0, 4.5, 4.2, 4.1, 3.0, 2.0])  # best at the 2nd; 3 stale ones follow

    def fake_validate(self, model):
        return Validation("mpjpe", next(values))

    monkeypatch.setattr("pstmo.train.stages.LiftStage.validate", fake_validate)
    monkeypatch.setattr(
        "pstmo.train.stages.LiftStage.final_metrics", lambda self, best, run_dir, val: {"mpjpe": val.value}
    )
    run = train(
        _cfg(tmp_path, epochs=20, max_steps=None, epoch_steps=1, eval_every=1, patience=3, run_name="stop")
    )
    assert run.history["epoch"].tolist() == [1, 2, 3, 4, 5]
    assert run.metrics["mpjpe"] == 4.0
