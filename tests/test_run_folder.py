"""Checkpoints that always leave a loadable ``last.pt``, and run folders (issue 18).

``pstmo.checkpoint.save(path, payload, previous=...)`` writes a temporary file beside ``path``,
fsyncs it, links the old file to ``previous`` and only then replaces ``path``: each step is
interrupted here in turn (an exception raised in its place, as a crash would stop the process)
and ``last.pt`` must still load. A run folder moved to another results folder resumes there;
one that disappears while the run trains stops it and is not re-created.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from pstmo import checkpoint, io
from pstmo.checkpoint import build_run_model, load_checkpoint, payload
from pstmo.train import train


class Crash(BaseException):
    """Stands for the process dying at this point (not an error that pstmo could handle)."""


def _write(tmp_path: Path, toy_cfg, seed: int) -> tuple[Path, dict]:
    cfg = toy_cfg("lift", "p-stmo-s")
    torch.manual_seed(seed)
    data = payload(build_run_model(cfg), cfg)
    checkpoint.save(tmp_path / "last.pt", data, previous=tmp_path / "last.prev.pt")
    return tmp_path / "last.pt", data


def _same(ckpt: dict, data: dict) -> bool:
    return all(torch.equal(ckpt["model"][k], v) for k, v in data["model"].items())


def _crash_on(monkeypatch, target, name: str, call: int = 1) -> None:
    """Replace ``target.name`` by a wrapper that raises :class:`Crash` at its ``call``-th call."""
    real, calls = getattr(target, name), []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise Crash(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapper)


def _partial_torch_save(obj, fh, *args, **kwargs):
    fh.write(b"PK\x03\x04 half a checkpoint")
    raise Crash("torch.save")


@pytest.mark.parametrize(
    "where",
    ["while-writing", "before-linking", "while-renaming-prev", "before-replacing", "before-folder-fsync"],
)
def test_an_interrupted_save_leaves_a_loadable_last_pt(tmp_path, toy_cfg, monkeypatch, where):
    last, old = _write(tmp_path, toy_cfg, seed=1)
    _write(tmp_path, toy_cfg, seed=2)  # a last.prev.pt exists too
    last, old = _write(tmp_path, toy_cfg, seed=3)
    cfg = toy_cfg("lift", "p-stmo-s")
    torch.manual_seed(4)
    new = payload(build_run_model(cfg), cfg)
    if where == "while-writing":
        monkeypatch.setattr(checkpoint.torch, "save", _partial_torch_save)
    elif where == "before-linking":
        _crash_on(monkeypatch, os, "link")
    elif where == "while-renaming-prev":
        _crash_on(monkeypatch, os, "replace", call=1)  # the link onto last.prev.pt
    elif where == "before-replacing":
        _crash_on(monkeypatch, os, "replace", call=2)  # the new file onto last.pt
    else:
        _crash_on(monkeypatch, io, "fsync_dir")
    with pytest.raises(Crash):
        checkpoint.save(last, new, previous=tmp_path / "last.prev.pt")
    monkeypatch.undo()
    loaded = load_checkpoint(last)  # never absent, never half-written
    assert _same(loaded, new if where == "before-folder-fsync" else old)
    prev = load_checkpoint(tmp_path / "last.prev.pt")
    assert _same(prev, old) or where in ("while-writing", "before-linking", "while-renaming-prev")
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"], "a temporary file was left behind"


def test_save_keeps_the_previous_file_and_never_renames_last_away(tmp_path, toy_cfg, monkeypatch):
    last, first = _write(tmp_path, toy_cfg, seed=1)
    renamed = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (renamed.append(Path(a).name), real(a, b))[1])
    _, second = _write(tmp_path, toy_cfg, seed=2)
    assert "last.pt" not in renamed, "last.pt was renamed away"
    assert _same(load_checkpoint(last), second) and _same(load_checkpoint(tmp_path / "last.prev.pt"), first)


def test_save_without_hard_links_copies_the_previous_file(tmp_path, toy_cfg, monkeypatch):
    _, first = _write(tmp_path, toy_cfg, seed=1)

    def no_links(*args):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    _, second = _write(tmp_path, toy_cfg, seed=2)
    assert _same(load_checkpoint(tmp_path / "last.prev.pt"), first)
    assert _same(load_checkpoint(tmp_path / "last.pt"), second)


def _resumable(toy_cfg, root: Path, **kw):
    return toy_cfg("lift", "p-stmo-s", root=root, run_name="run", epochs=3, max_steps=2, checkpoint_every=1,
                   resume=True, **kw)  # fmt: skip


def test_a_run_folder_moved_to_another_results_folder_resumes_there(tmp_path, toy_cfg, toy_data, one_thread):
    """Paths (results_dir, data_dir, pretrained) are not part of the configuration that must match;
    the files they named need not exist any more: the weights are in last.pt."""
    old, new = tmp_path / "old", tmp_path / "new"
    pre = toy_cfg("pretrain", "p-stmo-s", root=old)
    checkpoint.save_model(build_run_model(pre), pre, old / "stage1.pt")
    first = train(_resumable(toy_cfg, old, pretrained=str(old / "stage1.pt")), dataset=toy_data)
    assert first.run_dir == old / "run" and load_checkpoint(old / "run" / "last.pt")["step"] == 2
    shutil.move(old, new)
    for pretrained in (new / "stage1.pt", old / "stage1.pt"):  # the new path, or the old one (gone)
        cfg = _resumable(toy_cfg, new, pretrained=str(pretrained)).replace(
            max_steps=3 if pretrained == old else 4
        )
        run = train(cfg, dataset=toy_data)
        assert (
            run.run_dir == new / "run" and load_checkpoint(new / "run" / "last.pt")["step"] == cfg.max_steps
        )
    assert not old.exists(), "the old results folder was re-created"


def test_a_run_folder_that_disappears_stops_the_run_and_is_not_re_created(
    tmp_path, toy_cfg, toy_data, one_thread
):
    from pstmo.errors import TrainingError

    def remove(trainer):
        if trainer.step_count == 1:
            shutil.rmtree(trainer.run_dir)

    cfg = _resumable(toy_cfg, tmp_path)
    with pytest.raises(
        TrainingError, match=r"run folder .*run disappeared during training \(epoch 1, step 1\)"
    ):
        train(cfg, dataset=toy_data, hooks=[remove])
    assert not (tmp_path / "run").exists()
