"""The numbers printed in the two papers, typed as plain Python data.

Every table of P-STMO (Shan et al., ECCV 2022; Tables 1-6 and the optimal points of
Fig. 4) and of LiftFormer (Llopart, Tables 1-8) is stored below exactly as printed,
with the papers' row labels. Only typesetting was cleaned: underline/bold markers,
LaTeX ``$`` signs, stray trailing dots (``43.8.`` -> 43.8) and the footnote mark
``^1`` of LiftFormer Table 5. A ``-`` in the paper is ``None`` (NaN in pandas).

Use :func:`paper_table` to get one as a :class:`pandas.DataFrame`, :func:`beside` to put
our numbers next to the paper's, and :func:`write_table` to save a table as
JSON + CSV + Markdown (atomically, via :mod:`pstmo.io`).

Known inconsistencies *in the papers themselves* (a stated Avg that is not the mean of
its printed actions) are listed in :data:`KNOWN_INCONSISTENCIES`, so the consistency
test in ``tests/test_paper.py`` can tell them apart from our typing errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported lazily: `import pstmo.report.papers` stays cheap
    import pandas as pd

PSTMO_ACTIONS: tuple[str, ...] = (
    "Dir.", "Disc.", "Eat", "Greet", "Phone", "Photo", "Pose", "Pur.", "Sit", "SitD.",
    "Smoke", "Wait", "WalkD.", "Walk", "WalkT.",
)  # fmt: skip
#: LiftFormer prints "Purch." where P-STMO prints "Pur.".
LIFTFORMER_ACTIONS: tuple[str, ...] = PSTMO_ACTIONS[:7] + ("Purch.",) + PSTMO_ACTIONS[8:]

# fmt: off
# ---------------------------------------------------------------------------------------
# P-STMO Table 1: Human3.6M, MPJPE (mm), CPN 2D detections. Columns: actions..., Avg.
# (*) = uses the refining module of [3].
_P1 = [
    ("Pavlo et al. [32] CVPR'19 (N=243)", 45.2, 46.7, 43.3, 45.6, 48.1, 55.1, 44.6, 44.3, 57.3, 65.8, 47.1, 44.0, 49.0, 32.8, 33.9, 46.8),
    ("Lin et al. [23] BMVC'19 (N=50)", 42.5, 44.8, 42.6, 44.2, 48.5, 57.1, 42.6, 41.4, 56.5, 64.5, 47.4, 43.0, 48.1, 33.0, 35.1, 46.6),
    ("Xu et al. [44] CVPR'20 (N=9)", 37.4, 43.5, 42.7, 42.7, 46.6, 59.7, 41.3, 45.1, 52.7, 60.2, 45.8, 43.1, 47.7, 33.7, 37.1, 45.6),
    ("Wang et al. [43] ECCV'20 (N=96)", 41.3, 43.9, 44.0, 42.2, 48.0, 57.1, 42.2, 43.2, 57.3, 61.3, 47.0, 43.5, 47.0, 32.6, 31.8, 45.6),
    ("Liu et al. [26] CVPR'20 (N=243)", 41.8, 44.8, 41.1, 44.9, 47.4, 54.1, 43.4, 42.2, 56.2, 63.6, 45.3, 43.5, 45.3, 31.3, 32.2, 45.1),
    ("Zeng et al. [47] ECCV'20 (N=243)", 46.6, 47.1, 43.9, 41.6, 45.8, 49.6, 46.5, 40.0, 53.4, 61.1, 46.1, 42.6, 43.1, 31.5, 32.6, 44.8),
    ("Zeng et al. [48] ICCV'21 (N=9)", None, None, None, None, None, None, None, None, None, None, None, None, None, None, None, 45.7),
    ("Zheng et al. [50] ICCV'21 (N=81)", 41.5, 44.8, 39.8, 42.5, 46.5, 51.6, 42.1, 42.0, 53.3, 60.7, 45.5, 43.3, 46.1, 31.8, 32.2, 44.3),
    ("Shan et al. [37] MM'21 (N=243)", 40.8, 44.5, 41.4, 42.7, 46.3, 55.6, 41.8, 41.9, 53.7, 60.8, 45.0, 41.5, 44.8, 30.8, 31.9, 44.3),
    ("Chen et al. [6] TCSVT'21 (N=243)", 41.4, 43.5, 40.1, 42.9, 46.6, 51.9, 41.7, 42.3, 53.9, 60.2, 45.4, 41.7, 46.0, 31.5, 32.7, 44.1),
    ("Hu et al. [17] MM'21 (N=96)", 38.0, 43.3, 39.1, 39.4, 45.8, 53.6, 41.4, 41.4, 55.5, 61.9, 44.6, 41.9, 44.5, 31.6, 29.4, 43.4),
    ("Li et al. [22] TMM'22 (N=351)(*)", 39.9, 43.4, 40.0, 40.9, 46.4, 50.6, 42.1, 39.8, 55.8, 61.6, 44.9, 43.3, 44.9, 29.9, 30.3, 43.6),
    ('P-STMO-S (N=81)', 41.7, 44.5, 41.0, 42.9, 46.0, 51.3, 42.8, 41.3, 54.9, 61.8, 45.1, 42.8, 43.8, 30.8, 30.7, 44.1),
    ('P-STMO-S (N=243)', 40.0, 42.5, 38.3, 41.5, 45.8, 50.8, 41.6, 40.9, 54.2, 59.3, 44.4, 41.9, 43.6, 30.3, 30.1, 43.0),
    ('P-STMO (N=243)', 38.9, 42.7, 40.4, 41.1, 45.6, 49.7, 40.9, 39.9, 55.5, 59.4, 44.9, 42.2, 42.7, 29.4, 29.4, 42.8),
    ('P-STMO (N=243)(*)', 38.4, 42.1, 39.8, 40.2, 45.2, 48.9, 40.4, 38.3, 53.8, 57.3, 43.9, 41.6, 42.2, 29.3, 29.3, 42.1),
]

# P-STMO Table 2: MPI-INF-3DHP. Columns: PCK (%), AUC (%), MPJPE (mm).
_P2 = [
    ("Mehta et al. [28] 3DV'17 (N=1)", 75.7, 39.3, 117.6),
    ("Pavlo et al. [32] CVPR'19 (N=81)", 86.0, 51.9, 84.0),
    ("Lin et al. [23] BMVC'19 (N=25)", 83.6, 51.4, 79.8),
    ("Zeng et al. [47] ECCV'20 (N=1)", 77.6, 43.8, None),
    ("Wang et al. [43] ECCV'20 (N=96)", 86.9, 62.1, 68.1),
    ("Zheng et al. [50] ICCV'21 (N=9)", 88.6, 56.4, 77.1),
    ("Chen et al. [6] TCSVT'21 (N=81)", 87.9, 54.0, 78.8),
    ("Hu et al. [17] MM'21 (N=96)", 97.9, 69.5, 42.5),
    ('P-STMO (N=81)', 97.9, 75.8, 32.2),
]

# P-STMO Table 3: components. Columns: SEM, TEM, MOFA, MPM, TDS (used?), Params(M), FLOPs(M), MPJPE.
_P3 = [
    (True, False, False, False, False, 1.1, 536, 51.0),
    (False, True, False, False, False, 1.6, 769, 49.6),
    (True, True, False, False, False, 2.2, 1094, 46.0),
    (True, True, True, False, False, 6.2, 1482, 44.2),
    (True, True, True, True, False, 6.2, 1482, 43.2),
    (True, True, True, True, True, 6.2, 1482, 43.0),
]

# P-STMO Table 4: SEM backbone. Columns: Backbone, N, Params(M), FLOPs(M), MPJPE.
_P4 = [
    ('fc', 243, 1.6, 769, 49.6),
    ('Transformer', 81, 7.2, 1218, 48.8),
    ('MLP (L = 1)', 243, 2.3, 1094, 46.0),
    ('MLP (L = 2)', 243, 2.8, 1350, 45.9),
    ('MLP (L = 3)', 243, 3.3, 1608, 46.1),
]

# P-STMO Table 5: TDS. Columns: N, s, RF, Params(M), FLOPs(M), MPJPE.
_P5 = [
    (27, 1, 27, 4.6, 163, 48.2),
    (27, 3, 81, 4.6, 163, 46.8),
    (27, 9, 243, 4.6, 163, 46.1),
    (81, 1, 81, 5.4, 493, 45.6),
    (81, 3, 243, 5.4, 493, 44.1),
    (243, 1, 243, 6.2, 1482, 43.2),
    (243, 2, 486, 6.2, 1482, 43.0),
]

# P-STMO Table 6: complexity. Columns: Method, Measured by, Params(M), FLOPs(M), FPS, MPJPE.
_P6 = [
    ("Pavlo et al. [32] CVPR'19 (N=243)", 'reported in [50]', 16.9, 33, 863, 46.8),
    ("Chen et al. [6] TCSVT'21 (N=243)", 'reported in [50]', 58.1, 116, 264, 44.1),
    ("Zheng et al. [50] ICCV'21 (N=81)", 'reported in [50]', 9.5, 1358, 269, 44.3),
    ("Chen et al. [6] TCSVT'21 (N=243)", 'P-STMO implementation', 58.1, 656, 429, 44.1),
    ("Zheng et al. [50] ICCV'21 (N=81)", 'P-STMO implementation', 9.5, 1624, 1952, 44.3),
    ('P-STMO-S (N=81)', 'P-STMO implementation', 5.4, 493, 7824, 44.1),
    ('P-STMO-S (N=243)', 'P-STMO implementation', 6.2, 1482, 3504, 43.0),
    ('P-STMO (N=243)', 'P-STMO implementation', 6.7, 1737, 3040, 42.8),
]

# LiftFormer Table 1: Human3.6M Protocol 1 MPJPE (mm), CPN inputs. Columns: actions..., Avg.
_L1 = [
    ("Martinez et al. ICCV'17 [26]", 51.8, 56.2, 58.1, 59.0, 69.5, 78.4, 55.2, 58.1, 74.0, 94.6, 62.3, 59.1, 65.1, 49.5, 52.4, 62.9),
    ("Hossain et al. ECCV'18 [15]", 48.4, 50.7, 57.2, 55.2, 63.1, 72.6, 53.0, 51.7, 66.1, 80.9, 59.0, 57.3, 62.4, 46.6, 49.6, 58.3),
    ("Zhao et al. CVPR'19 [45]", 47.3, 60.7, 51.4, 60.5, 61.1, 49.9, 47.3, 68.1, 86.2, 55.0, 67.8, 61.0, 60.6, 42.1, 45.3, 57.6),
    ("Luvizon et al. CVPR'18 [25]", 49.2, 51.6, 47.6, 50.5, 51.8, 60.3, 48.5, 51.7, 61.5, 70.9, 53.7, 48.9, 57.9, 44.4, 48.9, 53.2),
    ('Chang et al. [4]', 44.8, 48.2, 48.5, 51.5, 54.5, 64.4, 47.9, 47.8, 60.7, 76.4, 52.5, 50.8, 55.3, 39.0, 42.2, 52.5),
    ("Lee et al. ECCV'18 [22]", 40.2, 49.2, 47.8, 52.6, 50.1, 75.0, 50.2, 43.0, 55.8, 73.9, 54.1, 55.6, 58.2, 43.3, 43.3, 52.8),
    ("Dabral et al. ECCV'18 [9]", 44.8, 50.4, 44.7, 49.0, 52.9, 61.4, 43.5, 45.5, 63.1, 87.3, 51.7, 48.5, 52.2, 37.6, 41.9, 52.1),
    ("Pavllo et al. CVPR'19 [32]", 45.2, 46.7, 43.3, 45.6, 48.1, 55.1, 44.6, 44.3, 57.3, 65.8, 47.1, 44.0, 49.0, 32.8, 33.9, 46.8),
    ("Liu et al. CVPR'20 [24]", 41.8, 44.8, 41.1, 44.9, 47.4, 54.1, 43.4, 42.2, 56.2, 63.6, 45.3, 43.5, 45.3, 31.3, 32.2, 45.1),
    ('Liftformer (n=27 CPN)', 45.7, 49.2, 47.1, 47.2, 50.72, 57.7, 46.3, 44.5, 58.2, 64.9, 49.3, 45.6, 50.0, 35.8, 37.2, 48.6),
    ('Liftformer (n=81 CPN)', 43.8, 46.4, 44.1, 44.6, 48.0, 54.9, 43.7, 42.5, 54.9, 62.9, 45.8, 44.1, 47.3, 33.1, 34.0, 46.0),
    ('Liftformer (n=243 CPN)', 42.2, 44.5, 42.6, 43.0, 46.9, 53.9, 42.5, 41.7, 55.2, 62.3, 44.9, 42.9, 45.3, 31.8, 31.8, 44.8),
]

# LiftFormer Table 2: Human3.6M Protocol 1 MPJPE (mm), GT 2D inputs (WS = weight sharing).
_L2 = [
    ("Wandt et al. CVPR'19 [42]", 50.0, 53.5, 44.7, 51.6, 49.0, 58.7, 48.8, 51.3, 51.1, 66.0, 46.6, 50.6, 42.5, 38.8, 60.4, 50.9),
    ("Martinez et al. ICCV'17 [26]", 37.7, 44.4, 40.3, 42.1, 48.2, 54.9, 44.4, 42.1, 54.6, 58.0, 45.1, 46.4, 47.6, 36.4, 40.4, 45.5),
    ("Zhao et al. CVPR'19 [45]", 37.8, 49.4, 37.6, 40.9, 45.1, 41.4, 40.1, 48.3, 50.1, 42.2, 53.5, 44.3, 40.5, 47.3, 39.0, 43.8),
    ("Hossain et al. ECCV'18 [15]", 35.2, 40.8, 37.2, 37.4, 43.2, 44.0, 38.9, 35.6, 42.3, 44.6, 39.7, 39.7, 40.2, 32.8, 35.5, 39.2),
    ("Lee et al. ECCV'18 [22]", 32.1, 36.6, 34.4, 37.8, 44.5, 49.9, 40.9, 36.2, 44.1, 45.6, 35.3, 35.9, 37.6, 30.3, 35.5, 38.4),
    ("Pavllo et al. CVPR'19 [32]", 35.2, 40.2, 32.7, 35.7, 38.2, 45.5, 40.6, 36.1, 48.8, 47.3, 37.8, 39.7, 38.7, 27.8, 29.5, 37.8),
    ("Liu et al. CVPR'20 [24]", 34.5, 37.1, 33.6, 34.2, 32.9, 37.1, 39.6, 35.8, 40.7, 41.4, 33.0, 33.8, 33.0, 26.6, 26.9, 34.7),
    ('Liftformer (n=27 GT)', 37.5, 41.0, 36.2, 35.9, 37.5, 40.3, 41.8, 34.8, 42.5, 43.5, 37.2, 38.5, 35.7, 30.6, 31.6, 37.7),
    ('Liftformer (n=81 GT)', 34.2, 37.6, 31.5, 33.1, 34.8, 37.5, 37.6, 33.0, 41.5, 43.0, 34.2, 33.8, 32.8, 26.2, 27.3, 34.5),
    ('Liftformer (n=243 GT)', 33.2, 35.3, 29.8, 31.1, 32.9, 35.1, 35.5, 31.5, 37.2, 38.1, 32.6, 33.1, 30.9, 24.3, 26.1, 32.5),
    ('Liftformer (n=27 GT + WS)', 37.3, 41.4, 35.9, 35.8, 37.6, 40.7, 41.3, 36.0, 41.8, 42.9, 37.2, 38.8, 36.5, 30.9, 31.6, 37.7),
    ('Liftformer (n=81 GT + WS)', 34.3, 38.7, 33.2, 33.4, 35.3, 38.4, 38.8, 32.9, 41.7, 43.4, 35.1, 35.7, 33.2, 27.4, 28.1, 35.3),
    ('Liftformer (n=243 GT + WS)', 31.8, 34.6, 30.1, 30.4, 32.4, 34.3, 34.6, 31.1, 36.9, 38.9, 32.2, 32.1, 30.4, 24.4, 24.9, 31.9),
]

# LiftFormer Table 3: Human3.6M Protocol 2 P-MPJPE (mm).
_L3 = [
    ("Martinez et al. ICCV'17 [26]", 39.5, 43.2, 46.4, 47.0, 51.0, 56.0, 41.4, 40.6, 56.5, 69.4, 49.2, 45.0, 49.5, 38.0, 43.1, 47.7),
    ("Hossain et al. ECCV'18 [15]", 35.7, 39.3, 44.6, 43.0, 47.2, 54.0, 38.3, 37.5, 51.6, 61.3, 46.5, 41.4, 47.3, 34.2, 39.4, 44.1),
    ("Wandt et al. CVPR'19 [42]", 33.6, 38.8, 32.6, 37.5, 36.0, 44.1, 37.8, 34.9, 39.2, 52.0, 37.5, 39.8, 34.1, 40.3, 34.9, 38.2),
    ('Chang et al. [4]', 32.1, 34.9, 43.4, 36.9, 35.4, 35.1, 30.8, 34.3, 57.3, 40.4, 44.9, 35.1, 24.9, 46.6, 30.0, 37.7),
    ("Dabral et al. ECCV'18 [9]", 28.0, 30.7, 39.1, 34.4, 37.1, 28.9, 31.2, 39.3, 60.6, 39.3, 44.8, 31.1, 25.3, 37.8, 28.4, 36.3),
    ("Pavllo et al. CVPR'19 [32] (n=243 CPN)", 34.1, 36.1, 34.4, 37.2, 36.4, 42.2, 34.4, 33.6, 45.0, 52.5, 37.4, 33.8, 37.8, 25.6, 27.3, 36.5),
    ("Liu et al. CVPR'20 [24]", 32.3, 35.2, 33.3, 35.8, 35.9, 41.5, 33.2, 32.7, 44.6, 50.9, 37.0, 32.4, 37.0, 25.2, 27.2, 35.6),
    ("Pavllo et al. CVPR'19 [32] (n=243 GT)", None, None, None, None, None, None, None, None, None, None, None, None, None, None, None, 27.2),
    ('Liftformer (n=27 CPN)', 34.1, 37.6, 37.1, 37.5, 38.6, 43.5, 34.1, 33.7, 46.7, 51.4, 39.5, 34.0, 38.8, 25.3, 29.8, 37.6),
    ('Liftformer (n=81 CPN)', 32.9, 36.3, 35.1, 35.7, 37.1, 41.3, 32.9, 32.5, 44.5, 50.1, 36.9, 33.0, 36.5, 25.2, 26.6, 35.8),
    ('Liftformer (n=243 CPN)', 32.2, 35.2, 34.3, 34.8, 36.1, 40.5, 32.7, 31.4, 44.9, 49.7, 36.2, 32.8, 34.8, 23.9, 24.9, 35.0),
    ('Liftformer (n=27 GT)', 25.4, 29.2, 28.6, 26.2, 27.6, 29.0, 29.1, 25.1, 33.4, 34.6, 28.1, 27.4, 26.3, 21.3, 22.6, 27.6),
    ('Liftformer (n=81 GT)', 23.7, 27.2, 24.6, 24.1, 25.8, 27.5, 26.8, 23.9, 32.8, 33.6, 25.6, 24.1, 24.4, 18.1, 18.8, 25.4),
    ('Liftformer (n=243 GT)', 22.3, 25.2, 22.1, 22.0, 23.0, 24.9, 24.5, 21.6, 29.3, 30.3, 23.7, 23.4, 22.2, 15.6, 16.2, 23.1),
    ('Liftformer (n=27 GT + WS)', 25.4, 29.9, 28.3, 26.4, 28.1, 30.3, 29.0, 25.6, 33.2, 34.7, 28.0, 28.0, 27.2, 21.3, 22.4, 27.9),
    ('Liftformer (n=81 GT + WS)', 24.3, 28.1, 26.2, 24.8, 25.9, 28.6, 27.4, 24.0, 33.1, 34.6, 26.2, 25.8, 24.5, 19.0, 19.6, 26.1),
    ('Liftformer (n=243 GT + WS)', 22.7, 25.3, 22.7, 22.4, 23.2, 25.6, 24.5, 21.9, 29.5, 31.2, 23.5, 23.5, 22.6, 16.6, 16.3, 23.4),
]

# LiftFormer Table 4: Human3.6M Protocol 3 MPJVE (mm/s).
_L4 = [
    ('Pavllo et al. [32] - Single-frame', 12.8, 12.6, 10.3, 14.2, 10.2, 11.3, 11.8, 11.3, 8.2, 10.2, 10.3, 11.3, 13.1, 13.4, 12.9, 11.6),
    ('Pavllo et al. [32] - Temporal', 3.0, 3.1, 2.2, 3.4, 2.3, 2.7, 2.7, 3.1, 2.1, 2.9, 2.3, 2.4, 3.7, 3.1, 2.8, 2.8),
    ('Liftformer (n=27)', 1.6, 1.7, 1.3, 1.9, 1.3, 1.5, 1.6, 1.8, 1.0, 1.4, 1.2, 1.5, 2.2, 1.9, 1.7, 1.6),
    ('Liftformer (n=81)', 1.4, 1.5, 1.1, 1.7, 1.1, 1.4, 1.4, 1.7, 0.9, 1.3, 1.1, 1.2, 2.0, 1.7, 1.4, 1.4),
    ('Liftformer (n=243)', 1.3, 1.4, 1.0, 1.6, 1.1, 1.3, 1.3, 1.6, 0.9, 1.2, 1.0, 1.2, 1.9, 1.6, 1.3, 1.3),
]

# LiftFormer Table 5: HumanEva P-MPJPE (mm). Columns: Walk S1-S3, Jog S1-S3, Avg (see note 1).
_L5 = [
    ("Martinez et al. ICCV'17 [26]", 19.7, 17.4, 46.8, 26.9, 18.2, 18.6, 24.6),
    ("Pavlakos et al. CVPR'17 [30]", 22.3, 19.5, 29.7, 28.9, 21.9, 23.8, 24.4),
    ("Lee et al. ECCV'18 [22]", 18.6, 19.9, 30.5, 25.7, 16.8, 17.7, 21.5),
    ("Liu et al. CVPR'20 [24]", 13.1, 9.8, 26.8, 16.9, 12.8, 13.3, 15.4),
    ("Zhou et al. ICCV'19 [46]", 13.5, 9.9, 17.1, 24.5, 14.8, 14.4, 15.2),
    ("Pavllo et al. CVPR'19 [32]", 13.9, 10.2, 46.6, 20.9, 13.1, 13.8, 14.4),
    ("Cheng et al. ICCV'19 [8]", 11.7, 10.1, 22.8, 18.7, 11.4, 11.0, 14.3),
    ("Cheng et al. arXiv'20 [7]", 10.6, 11.8, 19.3, 15.8, 11.5, 12.2, 13.5),
    ('Liftformer (243 MRCNN)', 17.6, 11.1, 48.1, 30.0, 14.6, 15.0, 25.7),
    ('Liftformer (81 MRCNN)', 14.8, 10.1, 47.5, 23.8, 13.5, 14.0, 15.2),
    ('Liftformer (27 MRCNN)', 14.0, 9.3, 46.6, 20.1, 12.6, 12.8, 13.8),
    ('Liftformer (243 GT)', 12.0, 7.6, 18.1, 18.1, 8.8, 8.9, 12.3),
    ('Liftformer (81 GT)', 10.6, 7.3, 15.9, 15.4, 7.9, 9.0, 11.0),
    ('Liftformer (27 GT)', 9.4, 6.7, 16.4, 14.0, 7.6, 8.8, 10.5),
]

# LiftFormer Table 6: Hidden dimension, Multi head, Blocks, MPJPE, P-MPJPE, N-MPJPE, MPJVE, Params(M).
_L6 = [
    (128, 8, 6, 50.1, 38.6, 48.1, 4.69, 3.57),
    (256, 8, 6, 49.3, 37.7, 47.2, 3.55, 7.91),
    (512, 8, 6, 48.6, 37.6, 46.8, 2.98, 18.96),
    (768, 8, 6, 48.6, 37.4, 46.5, 2.92, 33.15),
    (512, 4, 6, 48.8, 37.7, 47.0, 3.0, 18.96),
    (512, 8, 6, 48.6, 37.6, 46.8, 2.98, 18.96),
    (512, 16, 6, 48.8, 37.7, 46.7, 3.21, 18.96),
    (512, 8, 4, 48.8, 37.7, 46.9, 3.78, 12.65),
    (512, 8, 6, 48.6, 37.6, 46.8, 2.98, 18.96),
    (512, 8, 8, 48.6, 37.5, 46.6, 2.83, 25.26),
]

# LiftFormer Table 7: label as printed, N, weight sharing, blocks B, hidden hd, MPJPE, P-MPJPE,
# N-MPJPE, Params(M) (the merged Params cells 18.96 / 13.7 are repeated on each row they span).
_L7 = [
    ('27', 27, False, 6, 512, 37.7, 27.6, 34.7, 18.96),
    ('81', 81, False, 6, 512, 34.5, 25.4, 31.2, 18.96),
    ('243', 243, False, 6, 512, 32.5, 23.1, 27.8, 18.96),
    ('27', 27, True, 6, 512, 37.7, 27.9, 34.9, 13.7),
    ('81', 81, True, 6, 512, 35.3, 26.1, 32.3, 13.7),
    ('243', 243, True, 6, 512, 31.9, 23.4, 28.5, 13.7),
    ('243 (B=4)', 243, True, 4, 512, 33.0, 24.3, 29.8, 9.5),
    ('243 (B=2, hd=256)', 243, True, 2, 256, 37.5, 27.5, 34.8, 2.4),
]

# LiftFormer Table 8: MPJPE (mm) by 2D detector. Columns: SH PT, SH FT, CPN FT, GT.
_L8 = [
    ('Martinez et al. [26]', 67.5, 62.9, None, 45.5),
    ('Hossain et al. [15]', None, 58.3, None, 41.6),
    ('Lee et al. [22]', None, None, None, 38.4),
    ('Pavllo et al. [32]', 58.6, 53.4, 46.8, 37.2),
    ('Liu et al. [24]', 57.3, 52.0, 45.1, 34.7),
    ('Liftformer (n=243)', 57.0, 51.3, 44.8, 31.9),
]
# fmt: on

#: P-STMO Fig. 4: optimal masking ratios of the three strategies (Sec. 4.3 text).
#: q^S = m^S / J with J = 17; the paper truncates (7/17 = 41.18% is printed 41.1%).
_FIG4 = [
    # strategy, q^T, m^S, q^S (%), q^ST (%), gain of spatio-temporal masking over it (mm)
    ("temporal", 0.9, 0, 0.0, 90.0, 0.3),
    ("spatial", 0.0, 7, 41.1, 41.1, 0.33),
    ("spatial temporal", 0.8, 2, 11.7, 82.3, None),
]


@dataclass(frozen=True)
class PaperTable:
    """One table as printed: its columns, rows and what the numbers mean."""

    paper: str
    number: str
    caption: str
    columns: tuple[str, ...]
    rows: list[tuple]
    #: True when the paper's "Avg" column is the mean of the action columns.
    avg_is_mean_of: tuple[str, ...] = ()
    #: columns excluded from the mean (LiftFormer Table 5 excludes S3 Walk, note 1).
    avg_excludes: dict[str, tuple[str, ...]] = field(default_factory=dict)


_ACTION_COLS_P = ("Method", *PSTMO_ACTIONS, "Avg")
_ACTION_COLS_L = ("Method", *LIFTFORMER_ACTIONS, "Avg")
_HE_COLS = ("Walk S1", "Walk S2", "Walk S3", "Jog S1", "Jog S2", "Jog S3")

TABLES: dict[str, PaperTable] = {
    "pstmo_table1": PaperTable(
        "P-STMO",
        "Table 1",
        "Results on Human3.6M in millimeter under MPJPE. 2D poses detected by CPN are used as inputs. "
        "N is the number of input frames. (*) - uses the refining module proposed in [3].",
        _ACTION_COLS_P,
        _P1,
        avg_is_mean_of=PSTMO_ACTIONS,
    ),
    "pstmo_table2": PaperTable(
        "P-STMO",
        "Table 2",
        "Results on MPI-INF-3DHP under three evaluation metrics.",
        ("Method", "PCK", "AUC", "MPJPE"),
        _P2,
    ),
    "pstmo_table3": PaperTable(
        "P-STMO",
        "Table 3",
        "The effectiveness of different components.",
        ("SEM", "TEM", "MOFA", "MPM", "TDS", "Params(M)", "FLOPs(M)", "MPJPE"),
        _P3,
    ),
    "pstmo_table4": PaperTable(
        "P-STMO",
        "Table 4",
        "Analysis on designs of SEM. L is the number of sub-blocks in MLP.",
        ("Backbone", "N", "Params(M)", "FLOPs(M)", "MPJPE"),
        _P4,
    ),
    "pstmo_table5": PaperTable(
        "P-STMO",
        "Table 5",
        "Analysis on temporal downsampling rate s. RF is the temporal receptive field.",
        ("N", "s", "RF", "Params(M)", "FLOPs(M)", "MPJPE"),
        _P5,
    ),
    "pstmo_table6": PaperTable(
        "P-STMO",
        "Table 6",
        "Analysis on computational complexity. Top table: taken from [50]. Bottom table: our implementation.",
        ("Method", "Measured by", "Params(M)", "FLOPs(M)", "FPS", "MPJPE"),
        _P6,
    ),
    "pstmo_fig4": PaperTable(
        "P-STMO",
        "Fig. 4",
        "Optimal masking ratios of the three masking strategies (Sec. 4.3).",
        ("Strategy", "q^T", "m^S", "q^S (%)", "q^ST (%)", "ST gain (mm)"),
        _FIG4,
    ),
    "liftformer_table1": PaperTable(
        "LiftFormer",
        "Table 1",
        "Protocol 1 with MPJPE (mm): Reconstruction error on Human3.6M. Input 2D joints are acquired "
        "by detection. CPN - Cascaded Pyramid Network.",
        _ACTION_COLS_L,
        _L1,
        avg_is_mean_of=LIFTFORMER_ACTIONS,
    ),
    "liftformer_table2": PaperTable(
        "LiftFormer",
        "Table 2",
        "Protocol 1 with MPJPE (mm): Reconstruction error on Human3.6M. Input 2D joints from ground "
        "truth. GT - Ground truth. WS - Weight sharing between attention layers",
        _ACTION_COLS_L,
        _L2,
        avg_is_mean_of=LIFTFORMER_ACTIONS,
    ),
    "liftformer_table3": PaperTable(
        "LiftFormer",
        "Table 3",
        "Protocol 2 with P-MPJPE (mm): Reconstruction error on Human3.6M with similarity "
        "transformation. CPN - Cascaded Pyramid Network. GT - Ground truth. WS - Weight sharing.",
        _ACTION_COLS_L,
        _L3,
        avg_is_mean_of=LIFTFORMER_ACTIONS,
    ),
    "liftformer_table4": PaperTable(
        "LiftFormer",
        "Table 4",
        "Protocol 3 with MPJVE (mm/s): Velocity error over the 3D poses",
        _ACTION_COLS_L,
        _L4,
        avg_is_mean_of=LIFTFORMER_ACTIONS,
    ),
    "liftformer_table5": PaperTable(
        "LiftFormer",
        "Table 5",
        "Protocol 2 with P-MPJPE (mm): Reconstruction error on HumanEva. GT - Ground truth (15 joints). "
        "MRCNN - Mask-RCNN (17 joints). Note 1: The high error on Walk of S3 is due to corrupted mocap "
        "data, hence the average is not calculated with this value.",
        ("Method", *_HE_COLS, "Avg"),
        _L5,
        avg_is_mean_of=_HE_COLS,
        avg_excludes={
            "Pavllo et al. CVPR'19 [32]": ("Walk S3",),
            "Liftformer (243 MRCNN)": ("Walk S3",),
            "Liftformer (81 MRCNN)": ("Walk S3",),
            "Liftformer (27 MRCNN)": ("Walk S3",),
        },
    ),
    "liftformer_table6": PaperTable(
        "LiftFormer",
        "Table 6",
        "Ablation study on the dimensionality of hidden layers, multi-attention heads and encoder blocks "
        "in the Transformer model. Inputs are CPN 2D predictions, with a receptive field of 27 and no "
        "weight sharing is used.",
        ("Hidden dimension", "Multi head", "Blocks", "MPJPE", "P-MPJPE", "N-MPJPE", "MPJVE", "Params(M)"),
        _L6,
    ),
    "liftformer_table7": PaperTable(
        "LiftFormer",
        "Table 7",
        "Ablation study on the weight sharing of attention layers using GT 2D predictions as inputs. "
        "B - number of encoder blocks. hd - hidden dimensionality of Transformer Encoder layers",
        (
            "Receptive field",
            "N",
            "Weight sharing",
            "Blocks",
            "Hidden dimension",
            "MPJPE",
            "P-MPJPE",
            "N-MPJPE",
            "Params(M)",
        ),
        _L7,
    ),
    "liftformer_table8": PaperTable(
        "LiftFormer",
        "Table 8",
        "Accuracy of 3D predictions in terms of 2D detectors under Protocol 1 with MPJPE (mm). "
        "PT - pre-trained, FT fine-tuned, GT - Ground truth, SH - stacked hourglass, CPN - cascaded "
        "pyramid network.",
        ("Method", "SH PT", "SH FT", "CPN FT", "GT"),
        _L8,
    ),
}

#: Rows whose printed Avg is not (within 0.15 mm) the mean of the printed columns. These are
#: errors or different averaging in the papers themselves, checked against the text by hand.
KNOWN_INCONSISTENCIES: dict[tuple[str, str], str] = {
    ("pstmo_table1", "Lin et al. [23] BMVC'19 (N=50)"): "mean of printed actions is 46.09",
    ("pstmo_table1", "Xu et al. [44] CVPR'20 (N=9)"): "mean of printed actions is 45.29",
    ("liftformer_table1", "Chang et al. [4]"): "mean of printed actions is 52.30",
    ("liftformer_table1", "Dabral et al. ECCV'18 [9]"): "mean of printed actions is 51.63",
    ("liftformer_table2", "Pavllo et al. CVPR'19 [32]"): "mean of printed actions is 38.25",
    ("liftformer_table3", "Chang et al. [4]"): "mean of printed actions is 37.47",
    ("liftformer_table3", "Dabral et al. ECCV'18 [9]"): "mean of printed actions is 35.73",
    ("liftformer_table3", "Liftformer (n=27 CPN)"): "mean of printed actions is 37.45",
    ("liftformer_table5", "Zhou et al. ICCV'19 [46]"): "mean of printed columns is 15.70",
    ("liftformer_table5", "Liftformer (243 MRCNN)"): "mean without S3 Walk is 17.66, with it 22.73",
}


def _canonical(name: str) -> str:
    key = name.strip().lower().replace("-", "").replace(" ", "_").replace(".", "")
    key = key.replace("p_stmo", "pstmo").replace("fig_", "fig").replace("table_", "table")
    if key.startswith("pstmo") and not key.startswith("pstmo_"):
        key = "pstmo_" + key[5:]
    if key.startswith("liftformer") and not key.startswith("liftformer_"):
        key = "liftformer_" + key[10:]
    return key


#: Footnote marks printed in a table: (table, row label, column) -> mark, and the notes.
FOOTNOTE_MARKS: dict[str, dict[tuple[str, str], str]] = {
    "liftformer_table5": {
        (row, col): "¹" for row, cols in TABLES["liftformer_table5"].avg_excludes.items() for col in cols
    },
}
FOOTNOTES: dict[str, tuple[str, ...]] = {
    "liftformer_table5": (
        "¹ The high error on Walk of S3 is due to corrupted mocap data, hence the average is not "
        "calculated with this value (LiftFormer Table 5, note 1).",
    ),
}


def paper_table(name: str, footnotes: bool = False) -> pd.DataFrame:
    """The paper's table ``name`` (e.g. ``"pstmo_table3"``, ``"liftformer_table7"``).

    Rows keep the papers' order and labels; a ``-`` in the paper is NaN. ``"P-STMO Table 3"``
    and ``"liftformer table 7"`` are accepted spellings too. ``footnotes=True`` prints the
    paper's footnote marks in their cells (``"46.6¹"``, text; LiftFormer Table 5) and puts the
    notes in ``df.attrs["notes"]``; the default keeps every number a number.
    """
    import pandas as pd

    key = _canonical(name)
    if key not in TABLES:
        raise KeyError(f"unknown paper table {name!r}; expected one of {', '.join(TABLES)}")
    table = TABLES[key]
    df = pd.DataFrame.from_records(table.rows, columns=list(table.columns))
    df.attrs.update(paper=table.paper, number=table.number, caption=table.caption, name=key, notes=())
    if footnotes and key in FOOTNOTE_MARKS:
        label = df.columns[0]
        for (row, col), mark in FOOTNOTE_MARKS[key].items():
            df[col] = df[col].astype(object)
            hit = df[label] == row
            df.loc[hit, col] = [f"{v}{mark}" for v in df.loc[hit, col]]
        df.attrs["notes"] = FOOTNOTES[key]
    return df


def title(name: str, what: str = "") -> str:
    """A table's title naming the paper table: ``"LiftFormer Table 5: <what>"``."""
    table = TABLES[_canonical(name)]
    return f"{table.paper} {table.number}" + (f": {what}" if what else "")


def beside(
    ours: pd.DataFrame,
    paper: pd.DataFrame,
    label: str = "ours (demo, smoke)",
    on: list[str] | None = None,
) -> pd.DataFrame:
    """Our numbers next to the paper's, each clearly labelled.

    Without ``on``: the rows are stacked under a leading ``Source`` column that reads
    ``"paper"`` or ``label`` (use this for per-action tables: the paper's methods, then ours);
    a column only the paper has is renamed ``"<col> (paper)"`` (e.g. the Human3.6M actions next
    to demo actions, which the caller names ``"Walk (demo)"``, never plain ``"Walk"``).
    With ``on`` (configuration columns such as ``["N", "s"]``): the paper's rows in order, then
    our configurations the paper lacks; shared columns side by side as ``"<col> (paper)"`` and
    ``"<col> (<label>)"``, columns only we have as ``"<col> (<label>)"``.
    """
    import pandas as pd

    if on is None:
        left = paper.rename(columns={c: f"{c} (paper)" for c in paper.columns if c not in ours.columns})
        left.insert(0, "Source", "paper")
        right = ours.copy()
        right.insert(0, "Source", label)
        return pd.concat([left, right], ignore_index=True)
    missing = [c for c in on if c not in ours.columns or c not in paper.columns]
    if missing:
        raise KeyError(f"beside(on=...): columns {missing} must be in both tables")
    shared = [c for c in ours.columns if c in paper.columns and c not in on]
    only_ours = [c for c in ours.columns if c not in paper.columns]
    p = paper.rename(columns={c: f"{c} (paper)" for c in shared})
    o = ours.rename(columns={c: f"{c} ({label})" for c in shared + only_ours})
    # the paper's rows in the paper's order, then our configurations the paper does not have
    merged = p.merge(o, on=on, how="left", sort=False)
    keys = p[on].astype(str).agg("|".join, axis=1)
    extra = o[~o[on].astype(str).agg("|".join, axis=1).isin(set(keys))]
    merged = pd.concat([merged, extra], ignore_index=True)
    order = list(on)
    for c in shared:
        order += [f"{c} (paper)", f"{c} ({label})"]
    order += [c for c in merged.columns if c not in order]
    return merged[order]
