"""Crafted files never run code: every loader, ``pstmo data check/info`` and the fixture reader
refuse pickles that name anything but dicts, lists, strings, numbers and NumPy arrays.

Each payload is a real exploit: ``test_payloads_are_real`` shows that ``np.load(...,
allow_pickle=True)`` runs it (the marker file appears). Everywhere else the marker must never
appear and the error must be one :class:`DataError` sentence naming file and key.
"""

from __future__ import annotations

import io
import os
import pickle
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pstmo.cli import main
from pstmo.data import demo_dir, load_dataset
from pstmo.data.files import check_files
from pstmo.data.h36m import load_h36m
from pstmo.data.keypoints import read_keypoints
from pstmo.data.safe_npz import load_npy, open_npz
from pstmo.errors import DataError
from pstmo.official.verify import verify_fixture

T = 6
H36M_SYMMETRY = [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]


class Call:
    """Pickles as ``fn(*args)``: the callable is itself pickled, so calls can nest."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args

    def __call__(self, *args):  # pickle checks that the first item of __reduce__ is callable
        raise AssertionError("never called while pickling")


def _touch(marker: Path) -> str:
    return f"touch {marker}"


#: name -> (payload factory(marker), the global named in the refusal)
PAYLOADS = {
    "os.system": (lambda m: Call(os.system, _touch(m)), r"(os|posix)\.system"),
    "eval": (lambda m: Call(eval, f"open({str(m)!r}, 'w').close()"), r"builtins\.eval"),
    "exec": (lambda m: Call(exec, f"open({str(m)!r}, 'w').close()"), r"builtins\.exec"),
    "subprocess.Popen": (lambda m: Call(subprocess.Popen, ["touch", str(m)]), r"subprocess\.Popen"),
    "getattr chain": (
        lambda m: Call(Call(getattr, Call(__import__, "os"), "system"), _touch(m)),
        r"builtins\.getattr",
    ),
    "numpy.savetxt": (lambda m: Call(np.savetxt, str(m), np.zeros(1)), r"numpy\.savetxt"),
    "bound ndarray.tofile": (lambda m: Call(np.zeros(1).tofile, str(m)), r"builtins\.getattr"),
}
#: a protocol-0 pickle written by hand: the classic ``cos\nsystem`` exploit
RAW_PICKLES = {
    "raw protocol 0": (lambda m: f"cos\nsystem\n(S'{_touch(m)}'\ntR.".encode(), r"os\.system"),
    "persistent id": (lambda m: b"Pmarker\n.", r"persistent id"),
}
ALL = {**PAYLOADS, **RAW_PICKLES}


def _obj(value) -> np.ndarray:
    a = np.empty((), dtype=object)
    a[()] = value
    return a


def _write_npz(path: Path, **members) -> None:
    """Write an .npz whose members are arrays or raw pickle bytes (an object-array member)."""
    with zipfile.ZipFile(path, "w") as zf:
        for key, value in members.items():
            buf = io.BytesIO()
            if isinstance(value, bytes):
                np.lib.format.write_array_header_1_0(
                    buf, {"descr": "|O", "fortran_order": False, "shape": ()}
                )
                buf.write(value)
            else:
                np.lib.format.write_array(buf, np.asanyarray(value), allow_pickle=True)
            zf.writestr(f"{key}.npy", buf.getvalue())


def _payload(name: str, marker: Path):
    make, _ = ALL[name]
    return make(marker)


def _member(payload):
    return payload if isinstance(payload, bytes) else _obj(payload)


def _good_3d(joints=17):
    rng = np.random.default_rng(0)
    return {"S1": {"Walking 1": rng.normal(size=(T, joints, 3)).astype(np.float32) + [0, 0, 1]}}


def _good_2d(joints=17, cams=4):
    rng = np.random.default_rng(1)
    return {
        "S1": {"Walking 1": [rng.uniform(0, 1000, (T, joints, 2)).astype(np.float32) for _ in range(cams)]}
    }


def _meta(joints=17, symmetry=H36M_SYMMETRY):
    return {"num_joints": joints, "keypoints_symmetry": symmetry}


# ----------------------------------------------------------------------------- the exploits are real


@pytest.mark.parametrize("name", list(ALL))
def test_payloads_are_real(tmp_path, name):
    """Control: NumPy's own loader with allow_pickle=True runs every payload (except the
    persistent id, which plain pickle refuses too)."""
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    _write_npz(path, positions_3d=_member(_payload(name, marker)))
    try:
        with np.load(path, allow_pickle=True) as npz:
            value = npz["positions_3d"]
    except pickle.UnpicklingError:
        assert name == "persistent id"
        return
    item = value.item() if isinstance(value, np.ndarray) else value
    if isinstance(item, subprocess.Popen):
        item.wait(timeout=30)
    for _ in range(50):
        if marker.exists():
            break
        time.sleep(0.1)
    assert marker.exists(), f"{name}: the crafted file did not run its payload under np.load"


# ----------------------------------------------------------------------------- every loader refuses

LOCATIONS = ("3d top", "3d nested", "2d nested", "metadata nested")


def _h36m_files(
    folder: Path, where: str, payload, names=("data_3d_h36m.npz", "data_2d_h36m_gt.npz"), joints=17
):
    p3, p2, meta = _good_3d(joints), _good_2d(joints), _meta(joints)
    if isinstance(payload, bytes) and where != "3d top":
        where = "3d top"  # a raw pickle can only be a whole member
    members_3d = {"positions_3d": _obj(p3)}
    members_2d = {"positions_2d": _obj(p2), "metadata": _obj(meta)}
    if where == "3d top":
        members_3d["positions_3d"] = _member(payload)
    elif where == "3d nested":
        p3["S1"]["Walking 2"] = payload
        members_3d["positions_3d"] = _obj(p3)
    elif where == "2d nested":
        p2["S1"]["Walking 1"].append(payload)
        members_2d["positions_2d"] = _obj(p2)
    else:
        meta["keypoints_symmetry"] = [H36M_SYMMETRY[0], payload]
        members_2d["metadata"] = _obj(meta)
    _write_npz(folder / names[0], **members_3d)
    _write_npz(folder / names[1], **members_2d)
    return folder / names[0], folder / names[1]


def _assert_refused(exc_or_text, name: str, marker: Path) -> None:
    text = str(exc_or_text)
    assert "refuses to load: the pickled object references" in text, text
    assert re.search(ALL[name][1], text), text
    assert ".npz" in text and "key '" in text, text  # names file and key
    assert not marker.exists()


@pytest.mark.parametrize("where", LOCATIONS)
@pytest.mark.parametrize("name", list(ALL))
def test_h36m_loader_and_check_refuse(tmp_path, name, where):
    marker = tmp_path / "pwned"
    p3, p2 = _h36m_files(tmp_path, where, _payload(name, marker))
    with pytest.raises(DataError) as err:
        load_h36m(tmp_path, keypoints="gt")
    _assert_refused(err.value, name, marker)
    with pytest.raises(DataError) as err:
        load_dataset("h36m", data_dir=tmp_path, keypoints="gt")
    _assert_refused(err.value, name, marker)
    problems, _ = check_files(p3, p2)
    assert len(problems) == 1
    _assert_refused(problems[0], name, marker)
    bad = p3 if where.startswith("3d") or isinstance(_payload(name, marker), bytes) else p2
    problems, _ = check_files(bad)
    assert len(problems) == 1
    _assert_refused(problems[0], name, marker)


@pytest.mark.parametrize("name", list(ALL))
def test_humaneva_and_demo_loaders_refuse(tmp_path, name):
    marker = tmp_path / "pwned"
    payload = _payload(name, marker)
    humaneva = tmp_path / "humaneva"
    humaneva.mkdir()
    _h36m_files(
        humaneva, "3d nested", payload, ("data_3d_humaneva15.npz", "data_2d_humaneva15_gt.npz"), joints=15
    )
    with pytest.raises(DataError) as err:
        load_dataset("humaneva", data_dir=humaneva)
    _assert_refused(err.value, name, marker)
    demo = tmp_path / "demo"
    demo.mkdir()
    shutil.copy(demo_dir() / "demo_cameras.json", demo)
    _h36m_files(demo, "2d nested", payload, ("data_3d_demo.npz", "data_2d_demo_gt.npz"))
    with pytest.raises(DataError) as err:
        load_dataset("demo", data_dir=demo)
    _assert_refused(err.value, name, marker)


@pytest.mark.parametrize("name", list(ALL))
def test_3dhp_loader_refuses(tmp_path, name):
    marker = tmp_path / "pwned"
    payload = _payload(name, marker)
    rng = np.random.default_rng(2)
    anim = {"data_2d": rng.uniform(0, 2048, (T, 17, 2)), "data_3d": rng.normal(0, 500, (T, 17, 3))}
    if isinstance(payload, bytes):
        _write_npz(tmp_path / "data_train_3dhp.npz", data=payload)
    else:
        _write_npz(tmp_path / "data_train_3dhp.npz", data=_obj({"S1 Seq1": [{0: anim}, payload]}))
    _write_npz(tmp_path / "data_test_3dhp.npz", data=_obj({"TS1": dict(anim, valid=np.ones(T))}))
    with pytest.raises(DataError) as err:
        load_dataset("3dhp", data_dir=tmp_path)
    _assert_refused(err.value, name, marker)
    problems, _ = check_files(tmp_path / "data_train_3dhp.npz")
    assert len(problems) == 1
    _assert_refused(problems[0], name, marker)


@pytest.mark.parametrize("name", list(ALL))
def test_keypoints_and_fixture_never_unpickle(tmp_path, name):
    """Files that hold only numbers refuse object members without unpickling them at all."""
    marker = tmp_path / "pwned"
    member = _member(_payload(name, marker))
    npz = tmp_path / "kp.npz"
    _write_npz(npz, keypoints=member)
    with pytest.raises(DataError, match=r"kp\.npz: key 'keypoints': holds pickled Python objects"):
        read_keypoints(npz, 640, 480)
    npy = tmp_path / "kp.npy"
    npy.write_bytes(zipfile.ZipFile(npz).read("keypoints.npy"))
    with pytest.raises(DataError, match=r"kp\.npy: holds pickled Python objects"):
        read_keypoints(npy, 640, 480)
    with pytest.raises(DataError, match="holds pickled Python objects"):
        load_npy(npy)
    fixture = tmp_path / "fixture.npz"
    _write_npz(fixture, **{"config/frames": member})
    with pytest.raises(DataError, match=r"fixture\.npz: key 'config/frames': holds pickled Python objects"):
        verify_fixture(str(fixture))
    assert not marker.exists()


# ----------------------------------------------------------------------------- the command line


@pytest.mark.parametrize("name", list(ALL))
def test_cli_data_check_and_info(tmp_path, capsys, name):
    marker = tmp_path / "pwned"
    p3, p2 = _h36m_files(tmp_path, "3d nested", _payload(name, marker))
    for argv in (
        ["data", "check", str(p3)],
        ["data", "check", str(p3), str(p2)],
        ["data", "info", "--dataset", "h36m", "--data-dir", str(tmp_path), "--keypoints", "gt"],
    ):
        assert main(argv) == 2, argv
        captured = capsys.readouterr()
        err = captured.err.strip().splitlines()
        assert len(err) == 1 and "Traceback" not in captured.err, captured.err
        _assert_refused(err[0], name, marker)
    _write_npz(tmp_path / "fixture.npz", **{"config/frames": _member(_payload(name, marker))})
    assert main(["official", "verify", str(tmp_path / "fixture.npz")]) == 2
    err = capsys.readouterr().err
    assert "fixture.npz: key 'config/frames': holds pickled Python objects" in err and "Traceback" not in err
    assert not marker.exists()


def test_cli_train_refuses_before_running_anything(tmp_path, capsys):
    marker = tmp_path / "pwned"
    data = tmp_path / "data"
    data.mkdir()
    _h36m_files(data, "3d top", _payload("os.system", marker))
    argv = ["train", "--dataset", "h36m", "--data-dir", str(data), "--keypoints", "gt"]
    argv += ["--results-dir", str(tmp_path / "results"), "--max-steps", "1", "--device", "cpu"]
    assert main(argv) == 2
    assert "refuses to load" in capsys.readouterr().err
    assert not marker.exists() and not (tmp_path / "results").exists()


# ----------------------------------------------------------------------------- the restricted unpickler's wrappers


@pytest.mark.parametrize(
    "payload",
    [
        Call(__import__("codecs").encode, "abc", "rot13"),  # _codecs.encode is admitted for latin1 only
        Call(np.dtype, Call(str, "f8")),  # builtins.str as a global is not admitted
    ],
)
def test_admitted_globals_only_build_what_numpy_builds(tmp_path, payload):
    path = tmp_path / "x.npz"
    _write_npz(path, positions_3d=_obj({"S1": {"A": payload}}))
    with pytest.raises(DataError, match=r"x\.npz: key 'positions_3d': (refuses to load|cannot unpickle)"):
        open_npz(path)["positions_3d"]


def test_dotted_and_lookalike_names_are_refused(tmp_path):
    for module, name in (("numpy", "ndarray.tofile"), ("numpy.core.multiarray", "_reconstruct.__globals__")):
        raw = f"c{module}\n{name}\n.".encode()
        path = tmp_path / "x.npz"
        _write_npz(path, positions_3d=raw)
        with pytest.raises(DataError, match=re.escape(f"references {module}.{name},")):
            open_npz(path)["positions_3d"]


# ----------------------------------------------------------------------------- real files still load


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("name", ["data_3d_demo.npz", "data_2d_demo_gt.npz", "data_2d_demo_det.npz"])
def test_shipped_demo_files_load_exactly_as_numpy_loads_them(name):
    path = demo_dir() / name
    with np.load(path, allow_pickle=True) as trusted:  # our own shipped files: trusted here
        safe = open_npz(path)
        assert sorted(safe.files) == sorted(trusted.files)
        for key in trusted.files:
            assert _same(trusted[key].item(), safe[key].item()), key


def test_videopose3d_style_files_load(tmp_path):
    """Files written the way VideoPose3D's prepare_data scripts write them (a dict passed to
    ``np.savez_compressed``), with NumPy scalars in the metadata."""
    rng = np.random.default_rng(3)
    p3 = {"S1": {"Walking 1": rng.normal(size=(T, 32, 3)).astype(np.float32) + [0, 0, 1]}}
    p3["S9"] = {"Eating": rng.normal(size=(T, 32, 3)).astype(np.float32) + [0, 0, 1]}
    p2 = {
        s: {c: [rng.uniform(0, 1000, (T, 17, 2)).astype(np.float32) for _ in range(4)] for c in a}
        for s, a in p3.items()
    }
    meta = {"layout_name": "h36m", "num_joints": np.int64(17), "keypoints_symmetry": H36M_SYMMETRY}
    np.savez_compressed(tmp_path / "data_3d_h36m.npz", positions_3d=p3)
    np.savez_compressed(tmp_path / "data_2d_h36m_gt.npz", positions_2d=p2, metadata=meta)
    ds = load_h36m(tmp_path, keypoints="gt")
    assert ds.subjects == ["S1", "S9"] and ds.info()["frames"] == 2 * T
    raw = open_npz(tmp_path / "data_2d_h36m_gt.npz")
    assert _same(raw["positions_2d"].item(), p2) and raw["metadata"].item()["num_joints"] == 17
    assert (
        main(["data", "check", str(tmp_path / "data_3d_h36m.npz"), str(tmp_path / "data_2d_h36m_gt.npz")])
        == 0
    )


def _with_numpy_module(data: bytes, core: str) -> bytes:
    """The same pickle naming NumPy's modules ``core`` + ".multiarray" / ".numeric"."""
    if data[2:3] == b"\x95":  # protocol >= 4: drop the (optional) frame, then patch the strings
        data = data[:2] + data[11:]
    for mod in ("multiarray", "numeric"):
        for old in ("numpy.core", "numpy._core"):
            o, n = f"{old}.{mod}".encode(), f"{core}.{mod}".encode()
            data = data.replace(b"c" + o + b"\n", b"c" + n + b"\n")  # GLOBAL (protocol <= 3)
            data = data.replace(
                b"\x8c" + bytes([len(o)]) + o, b"\x8c" + bytes([len(n)]) + n
            )  # SHORT_BINUNICODE
    return data


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("core", ["numpy.core", "numpy._core"])
def test_every_pickle_protocol_and_numpy_module_name(tmp_path, protocol, core):
    """NumPy 1.x writes ``numpy.core.multiarray``, NumPy 2 ``numpy._core.multiarray``; protocol 2
    stores bytes through ``_codecs.encode``, protocol 5 arrays through ``_frombuffer``."""
    if protocol == 2:
        assert b"_codecs" in pickle.dumps(b"raw", protocol=2)
    value = {
        "S1": {
            "A": np.arange(12, dtype=np.float32).reshape(2, 2, 3),
            "B": [np.float64(2.5), np.int32(-3), "x"],
        },
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "strings": np.array(["ab", "c"]),
        "scalars": (np.bool_(True), np.str_("s"), None, 1.5, 2**70, b"raw"),
    }
    data = _with_numpy_module(pickle.dumps(_obj(value), protocol=protocol), core)
    assert (core + ".multiarray").encode() in data
    path = tmp_path / "x.npz"
    _write_npz(path, positions_3d=data)
    assert _same(open_npz(path)["positions_3d"].item(), value)


def test_truncated_and_lying_members_are_one_sentence(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, positions_3d=_obj(_good_3d()), big=np.zeros((100, 17, 3)))
    raw = zipfile.ZipFile(path).read("positions_3d.npy")
    _write_npz(path, positions_3d=raw[: len(raw) // 2])  # header kept, pickle cut
    with pytest.raises(DataError, match=r"x\.npz: key 'positions_3d': (cannot unpickle|cannot read)"):
        open_npz(path)["positions_3d"]
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 17, 3)}
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("big.npy", header.getvalue() + b"\0" * 64)
    with pytest.raises(DataError, match=r"key 'big': the header declares .* truncated or corrupt"):
        open_npz(path)["big"]
    path.write_bytes(b"PK\x03\x04 garbage")
    with pytest.raises(DataError, match=r"x\.npz: (not an \.npz archive|cannot read the \.npz archive)"):
        open_npz(path)
