"""A run killed mid-epoch (SIGKILL of a subprocess) and resumed ends with the same weights
as an uninterrupted run: CPU, deterministic algorithms, dropout RNG restored from the checkpoint.

The kill comes from a training hook (the process sends itself SIGKILL right after a given
optimizer step), so it lands at a known point between two checkpoints.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import torch

from pstmo.checkpoint import load_checkpoint

#: the toy LiftFormer of the other training tests (conftest.TOY_LIFTFORMER)
TOY_LIFTFORMER = {"dim": 16, "ff_dim": 32, "blocks": 1, "heads": 2}
SCRIPT = textwrap.dedent(
    """
    import os, signal
    from pstmo.config import get_profile
    from pstmo.data.synthetic import synthetic_dataset
    from pstmo.train import train

    kill_at = {kill_at!r}

    def kill(trainer):
        if trainer.step_count == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    cfg = get_profile("smoke", "lift", model="liftformer", frames=9, model_overrides={model!r}, results_dir={root!r},
                      epochs=3, max_steps=None, batch_size=32, progress=False, eval_max_frames=None,
                      checkpoint_every=2, deterministic=True, run_name="run", resume=True)
    train(cfg, dataset=synthetic_dataset(), hooks=[kill] if kill_at else [])
    """
)


def run_script(root: Path, kill_at: int | None) -> subprocess.CompletedProcess:
    code = SCRIPT.format(root=str(root), kill_at=kill_at, model=TOY_LIFTFORMER)
    return subprocess.run([sys.executable, "-c", code], env=dict(os.environ), capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def test_killed_and_resumed_run_matches_uninterrupted_run(tmp_path):
    ref = run_script(tmp_path / "ref", kill_at=None)
    assert ref.returncode == 0, ref.stderr[-2000:]

    # 3 train sequences x 48 frames x 2 flip copies = 288 windows = 9 batches/epoch: step 13 is mid-epoch 2.
    killed = run_script(tmp_path / "kill", kill_at=13)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    last = tmp_path / "kill" / "run" / "last.pt"
    partial = load_checkpoint(last)
    assert partial["step"] == 12 and partial["mid_epoch"] and partial["batcher"]["position"] == 3
    assert not (tmp_path / "kill" / "run" / "metrics.json").exists()

    resumed = run_script(tmp_path / "kill", kill_at=None)
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    a = load_checkpoint(tmp_path / "ref" / "run" / "last.pt")
    b = load_checkpoint(last)
    assert a["step"] == b["step"] == 27
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    assert [h["loss"] for h in a["history"]] == [h["loss"] for h in b["history"]]
    assert a["optimizer"]["state"][0]["exp_avg"].equal(b["optimizer"]["state"][0]["exp_avg"])
