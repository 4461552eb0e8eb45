"""The names a run is made of, defined once: data sets and model presets, and the modes of the
window padding and the MPM masks. Torch-free, so that the command line (choices, help) and the
labels of the tables read them without importing a model.

- :data:`DATASETS`: name -> :class:`DataSet` (title, aliases, loader, default 2D input, joints).
  :func:`dataset` resolves an alias (``"human36m"`` -> ``h36m``), :func:`detector` a 2D-input
  alias (``"det"`` on Human3.6M -> CPN ``cpn_ft_h36m_dbb``).
- :data:`PRESETS`: the papers' models by name (``p-stmo-s``, ``p-stmo``, ``liftformer``); their
  sizes live in :mod:`pstmo.models.config`.
- :data:`PAD_MODES` (:mod:`pstmo.data.windows`), :data:`MASK_MODES` and :data:`MASK_STRATEGIES`
  (:mod:`pstmo.masking`), the keypoint :data:`LAYOUTS` and the default :data:`MAX_GAP` of
  :mod:`pstmo.lift`; the :data:`MEMORY_BUDGET` of models and lifted clips.

The training profiles (``smoke``, ``demo``, ``paper``) are data in :data:`pstmo.config.PROFILES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from pstmo.errors import ConfigError


@dataclass(frozen=True)
class DataSet:
    """One data set: ``name`` (what a user types), ``title`` (how tables name it), ``aliases``
    (other spellings accepted), ``loader`` (``"module:function"``, imported when loading),
    ``keypoints`` (the 2D input the paper profile uses), ``detectors`` (aliases of 2D inputs ->
    the file suffix: ``"det"`` -> ``cpn_ft_h36m_dbb``), ``joints`` (per pose) and ``needs_dir``
    (False only for the embedded demo data)."""

    name: str
    title: str
    loader: str
    keypoints: str = "gt"
    detectors: Mapping[str, str] = field(default_factory=dict)
    joints: int = 17
    aliases: tuple[str, ...] = ()
    needs_dir: bool = True

    def detector(self, keypoints: str) -> str:
        """The 2D input ``keypoints`` names on this data set, aliases resolved (``"gt"`` stays)."""
        return self.detectors.get(keypoints, keypoints)


_CPN = "cpn_ft_h36m_dbb"

#: Every data set by name (the order of the command line's choices).
DATASETS: Mapping[str, DataSet] = MappingProxyType({
    d.name: d
    for d in (
        DataSet("demo", "demo", "pstmo.data.h36m:load_demo", needs_dir=False),
        DataSet("h36m", "Human3.6M", "pstmo.data.h36m:load_h36m", keypoints=_CPN,
                detectors={"det": _CPN, "cpn": _CPN}, aliases=("human36m",)),
        DataSet("3dhp", "MPI-INF-3DHP", "pstmo.data.mpi_inf_3dhp:load_3dhp", aliases=("mpiinf3dhp", "mpi")),
        DataSet("humaneva", "HumanEva-I", "pstmo.data.humaneva:load_humaneva", joints=15,
                aliases=("humaneva15", "humanevai")),
    )
})  # fmt: skip


def dataset(name: str) -> DataSet:
    """The :class:`DataSet` called ``name`` or one of its aliases (case, ``-`` and ``_`` ignored);
    an unknown name is a :class:`~pstmo.errors.ConfigError` listing the known ones."""
    key = str(name).lower().replace("-", "").replace("_", "")
    for d in DATASETS.values():
        if key == d.name or key in d.aliases:
            return d
    raise ConfigError(f"unknown data set {str(name)[:40]!r}; choose one of {', '.join(DATASETS)}")


@dataclass(frozen=True)
class Preset:
    """A model of the papers: ``name`` (what a user types), ``title`` (as the paper prints it),
    ``family`` (``"stmo"`` or ``"liftformer"``: which config class and which flags apply)."""

    name: str
    title: str
    family: str


#: The papers' models by name; :func:`pstmo.models.config.get_config` gives their sizes.
PRESETS: Mapping[str, Preset] = MappingProxyType({
    p.name: p
    for p in (
        Preset("p-stmo-s", "P-STMO-S", "stmo"),
        Preset("p-stmo", "P-STMO", "stmo"),
        Preset("liftformer", "LiftFormer", "liftformer"),
    )
})  # fmt: skip

#: How windows that run past a clip's ends are filled: ``edge`` repeats the end frames (the papers'
#: "padding"), ``official`` reproduces the official code's generator (:mod:`pstmo.data.windows`).
PAD_MODES: tuple[str, ...] = ("edge", "official")
#: MPM masks: ``paper`` (Sec. 3.1) or ``official`` (the official code's draw; :mod:`pstmo.masking`).
MASK_MODES: tuple[str, ...] = ("paper", "official")
#: What MPM masks: whole frames, joints, or both (P-STMO Fig. 4).
MASK_STRATEGIES: tuple[str, ...] = ("temporal", "spatial", "spatio-temporal")

# ------------------------------------------------------------- lifting your own keypoints (pstmo.lift)
#: Joint layouts of the keypoint file: ``coco`` (COCO-17, reordered to Human3.6M-17 for a model
#: trained on Human3.6M-ordered 2D), ``h36m`` (already Human3.6M-17), ``native`` (the model's own
#: layout, e.g. 15 HumanEva joints) and ``coco-native``: COCO-17 fed as they are to a model trained
#: on COCO-ordered 2D, such as the official in-the-wild checkpoint (``run_in_the_wild.py -k
#: detectron_pt_coco``); its flipped copy swaps the COCO left/right keypoints, its 3D output (in
#: Human3.6M order) is flipped back with the checkpoint's skeleton, as the official demo does.
LAYOUTS: tuple[str, ...] = ("coco", "h36m", "native", "coco-native")
#: Default longest run of missing frames (image ids) between two detections that is interpolated.
MAX_GAP: int = 250

# ------------------------------------------------------------- limits
#: Memory that one model's float32 weights, or one lifted clip, may take: what the commands
#: check before they allocate anything (a size from an option or a file is refused above it;
#: :func:`pstmo.complexity.check_model_memory`, :func:`pstmo.data.keypoints.frame_span`).
MEMORY_BUDGET: int = 8 * 2**30

__all__ = [
    "LAYOUTS",
    "MAX_GAP",
    "MEMORY_BUDGET",
    "DATASETS",
    "MASK_MODES",
    "MASK_STRATEGIES",
    "PAD_MODES",
    "PRESETS",
    "DataSet",
    "Preset",
    "dataset",
]
