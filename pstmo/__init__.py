"""pstmo: a runnable companion to P-STMO (ECCV 2022) and LiftFormer.

Where things are (DESIGN.md has the layers and the rules):

- ``pstmo.registry``   the names: data sets, model presets, pad and mask modes (torch-free)
- ``pstmo.skeleton``   the Human3.6M 17-joint layout, left/right, COCO conversion
- ``pstmo.cameras``    camera tables, projection, world <-> camera transforms
- ``pstmo.data``       dataset loaders (Human3.6M, MPI-INF-3DHP, HumanEva, demo) and windows
- ``pstmo.masking``    MPM masks (temporal, spatial, spatio-temporal)
- ``pstmo.models``     STMO (SEM/TEM/MOFA), the MPM pre-training model, LiftFormer
- ``pstmo.metrics``    MPJPE, P-MPJPE, N-MPJPE, MPJVE, PCK, AUC
- ``pstmo.config``     a run's configuration and the profiles (smoke, demo, paper)
- ``pstmo.train``      the training loop and the stages; ``pstmo.evaluate`` the papers' protocol
- ``pstmo.experiments.runner``     ablation cells x seeds on a Dask cluster, cached and resumable
- ``pstmo.complexity`` parameter and FLOP counting as the papers do
- ``pstmo.report.viz``        skeleton figures and animations
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]


def __getattr__(name: str):  # lazy re-exports keep `import pstmo` fast
    if name == "load_official_checkpoint":
        from pstmo.official.weights import load_official_checkpoint

        return load_official_checkpoint
    raise AttributeError(f"module 'pstmo' has no attribute {name!r}")
