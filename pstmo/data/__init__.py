"""Datasets as lists of camera-view sequences, and the window pipeline.

``load_dataset(name)`` returns a :class:`PoseDataset`; ``dataset.sequences(split)`` returns
:class:`Sequence` objects, one per (subject, clip, camera), each holding

- ``pose_2d (T, J, 2)`` float32 normalised screen coordinates (``X / w * 2 - [1, h / w]``),
- ``pose_3d (T, J, 3)`` float32 camera-frame metres, root-relative (root joint exactly 0).

Datasets (``name``):

- ``"demo"`` (default): the embedded CMU demo data set (``pstmo/data/demo/``), built by
  ``tools/build_demo_dataset.py``; subjects 01 and 131 train, 02 and 11 test.
- ``"h36m"``: Human3.6M in VideoPose3D's format in ``data_dir``.
- ``"3dhp"``: MPI-INF-3DHP in P-STMO's preprocessed format in ``data_dir``.
- ``"humaneva"``: HumanEva-I in VideoPose3D's ``humaneva15`` format (15 joints).

The window pipeline (``WindowBatcher``, ``Batch``) lives in
:mod:`pstmo.data.windows` and is imported lazily (it needs torch).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pstmo.data.dataset import ClipInfo, PoseDataset, Sequence, demo_dir
from pstmo.errors import DataError
from pstmo.metrics import fold_action
from pstmo.registry import DATASETS as _REGISTRY_DATASETS

__all__ = [
    "Sequence",
    "ClipInfo",
    "PoseDataset",
    "load_dataset",
    "fold_action",
    "DATASETS",
    "demo_dir",
    "demo_model_path",
    "WindowBatcher",
    "Batch",
]

DATASETS: tuple[str, ...] = tuple(_REGISTRY_DATASETS)  # the names of pstmo.registry.DATASETS
#: File name of the trained model shipped beside the demo data (:func:`demo_model_path`).
DEMO_MODEL = "p-stmo-s_demo_f27.pt"


def demo_model_path() -> Path:
    """The trained model shipped with the package: a ``pstmo`` checkpoint of P-STMO-S, N = 27,
    trained on the demo data's training subjects (Stage II, with its Stage I MPM under the key
    ``"mpm"``), made by ``tools/train_shipped_model.py``. The interactive explorer opens on it."""
    return demo_dir() / DEMO_MODEL


def load_dataset(
    name: str = "demo", data_dir: str | os.PathLike | None = None, keypoints: str = "gt"
) -> PoseDataset:
    """Load a data set by name (see the module docstring).

    ``keypoints`` selects the 2D input: ``"gt"`` (projected ground truth), ``"det"`` (the
    detector: CPN ``cpn_ft_h36m_dbb`` for Human3.6M, the noisy variant for the demo) or a
    detector name (``data_2d_<dataset>_<detector>.npz``).
    """
    import importlib

    from pstmo.errors import ConfigError
    from pstmo.registry import dataset

    try:
        info = dataset(name)
    except ConfigError as exc:
        raise DataError(str(exc), key="name") from None
    module, function = info.loader.split(":")
    load = getattr(importlib.import_module(module), function)
    if info.needs_dir:
        return load(_need_dir(data_dir, info.name), keypoints=keypoints)
    return load(data_dir, keypoints=keypoints)


def _need_dir(data_dir: str | os.PathLike | None, name: str) -> Path:
    if data_dir is None:
        raise DataError(f"data set {name!r} needs data_dir (the folder with its .npz files)", key="data_dir")
    path = Path(data_dir)
    if not path.is_dir():
        raise DataError("data folder not found", path=str(path))
    return path


def __getattr__(name: str) -> Any:  # lazy: the window pipeline needs torch
    if name in ("WindowBatcher", "Batch"):
        from pstmo.data import windows

        return getattr(windows, name)
    raise AttributeError(f"module 'pstmo.data' has no attribute {name!r}")
