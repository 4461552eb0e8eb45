"""The demo's "detected" 2D is a documented noise model: the README states the parameters the
file was built with, and its measured size."""

from __future__ import annotations

import numpy as np
import pytest

from pstmo.data import demo_dir, load_dataset
from pstmo.data.check import load_npz, read_pickled_dict
from pstmo.skeleton import JOINT_NAMES

README = demo_dir() / "README.md"


@pytest.fixture(scope="module")
def noise():
    path = demo_dir() / "data_2d_demo_det.npz"
    return read_pickled_dict(load_npz(path), path, "metadata")["noise"]


def test_readme_states_the_noise_parameters_of_the_file(noise):
    text = README.read_text(encoding="utf-8")
    section = text[text.index('## The "detected" 2D') :]
    assert f"a_t = {noise['ar_rho']} * a_{{t-1}}" in section
    assert f"{noise['white_scale']} * w_t" in section and noise["ar_scale"] == 1.0
    assert f"probability {noise['swap_rate']}" in section
    assert f"lasting {noise['swap_frames'][0]}-{noise['swap_frames'][1]} frames" in section
    assert (
        f"probability {noise['outlier_rate']}, by {noise['outlier_px'][0]}-{noise['outlier_px'][1]} px"
        in section
    )
    assert f"({noise['seed']}, crc32" in section
    sigma = dict(zip(JOINT_NAMES, noise["joint_sigma_px"]))
    listing = " ".join(section.split("`sigma_j` (px):")[1].split("(`metadata")[0].split())
    stated = {float(part.split()[0]): part.split(" ", 1)[1] for part in listing.split("; ")}
    assert sorted(stated) == sorted(set(noise["joint_sigma_px"]))
    words = {"spine": "Spine", "thorax": "Thorax", "pelvis": "Hip", "hips": "LHip", "neck": "Neck/Nose",
             "shoulders": "RShoulder", "knees": "RKnee", "head": "Head", "elbows": "RElbow", "feet": "RFoot",
             "wrists": "RWrist"}  # fmt: skip
    for value, names in stated.items():
        for word, joint in words.items():
            if word in names:
                assert sigma[joint] == value, (word, value)
    assert all(any(word in names for word in words) for names in stated.values())


def test_readme_states_the_measured_error():
    gt, det = (load_dataset("demo", keypoints=k).sequences("test") for k in ("gt", "det"))
    err = np.concatenate(
        [np.linalg.norm(d.pose_2d - g.pose_2d, axis=-1) * d.res_w / 2 for d, g in zip(det, gt)]
    )
    text = README.read_text(encoding="utf-8")
    assert f"mean error {err.mean():.1f} px" in text and f"(median {np.median(err):.1f} px)" in text
