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
frames = None  # N (None: the profile's default; the paper: 243)
models = ["p-stmo-s", "p-stmo"]  # Table 1 rows to train (each: Stage I, then Stage II)
refine = True  # also train P-STMO (*): the refinement module on the trained P-STMO
checkpoint = None  # an official or earlier checkpoint to add as one more row (None: none)

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from pstmo import notebook, paper
from pstmo.data import load_dataset
from pstmo.evaluate import evaluate, mean_pose_baseline
from pstmo.findings import compare, explain, seed_stats
from pstmo.skeleton import JOINT_NAMES
from pstmo.train import pretrain, train

nb = notebook.setup("02_h36m_results", profile, dataset, data_dir, device, seed, out_dir)

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

# %%
runs, labels = {}, {}
inputs = paper.keypoints_label(dataset, keypoints)
short = "GT" if keypoints == "gt" else ("CPN" if dataset == "h36m" else f"{dataset} det")
for model in models:
    stage1 = pretrain(nb.config("pretrain", f"{model}-stage1", model, frames=frames, keypoints=keypoints))
    cfg = nb.config(
        "lift", model, model, frames=frames, keypoints=keypoints, pretrained=str(stage1.checkpoint)
    )
    runs[model] = train(cfg)
    labels[model] = f"{'P-STMO-S' if model == 'p-stmo-s' else 'P-STMO'}, ours (N={cfg.frames}, {short})"
if refine and "p-stmo" in runs:
    cfg = nb.config("refine", "p-stmo-refine", "p-stmo", frames=frames, keypoints=keypoints,
                    init_from=str(runs["p-stmo"].checkpoint))  # fmt: skip
    runs["p-stmo (*)"] = train(cfg)
    labels["p-stmo (*)"] = f"P-STMO (*), ours (N={cfg.frames}, {short})"
per_action = {k: pd.read_csv(r.run_dir / "per_action.csv", index_col=0) for k, r in runs.items()}
if checkpoint:
    res = evaluate(checkpoint, dataset=dataset, data_dir=data_dir, keypoints=keypoints, device=device)
    per_action[checkpoint], labels[checkpoint] = res.per_action, f"{checkpoint} ({short})"
baseline = mean_pose_baseline(dataset, data_dir=data_dir)
per_action["baseline"], labels["baseline"] = baseline.per_action, "mean training pose (no model)"
protocol = next(iter(runs.values())).metrics["protocol"] if runs else baseline.protocol
nb.summary({k: float(t.loc["MPJPE", "Avg"]) for k, t in per_action.items()}, keypoints=keypoints)

# %% [markdown]
# ## P-STMO Table 1 beside ours

# %%
rows = []
for key, table in per_action.items():
    row = {"Method": labels[key]}
    for action, value in table.loc["MPJPE"].items():
        row[action if dataset == "h36m" or action == "Avg" else f"{action} ({dataset})"] = value
    rows.append(row)
nb.table(
    paper.beside(pd.DataFrame(rows), paper.paper_table("pstmo_table1"), label=nb.label),
    "pstmo_table1",
    decimals=1,
    title=paper.title("pstmo_table1", f"MPJPE (mm), detected 2D ({short} here)"),
    note=f"Ours: {nb.label}; 2D inputs: {inputs}; one seed ({seed}) per row; Stage I then Stage II as "
    f"the paper (the (*) row: refinement module trained on the P-STMO row); protocol: {protocol}. "
    f"'mean training pose' predicts the average training pose for every frame (no model).",
)

# %% [markdown]
# ## What our numbers show

# %%
mpjpe = {k: float(t.loc["MPJPE", "Avg"]) for k, t in per_action.items() if k != "baseline"}
P1 = paper.paper_table("pstmo_table1").set_index("Method")["Avg"]
lines = [
    f"- {labels[k]}: {v:.1f} mm, {baseline.mpjpe - v:.1f} mm ({100 * (baseline.mpjpe - v) / baseline.mpjpe:.0f} %) "
    f"below the mean training pose ({baseline.mpjpe:.1f} mm)."
    for k, v in mpjpe.items()
]
pairs = [("p-stmo-s", "p-stmo", "P-STMO-S (N=243)", "P-STMO (N=243)"), ("p-stmo", "p-stmo (*)", "P-STMO (N=243)", "P-STMO (N=243)(*)")]  # fmt: skip
for a, b, pa, pb in pairs:
    if a in runs and b in runs:
        sa, sb = seed_stats([mpjpe[a]]), seed_stats([mpjpe[b]])
        v = compare(sa, sb, P1[pa], P1[pb], name_a=labels[a].split(",")[0], name_b=labels[b].split(",")[0])
        why = explain(v, sa, sb, baseline=baseline.mpjpe)
        lines.append(f"- {v.sentence}" + (f"; {why}." if why else "."))
        if b == "p-stmo (*)" and abs(v.ours_diff) > 3 * abs(v.paper_diff):
            steps = int(runs[b].history["step"].max())
            lines.append(
                f"- The (*) row gains {-v.ours_diff:.1f} mm here against {-v.paper_diff:.1f} mm in the paper. It is the "
                f"P-STMO row trained {steps} more steps with the refinement module, which reads each test frame's "
                "ground-truth root depth and the camera intrinsics (as the official code does): the extra training of "
                "an unconverged model and that extra input both count in our gain."
            )
if dataset != "h36m" or profile != "paper":
    lines.append(
        f"- The paper's rows are Human3.6M with CPN detections after 79 epochs at N=243; our rows, {nb.label}, "
        f"use {inputs}: only the direction of a difference is comparable, and only beyond the noise."
    )
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Like with like
#
# `pstmo reproduce --profile paper --dataset h36m --data-dir <prepared Human3.6M> --only table1`
# trains the paper's recipes (`pstmo.recipes.OFFICIAL_RECIPES`) with CPN inputs on a GPU; an
# official checkpoint can be scored here with `checkpoint = "<path>"`.
