"""One official training step per stage: ``pstmo official verify`` on training-step fixtures.

CI rests on the shared ``official_pstmo_train_step.npz`` (computed with the official code);
the tests that write fixtures of other sizes with ``tools/make_official_fixture.py`` need a
clone of the official code at ``OFFICIAL`` and skip without one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import OFFICIAL, ROOT, SHARED

from pstmo.cli import main

TRAIN_STEP = SHARED / "fixtures" / "official_pstmo_train_step.npz"
TOOL = ROOT / "tools" / "make_official_fixture.py"


@pytest.fixture(scope="module")
def train_step() -> dict[str, np.ndarray]:
    if not TRAIN_STEP.exists():
        pytest.skip(f"shared fixture not found: {TRAIN_STEP}")
    return dict(np.load(TRAIN_STEP))


def _verify(path: Path, capsys, *extra: str) -> tuple[int, str, str]:
    code = main(["official", "verify", str(path), *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_shared_train_step_fixture_passes(train_step, capsys):
    code, out, _ = _verify(TRAIN_STEP, capsys)
    assert code == 0, out
    assert "stage2 (Stage II" in out and "stage1 (Stage I" in out and "PASS (training step" in out
    for line in ("  loss ", "  gradient  worst error", "  weights   worst error"):
        assert out.count(line) == 2  # once per stage
    # The worst entries are named both ways: pstmo name and official name.
    assert "(official encoder." in out or "(official Transformer" in out or "(official fcn" in out
    assert "FAIL" not in out


def test_perturbed_gradient_fails_naming_the_parameter(train_step, tmp_path, capsys):
    data = dict(train_step)
    key = "stage2/grad/encoder.fc_2.weight"
    grad = data[key].copy()
    grad.flat[7] += 1e-3
    data[key] = grad
    np.savez(tmp_path / "bad_grad.npz", **data)
    code, out, _ = _verify(tmp_path / "bad_grad.npz", capsys)
    assert code == 1
    line = next(ln for ln in out.splitlines() if "gradient" in ln and "FAIL" in ln)
    assert "sem.fc_out.weight" in line and "encoder.fc_2.weight" in line
    assert "1.000e-03" in line or "9.99" in line  # the perturbation is the worst error
    assert out.strip().endswith("(training step, tolerance 1e-05)") and "\nFAIL" in out


def test_perturbed_weight_after_the_step_fails(train_step, tmp_path, capsys):
    data = dict(train_step)
    key = "stage1/after/fcn_dec.1.weight"  # the head: every entry has a large gradient
    assert np.abs(data["stage1/grad/fcn_dec.1.weight"]).min() > 1e-6
    w = data[key].copy()
    w.flat[3] += 5e-5  # half the Stage I lr: only the tight check can see it
    data[key] = w
    np.savez(tmp_path / "bad_after.npz", **data)
    code, out, _ = _verify(tmp_path / "bad_after.npz", capsys)
    assert code == 1
    line = next(ln for ln in out.splitlines() if "weights" in ln and "FAIL" in ln)
    assert "head.conv.weight" in line and "fcn_dec.1.weight" in line


def test_perturbed_loss_fails(train_step, tmp_path, capsys):
    data = dict(train_step)
    data["stage2/loss"] = np.array(float(data["stage2/loss"]) + 1e-4)
    np.savez(tmp_path / "bad_loss.npz", **data)
    code, out, _ = _verify(tmp_path / "bad_loss.npz", capsys)
    assert code == 1
    assert any(ln.startswith("  loss") and "FAIL" in ln for ln in out.splitlines())


def test_a_moved_zero_gradient_entry_beyond_lr_fails(train_step, tmp_path, capsys):
    """Entries with zero true gradient are held to one Adam step (< lr), not left unchecked."""
    data = dict(train_step)
    key = "stage2/after/Transformer.model.layers.0.self_attn.linears.1.bias"  # key bias: zero gradient
    assert np.abs(data["stage2/grad/Transformer.model.layers.0.self_attn.linears.1.bias"]).max() < 1e-8
    b = data[key].copy()
    b.flat[0] += 3 * float(data["config/lr_stage2"])
    data[key] = b
    np.savez(tmp_path / "bad_zero.npz", **data)
    code, out, _ = _verify(tmp_path / "bad_zero.npz", capsys)
    assert code == 1
    line = next(ln for ln in out.splitlines() if "zero-gradient" in ln and "FAIL" in ln)
    assert "tem.layers.0.attn.k.bias" in line


def _one_line_error(code: int, err: str) -> str:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # one sentence, no traceback
    return lines[0]


def test_truncated_empty_and_missing_fixture_exit_2(train_step, tmp_path, capsys):
    raw = TRAIN_STEP.read_bytes()
    (tmp_path / "truncated.npz").write_bytes(raw[: len(raw) // 3])
    (tmp_path / "empty.npz").write_bytes(b"")
    for name in ("truncated.npz", "empty.npz", "absent.npz"):
        code, _, err = _verify(tmp_path / name, capsys)
        line = _one_line_error(code, err)
        assert name in line


@pytest.mark.parametrize(
    "key",
    ["stage1/loss", "config/lr_stage2", "stage2/target_3d", "stage1/spatial_mask", "stage2/after/fcn.1.bias"],
)
def test_missing_key_exits_2_naming_it(train_step, tmp_path, capsys, key):
    data = dict(train_step)
    del data[key]
    np.savez(tmp_path / "missing.npz", **data)
    code, _, err = _verify(tmp_path / "missing.npz", capsys)
    line = _one_line_error(code, err)
    assert "missing.npz" in line and key.rsplit("/", 1)[-1] in line


def test_wrong_shape_exits_2(train_step, tmp_path, capsys):
    data = dict(train_step)
    data["stage2/input_2d"] = data["stage2/input_2d"][:, :5]
    np.savez(tmp_path / "shape.npz", **data)
    code, _, err = _verify(tmp_path / "shape.npz", capsys)
    line = _one_line_error(code, err)
    assert "stage2/input_2d" in line and "expected (B, 27, J, 2)" in line


def test_unknown_kind_exits_2(tmp_path, capsys):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    code, _, err = _verify(tmp_path / "other.npz", capsys)
    assert "not an official P-STMO fixture" in _one_line_error(code, err)


# --------------------------------------------------------------------------- other sizes (official clone)


def _make(tmp_path: Path, name: str, *args: str) -> Path:
    if not (OFFICIAL / "model" / "stmo_pretrain.py").is_file():
        pytest.skip(f"no clone of the official P-STMO code at {OFFICIAL}")
    out = tmp_path / name
    subprocess.run(
        [sys.executable, str(TOOL), "--official-repo", str(OFFICIAL), "--out", str(out), *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    "name,args",
    [
        (
            "n9.npz",
            ["--frames", "9", "--layers", "3", "--channel", "48", "--hidden", "96"]
            + ["--spatial-mask-num", "3", "--temporal-mask-ratio", "0.6", "--seed", "1"],
        ),
        (
            "n81.npz",
            ["--frames", "81", "--layers", "2", "--channel", "32", "--hidden", "64", "--batch", "4"]
            + ["--spatial-mask-num", "7", "--temporal-mask-ratio", "0.9", "--seed", "2"],
        ),
    ],
)
def test_train_step_fixture_of_other_sizes_passes(tmp_path, capsys, name, args):
    path = _make(tmp_path, name, "--kind", "train_step", *args)
    data = np.load(path)
    n = int(data["config/frames"])
    assert data["stage1/temporal_mask"].sum() == int(n * float(data["config/temporal_mask_ratio"]))
    assert not data["stage1/spatial_mask"][:, 16].any()
    code, out, _ = _verify(path, capsys)
    assert code == 0, out
    assert "PASS (training step" in out


@pytest.mark.slow
def test_forward_fixture_of_other_sizes_passes(tmp_path, capsys):
    path = _make(
        tmp_path, "fwd.npz", "--kind", "forward", "--frames", "81", "--layers", "3", "--channel", "48",
        "--hidden", "96", "--spatial-mask-num", "3", "--temporal-mask-ratio", "0.6", "--batch", "3",
    )  # fmt: skip
    code, out, _ = _verify(path, capsys, "--attention", "sdpa")
    assert code == 0, out
    assert "PASS (forward pass" in out


FIXTURE_ARGS = {  # the committed fixtures of tests/fixtures/ and the tool options that wrote them
    "official_wild_tiny.npz": [
        "--kind",
        "wild",
        "--frames",
        "27",
        "--layers",
        "2",
        "--channel",
        "16",
        "--hidden",
        "32",
    ],
    "official_windows.npz": ["--kind", "windows", "--channel", "16", "--hidden", "32"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIXTURE_ARGS))
def test_committed_fixtures_are_what_the_tool_writes_from_the_official_code(tmp_path, name):
    ours = np.load(_make(tmp_path, name, *FIXTURE_ARGS[name]))
    committed = np.load(ROOT / "tests" / "fixtures" / name)
    assert sorted(ours.files) == sorted(committed.files)
    for key in ours.files:
        if ours[key].dtype.kind == "f":
            np.testing.assert_allclose(ours[key], committed[key], atol=1e-6, err_msg=key)
        else:
            np.testing.assert_array_equal(ours[key], committed[key], err_msg=key)
