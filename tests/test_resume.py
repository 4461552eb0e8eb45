"""A run killed mid-epoch (SIGKILL of a subprocess) and resumed ends with the same weights
as an uninterrupted run: CPU, deterministic algorithms, dropout RNG restored from the checkpoint.

The kill is injected with ``PSTMO_KILL_AT_STEP`` (the training process sends itself SIGKILL
right after that optimizer step), so it lands at a known point between two checkpoints.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import torch

from pstmo import engine

TESTS = Path(__file__).resolve().parent

SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_engine import ToyDataset, toy_cfg
    from pstmo import engine
    cfg = toy_cfg(Path({root!r}), stage="liftformer", epochs=3, checkpoint_every=2, deterministic=True,
                  run_name="run", resume=True)
    engine.train(cfg, dataset=ToyDataset())
    """
)


def run_script(root: Path, kill_at: int | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop(engine.KILL_ENV, None)
    if kill_at is not None:
        env[engine.KILL_ENV] = str(kill_at)
    code = SCRIPT.format(tests=str(TESTS), root=str(root))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)


def test_killed_and_resumed_run_matches_uninterrupted_run(tmp_path):
    # Uninterrupted reference, same script in a subprocess (same threads and settings).
    ref = run_script(tmp_path / "ref", kill_at=None)
    assert ref.returncode == 0, ref.stderr[-2000:]

    # 3 train sequences x 48 frames x 2 flip copies = 288 windows = 9 batches/epoch: step 13 is mid-epoch 2.
    killed = run_script(tmp_path / "kill", kill_at=13)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    last = tmp_path / "kill" / "run" / "last.pt"
    partial = engine.load_checkpoint(last)
    assert partial["step"] == 12 and partial["mid_epoch"] and partial["batcher"]["position"] == 3
    assert not (tmp_path / "kill" / "run" / "metrics.json").exists()

    resumed = run_script(tmp_path / "kill", kill_at=None)
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    a = engine.load_checkpoint(tmp_path / "ref" / "run" / "last.pt")
    b = engine.load_checkpoint(last)
    assert a["step"] == b["step"] == 27
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    assert [h["loss"] for h in a["history"]] == [h["loss"] for h in b["history"]]
    assert a["optimizer"]["state"][0]["exp_avg"].equal(b["optimizer"]["state"][0]["exp_avg"])
