"""Cameras: package calibration copy, closed-form transforms and projection."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import SHARED

from pstmo import cameras as C
from pstmo.errors import DataError


@pytest.mark.parametrize("name", ["h36m_cameras.json", "humaneva_cameras.json"])
def test_package_copy_equals_reference(name):
    ref = SHARED / "reference" / name
    if not ref.exists():
        pytest.skip(f"reference {ref} absent")
    pkg = Path(C.__file__).parent / "data" / name
    assert json.loads(pkg.read_text()) == json.loads(ref.read_text())


def test_h36m_table_facts():
    t = C.h36m_cameras()
    assert t.num_cameras == 4
    assert [c["id"] for c in t.intrinsics] == ["54138969", "55011271", "58860488", "60457274"]
    assert t.resolution(0) == (1000, 1002) and t.resolution(1) == (1000, 1000)
    for s in ("S1", "S5", "S6", "S7", "S8", "S9", "S11"):
        R, tr = t.extrinsic(s, 0)
        assert R.shape == (4,) and abs(np.linalg.norm(R) - 1) < 1e-5
        assert 1.0 < np.linalg.norm(tr) < 10.0  # millimetres -> metres
    with pytest.raises(DataError, match="no extrinsics"):
        t.extrinsic("S2", 0)
    with pytest.raises(DataError, match="S42"):
        t.extrinsic("S42", 0)
    assert not C.humaneva_cameras().has_focal()


def test_identity_and_quarter_turn():
    X = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    t = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(C.world_to_camera(X, [1, 0, 0, 0], t), X - t, atol=1e-6)
    # camera-to-world rotation of +90 deg about z maps camera x to world y
    q = [math.cos(math.pi / 4), 0, 0, math.sin(math.pi / 4)]
    np.testing.assert_allclose(C.camera_to_world(np.array([1.0, 0, 0]), q, [0, 0, 0]), [0, 1, 0], atol=1e-6)
    np.testing.assert_allclose(C.world_to_camera(np.array([0, 1.0, 0]), q, [0, 0, 0]), [1, 0, 0], atol=1e-6)


def test_roundtrip_and_camera_centre_maps_to_origin():
    t = C.h36m_cameras()
    R, tr = t.extrinsic("S9", 2)
    X = np.random.default_rng(0).normal(size=(7, 17, 3)).astype(np.float32)
    np.testing.assert_allclose(C.camera_to_world(C.world_to_camera(X, R, tr), R, tr), X, atol=1e-5)
    np.testing.assert_allclose(C.world_to_camera(tr, R, tr), 0, atol=1e-6)
    # Human3.6M cameras look at the capture volume: the world origin is in front (z > 0)
    assert C.world_to_camera(np.zeros(3), R, tr)[2] > 2.0


def test_project_pinhole_and_distortion_closed_form():
    intr = {"focal_length": [1000.0, 900.0], "center": [500.0, 400.0]}
    X = np.array([[0.2, -0.1, 2.0]])
    np.testing.assert_allclose(C.project_to_2d(X, intr), [[500 + 1000 * 0.1, 400 - 900 * 0.05]], rtol=1e-6)
    k1, p1, p2 = 0.1, 0.01, -0.02
    dist = dict(intr, radial_distortion=[k1, 0, 0], tangential_distortion=[p1, p2])
    x, y = 0.1, -0.05
    r2 = x * x + y * y
    factor = 1 + k1 * r2 + p1 * x + p2 * y
    expected = [500 + 1000 * (x * factor + p1 * r2), 400 + 900 * (y * factor + p2 * r2)]
    np.testing.assert_allclose(C.project_to_2d(X, dist), [expected], rtol=1e-6)
    out_t = C.project_to_2d(torch.tensor(X), dist)
    np.testing.assert_allclose(out_t.numpy(), [expected], rtol=1e-6)


def test_normalised_intrinsics_project_to_normalised_coordinates():
    cam = C.h36m_cameras().intrinsics[0]
    X = np.array([[[0.3, 0.2, 4.0], [-0.5, 0.1, 5.0]]])
    px = C.project_to_2d(X, cam)
    norm = C.project_to_2d(X, C.intrinsic_vector(cam, normalized=True))
    np.testing.assert_allclose(norm, C.normalize_screen_coordinates(px, 1000, 1002), atol=1e-5)


def test_screen_coordinates():
    w, h = 1000, 1002
    np.testing.assert_allclose(
        C.normalize_screen_coordinates(np.array([w / 2, h / 2]), w, h), [0, 0], atol=1e-6
    )
    np.testing.assert_allclose(
        C.normalize_screen_coordinates(np.array([0.0, 0.0]), w, h), [-1, -h / w], atol=1e-6
    )
    np.testing.assert_allclose(
        C.normalize_screen_coordinates(np.array([w, 0.0]), w, h), [1, -h / w], atol=1e-6
    )
    X = np.random.default_rng(1).uniform(0, 1000, size=(5, 17, 2))
    np.testing.assert_allclose(
        C.image_coordinates(C.normalize_screen_coordinates(X, w, h), w, h), X, rtol=1e-5
    )
    Xt = torch.tensor(X)
    np.testing.assert_allclose(
        C.normalize_screen_coordinates(Xt, w, h).numpy(), C.normalize_screen_coordinates(X, w, h), rtol=1e-5
    )


def test_flip_intrinsics():
    v = np.arange(1, 10, dtype=np.float32)
    f = C.flip_intrinsic_vector(v)
    assert f[2] == -3 and f[8] == -9 and f[0] == 1 and v[2] == 3


def test_bad_camera_table(tmp_path):
    p = tmp_path / "cams.json"
    p.write_text("{not json")
    with pytest.raises(DataError, match="cams.json"):
        C.load_camera_table(p)
    p.write_text(json.dumps({"intrinsics": [{"res_w": 10, "res_h": 10}], "extrinsics": {"S1": []}}))
    with pytest.raises(DataError, match="expected 1 cameras"):
        C.load_camera_table(p)
    with pytest.raises(DataError, match="not found"):
        C.load_camera_table(tmp_path / "missing.json")


def test_cameras_of_subject_skips_empty_extrinsics():
    t = C.h36m_cameras()
    data = t.to_json()
    data["extrinsics"] = {"A": data["extrinsics"]["S1"], "B": data["extrinsics"]["S1"][:2] + [{}, {}]}
    table = C.camera_table_from_dict(data)
    assert table.cameras_of("A") == [0, 1, 2, 3]
    assert table.cameras_of("B") == [0, 1]
    assert table.cameras_of("Train/B") == [0, 1]  # same key fallback as extrinsic()
    assert table.cameras_of("unknown") == [0, 1, 2, 3]  # extrinsic() names the problem later
