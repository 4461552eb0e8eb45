# %% [markdown]
# # 02 · Human3.6M results (P-STMO Table 1)
#
# **The claim.** On Human3.6M with CPN-detected 2D keypoints, P-STMO with $N = 243$ frames
# reaches **42.8 mm** MPJPE, **42.1 mm** with the refinement module of Cai et al. (the (*) row),
# and the smaller P-STMO-S (fewer Transformer layers) 43.0 mm (P-STMO Table 1), all after
# Stage I masked pose modeling (MPM) pre-training. MPJPE (Protocol 1) is the mean distance
# between predicted and true root-relative joints,
#
# $$\text{MPJPE} = \frac{1}{J}\sum_{i=1}^{J}\lVert \hat y_i - y_i\rVert_2,$$
#
# averaged over the frames of each action of the test subjects, then over the actions.
#
# Here P-STMO-S, P-STMO and P-STMO (*) are trained as the paper trains them (Stage I, then
# Stage II from the Stage I encoder; (*) adds the refinement module on the trained P-STMO) and
# scored with one protocol (`pstmo.evaluate`: every test frame, flip averaging, mean per
# action then over actions). LiftFormer's Human3.6M tables (1–4, 8) are made from LiftFormer
# models in notebook 12.
#
# **What is reduced, and why.** The paper trains each row for about 80 epochs at $N = 243$ on
# Human3.6M. Here each row is trained on the bundled demo data until its error on frames held out
# from the training subjects stops improving (the `demo` profile: early stopping; the checkpoint
# kept is the best on those frames, never selected on the test split), at the profile's ablation
# size (`nb.frames`, $N = 9$), with the profile's small width, `nb.seeds` seeds per row. Every run
# is a `Cell` of the one runner (`pstmo.experiments.runner`: parallel worker processes, cached): Stage I, then
# Stage II from its encoder, and the (*) row from the P-STMO run of the same seed. The two claims
# of the table (P-STMO below P-STMO-S; the refinement module lowers P-STMO's error) are data
# (`pstmo.report.claims`), each judged with what our seeds resolve.
#
# **Detected 2D on the demo data.** CPN detections exist only for Human3.6M's videos; the demo
# data are motion capture, without images. The detected-keypoint setting is stood in for by
# `keypoints = "det"`: a seeded noise model applied to the projected ground truth (described
# below and in `pstmo/data/demo/README.md`). It is labelled "demo det", never CPN.

# %% tags=["parameters"]
# Parameters (papermill overrides these; see `pstmo sweep` and `pstmo reproduce`).
profile = "smoke"  # "smoke": seconds on a CPU; "paper": the papers' settings
dataset = "demo"  # "demo" (bundled CMU mocap) or "h36m"
data_dir = None  # folder of the prepared dataset (None: the bundled demo data)
device = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
seed = 0
out_dir = None  # None: results/ and figures/ of the repository
keypoints = "det"  # Table 1's detected 2D: the demo noise model on "demo", CPN on "h36m"; or "gt"
frames = None  # N (None: the profile's ablation size, 9 in smoke and demo; the paper: 243)
models = ["p-stmo-s", "p-stmo"]  # Table 1 rows to train (each: Stage I, then Stage II)
refine = True  # also train P-STMO (*): the refinement module on the trained P-STMO
seeds = 2  # seeds per row (2 keeps the full demo run within its time budget; None: the profile's 3)
checkpoint = None  # an official or earlier checkpoint to add as one more row (None: none)

# %%
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from pstmo.data import load_dataset
from pstmo.evaluate import evaluate, mean_pose_baseline
from pstmo.experiments import notebook, runner
from pstmo.experiments.runner import Cell
from pstmo.report import findings, papers, tables
from pstmo.skeleton import JOINT_NAMES

nb = notebook.setup("02_h36m_results", profile, dataset, data_dir, device, seed, out_dir, seeds=seeds)
N = frames or nb.frames

# %% [markdown]
# ## The detected 2D inputs: the demo's noise model, measured
#
# `tools/build_demo_dataset.py` makes `data_2d_demo_det.npz` from the projected ground truth,
# per subject, clip and camera with its own seed. In pixels (1000-pixel images, a subject
# 300–450 px tall), each joint $j$ with scale $\sigma_j$ (2.5 px at the spine and thorax,
# 3–3.5 px at hips, shoulders, knees and elbows, 5 px at wrists and feet) gets, per frame $t$,
#
# $$e_t = \sigma_j\,(a_t + 0.5\,w_t),\qquad a_t = 0.9\,a_{t-1} + \sqrt{1 - 0.9^2}\;\xi_t,$$
#
# with $w_t, \xi_t \sim \mathcal N(0, I_2)$: a temporally correlated drift (AR(1), unit
# variance, correlation 0.9 from frame to frame) plus white jitter. Then, at rate 0.004 per
# frame, a left/right pair (elbows, wrists, knees or feet) is swapped for 2–10 frames, and at
# rate 0.002 per joint and frame a joint jumps 30–80 px in a random direction. The cell
# below reads these parameters from the file and measures the error they produce.

# %%
if dataset == "demo" and keypoints != "gt":
    from pstmo.data import demo_dir
    from pstmo.data.check import load_npz, read_pickled_dict

    path = demo_dir() / "data_2d_demo_det.npz"
    noise = read_pickled_dict(load_npz(path), path, "metadata")["noise"]
    print("noise model parameters (metadata['noise'] of data_2d_demo_det.npz):")
    print({k: v for k, v in noise.items() if k != "joint_sigma_px"})
    gt2d, det2d = (load_dataset("demo", keypoints=k).sequences("test") for k in ("gt", keypoints))
    err_px = np.concatenate(
        [np.linalg.norm(d.pose_2d - g.pose_2d, axis=-1) * d.res_w / 2 for d, g in zip(det2d, gt2d)]
    )  # normalised screen coordinates -> pixels
    measured = pd.DataFrame(
        {
            "joint": JOINT_NAMES,
            "sigma (px)": noise["joint_sigma_px"],
            "mean error (px)": err_px.mean(0),
            "95th percentile (px)": np.percentile(err_px, 95, axis=0),
        }  # fmt: skip
    )
    nb.table(
        measured,
        "02_demo_det_noise",
        decimals=1,
        title="The demo's detected 2D: error against the ground-truth 2D, test split, all cameras",
        note=f"mean over all joints and frames: {err_px.mean():.2f} px (median {np.median(err_px):.2f} px); "
        "a stand-in for a detector, not CPN",
    )

# %% [markdown]
# ## Train the rows of Table 1
#
# Every row is one `Cell`: Stage II names its Stage I cell (`pretrain`), the (*) row the P-STMO
# cell it refines (`init_from`). The learning curves show each run reach its plateau and the
# epoch that was kept.

# %%
kp = {"keypoints": keypoints}
STAGE1 = {m: Cell(f"{m} stage1", stage="pretrain", model=m, frames=N, overrides=kp) for m in models}
CELLS = [Cell(m, model=m, frames=N, overrides=kp, pretrain=STAGE1[m]) for m in models]
if refine and "p-stmo" in models:
    CELLS.append(Cell("p-stmo (*)", stage="refine", model="p-stmo", frames=N, overrides=kp,
                      init_from=CELLS[models.index("p-stmo")]))  # fmt: skip
runs = nb.run(CELLS, curves="02_learning_curves")
how = runner.how_trained(runs)
cells = list(dict.fromkeys(runs["cell"]))
stats = {k: findings.cell_stats(runs, k, "mpjpe") for k in cells}
inputs = tables.keypoints_label(dataset, keypoints)
short = "GT" if keypoints == "gt" else ("CPN" if dataset == "h36m" else f"{dataset} det")
NAMES = {"p-stmo-s": "P-STMO-S", "p-stmo": "P-STMO", "p-stmo (*)": "P-STMO (*)"}
labels = {k: f"{NAMES[k]}, ours (N={N}, {short})" for k in cells}
per_action = {  # per cell: the mean over its seeds of each run's per_action.csv
    k: pd.concat([pd.read_csv(Path(d) / "per_action.csv", index_col=0) for d in runs.loc[runs["cell"] == k, "run_dir"]])
    .groupby(level=0).mean()
    for k in cells
}  # fmt: skip
if checkpoint:
    res = evaluate(checkpoint, dataset=dataset, data_dir=data_dir, keypoints=keypoints, device=device)
    per_action[checkpoint], labels[checkpoint] = res.per_action, f"{checkpoint} ({short})"
baseline = mean_pose_baseline(dataset, data_dir=data_dir)
per_action["baseline"], labels["baseline"] = baseline.per_action, "mean training pose (no model)"
protocol = runs["protocol"].iloc[0] if len(runs) else baseline.protocol
nb.summary({f"mpjpe_{k}": s.mean for k, s in stats.items()} | {f"std_{k}": s.std for k, s in stats.items()},
           keypoints=keypoints, frames=N)  # fmt: skip

# %% [markdown]
# ## P-STMO Table 1 beside ours

# %%
rows = []
for key, table in per_action.items():
    row = {"Method": labels[key]}
    for action, value in table.loc["MPJPE"].items():
        row[action if dataset == "h36m" or action == "Avg" else f"{action} ({dataset})"] = value
    row["Avg, mean ± std over seeds"] = findings.format_cell(stats[key]) if key in stats else ""
    rows.append(row)
nb.table(
    papers.beside(pd.DataFrame(rows), papers.paper_table("pstmo_table1"), label=nb.label),
    "pstmo_table1",
    decimals=1,
    seeds=nb.seeds,
    frames=N,
    title=papers.title("pstmo_table1", f"MPJPE (mm), detected 2D ({short} here)"),
    note=f"Ours: {nb.label}; 2D inputs: {inputs}; N={N}; seeds {nb.seeds} per row (per-action columns and Avg: "
    f"the mean over seeds); Stage I then Stage II as the paper (the (*) row: refinement module trained on the "
    f"P-STMO run of the same seed); {how}; protocol: {protocol}. 'mean training pose' predicts the average training pose for "
    f"every frame (no model).",
)

# %% [markdown]
# ## The paper's claims, judged on our seeds

# %%
verdicts = nb.judge("pstmo_table1", runs, baseline=baseline.mpjpe)

# %% [markdown]
# ## What our numbers show beside the paper's

# %%
P1 = papers.paper_table("pstmo_table1").set_index("Method")["Avg"]
PAPER_ROW = {"p-stmo-s": "P-STMO-S (N=243)", "p-stmo": "P-STMO (N=243)", "p-stmo (*)": "P-STMO (N=243)(*)"}
lines = [
    f"- {labels[k]}: {findings.format_cell(s)} mm over {s.n} seed(s), {baseline.mpjpe - s.mean:.1f} mm "
    f"({(baseline.mpjpe - s.mean) / baseline.mpjpe:.0%}) below the mean training pose ({baseline.mpjpe:.1f} mm); "
    f"the paper's {PAPER_ROW[k]}: {P1[PAPER_ROW[k]]:.1f} mm on Human3.6M."
    for k, s in stats.items()
]
lines.append(
    "- "
    + findings.sentence(findings.spread_sentence([(NAMES[k], s) for k, s in stats.items()], baseline.mpjpe))
)
refined = verdicts[verdicts["b"] == "p-stmo (*)"]
if len(refined) and abs(refined["ours_diff"].iloc[0]) > 3 * abs(refined["paper_diff"].iloc[0]):
    v, steps = refined.iloc[0], runs.loc[runs["cell"] == "p-stmo (*)", "steps"]
    lines.append(
        f"- The (*) row gains {-v['ours_diff']:.1f} mm here against {-v['paper_diff']:.1f} mm in the paper. Each (*) "
        f"run is the P-STMO run of its seed trained {int(steps.median())} more steps (median over seeds) with the "
        "refinement module, which reads each test frame's ground-truth root depth and the camera intrinsics (as the "
        "official code does): the extra training and that extra input both count in our gain."
    )  # fmt: skip
if dataset != "h36m" or profile != "paper":
    lines.append(
        f"- The paper's rows are Human3.6M with CPN detections after about 80 epochs at N=243; our rows, {nb.label}, "
        f"use {inputs} at N={N}: only the direction of a difference is comparable, and only beyond the resolution "
        "of the verdicts above."
    )
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Like with like
#
# `pstmo reproduce --profile paper --dataset h36m --data-dir <prepared Human3.6M> --only table1`
# trains the paper's recipes (`pstmo.official.recipes.OFFICIAL_RECIPES`) with CPN inputs on a GPU; an
# official checkpoint can be scored here with `checkpoint = "<path>"`.
