# %% [markdown]
# # 00 · Quickstart: lift 2D poses to 3D with P-STMO
#
# **The claim (P-STMO, ECCV 2022).** Lifting a *sequence* of 2D keypoints to the 3D pose of its
# middle frame is easier if the network first learns what 2D pose sequences look like. P-STMO
# splits training in two stages: **Stage I**, *masked pose modeling* (MPM), hides frames and
# joints of the 2D input and trains an encoder–decoder to put them back; **Stage II** loads the
# pre-trained encoder into the **STMO** model and fine-tunes it to predict the 3D pose $y_0$ of the
# current frame from
#
# $$X = \{x_n\}_{n=-(N-1)/2}^{(N-1)/2},\qquad x_n = \{p_i\}_{i=1}^{J},\ p_i\in\mathbb{R}^2 .$$
#
# STMO is three modules in series: **SEM** (an MLP over the 17 joints of each frame), **TEM**
# (a Transformer over the $N$ frame tokens) and **MOFA** (a strided Transformer that aggregates
# $N$ frames into one). Stage II minimises the single-frame loss plus $\lambda$ times a
# multi-frame loss on all $N$ frames:
# $\mathcal{L} = \mathcal{L}_{single} + \lambda\,\mathcal{L}_{multiple}$.
#
# This notebook runs the whole pipeline on the data and profile of its parameters: load the
# data, pre-train (Stage I), fine-tune (Stage II), evaluate with MPJPE on every test frame, and
# draw one predicted 3D skeleton next to the ground truth. Every sentence below that states one
# of our results is written by code from the numbers above it.
#
# **What is reduced, and why.** The paper trains on about 1.5 million Human3.6M frames for about
# 80 epochs at $N = 243$. Here the profile's main model (P-STMO-S at the profile's $N$, as
# `pstmo train --profile demo` trains it) is trained on the bundled demo data, each stage until
# its error on frames held out from the training subjects stops improving (the `demo` profile:
# early stopping; the `smoke` profile stops after a fixed few steps), one seed. The checkpoint
# kept is the one with the lowest error on those held-out frames, never selected on the test
# split. Both stages go through the one runner of every notebook (`pstmo.experiments.runner`, cached: a
# rerun, or notebook 10 asking for the same run, trains nothing).

# %% tags=["parameters"]
# Parameters (papermill overrides these; see `pstmo sweep` and `pstmo reproduce`).
profile = "smoke"  # "smoke": seconds on a CPU; "paper": the papers' settings
dataset = "demo"  # "demo" (bundled CMU mocap), "h36m", "3dhp" or "humaneva"
data_dir = None  # folder of the prepared dataset (None: the bundled demo data)
device = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
seed = 0
out_dir = None  # None: results/ and figures/ of the repository
model = "p-stmo-s"  # "p-stmo-s" or "p-stmo"
frames = None  # N input frames (None: the profile's main size, 27 in smoke and demo)
pretrain = True  # run Stage I (MPM) before Stage II

# %%
import json
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from pstmo.data import load_dataset
from pstmo.evaluate import evaluate, mean_pose_baseline
from pstmo.experiments import notebook
from pstmo.experiments.runner import Cell
from pstmo.report import findings, papers, tables, viz

nb = notebook.setup("00_quickstart", profile, dataset, data_dir, device, seed, out_dir)

# %% [markdown]
# ## The data
# Each `Sequence` holds normalised 2D keypoints `(T, 17, 2)` and root-relative 3D poses `(T, 17, 3)` in metres.

# %%
ds = load_dataset(dataset, data_dir=data_dir)
train_seqs, test_seqs = ds.sequences("train"), ds.sequences("test")
train_frames = sum(len(s) for s in train_seqs)
print(
    f"{dataset}: {len(train_seqs)} train / {len(test_seqs)} test sequences, "
    f"{train_frames} / {sum(len(s) for s in test_seqs)} frames; "
    f"train subjects {sorted({s.subject for s in train_seqs})}, test subjects {sorted({s.subject for s in test_seqs})}"
)
seq = test_seqs[0]
print(seq.subject, seq.action, "pose_2d", seq.pose_2d.shape, "pose_3d", seq.pose_3d.shape)
baseline = mean_pose_baseline(ds).mpjpe
print(f"predicting the average training pose for every test frame: MPJPE {baseline:.1f} mm")

# %% [markdown]
# ## Stage I: masked pose modeling
# The encoder (SEM + TEM) and a small decoder learn to reconstruct masked 2D poses. Each stage is
# one `Cell` of the runner; Stage II names its Stage I cell, whose `best.pt` initialises its encoder.

# %%
STAGE1 = Cell("stage1", stage="pretrain", model=model, frames=frames)
STAGE2 = Cell(model, model=model, frames=frames, pretrain=STAGE1 if pretrain else None)
pre = nb.run([STAGE1], seeds=[nb.seed]).iloc[0] if pretrain else None
if pre is not None:
    print(f"Stage I: 2D reconstruction error of best.pt on the test split: {pre['recon_2d']:.4f} "
          f"({int(pre['steps'])} steps, {pre['seconds']:.0f} s)")  # fmt: skip

# %% [markdown]
# ## Stage II: fine-tune STMO to predict the 3D pose of the middle frame
# First the learning curves of the Stage II run (training loss, and the validation MPJPE on the
# held-out training frames that selects `best.pt`, marked with a dot), then the per-step loss of
# both stages (`steps.csv` of each run).

# %%
runs = nb.run([STAGE2], seeds=[nb.seed], curves="00_learning_curves")
run = runs.iloc[0]
run_dir = Path(run["run_dir"])
cfg = json.loads((run_dir / "config.json").read_text())
step_logs = {"Stage I (MPM)": pd.read_csv(Path(pre["run_dir"]) / "steps.csv")} if pre is not None else {}
step_logs["Stage II (STMO)"] = pd.read_csv(run_dir / "steps.csv")
fig = viz.plot_step_curves(
    step_logs,
    ylabels={"Stage I (MPM)": "2D reconstruction loss", "Stage II (STMO)": "3D loss (m): single + λ·multi"},
)
nb.figure(fig, "00_quickstart_training_curve")

# %%
hist = pd.read_csv(run_dir / "history.csv")
kept = hist.loc[hist["val_metric"].idxmin()]
lines = [findings.trend_sentence(step_logs["Stage II (STMO)"]["loss"], "The Stage II loss") + "."]
if pre is not None:
    lines.append(findings.trend_sentence(step_logs["Stage I (MPM)"]["loss"], "The Stage I loss") + ".")
lines.append(
    f"Stage II ran {len(hist)} epoch(s) ({int(run['steps'])} steps); the kept checkpoint is that of epoch "
    f"{int(kept['epoch'])}, with {kept['val_metric']:.1f} mm on "
    + ("the frames held out from the training subjects." if cfg["selection"] == "val" else "the test split.")
)
display(Markdown(" ".join(lines)))

# %% [markdown]
# ## Evaluate: MPJPE on every test frame (flip augmentation averaged)

# %%
res = evaluate(run_dir / "best.pt", dataset=ds, device=device)
assert abs(res.mpjpe - run["mpjpe"]) < 1e-3, "the run's metrics and this evaluation use one protocol"
ours = pd.DataFrame([{"Method": f"{model} (N={run['frames']})", "MPJPE": res.mpjpe}])
reported = papers.paper_table("pstmo_table1")[["Method", "Avg"]].rename(columns={"Avg": "MPJPE"})
table = papers.beside(ours, reported[reported["Method"].str.startswith("P-STMO")], label=nb.label)
table.loc[len(table)] = {
    "Source": f"baseline ({dataset} data)",
    "Method": "average training pose, no model",
    "MPJPE": baseline,
}
stop = f" (early stopping after {cfg['patience']} validations without improvement)" if cfg["patience"] else ""
selected = "frames held out from the training subjects" if cfg["selection"] == "val" else "the test split"
nb.table(
    table, "00_quickstart_mpjpe", frames=int(run["frames"]), steps=int(run["steps"]),
    title="P-STMO Table 1 (Avg column, Human3.6M, CPN inputs) beside ours",
    note=f"ours: {model}, N={run['frames']}, {dataset} data, {profile} profile, seed {nb.seed}, Stage I "
    f"{'on' if pretrain else 'off'}, {int(run['steps'])} steps"
    f"{stop}, best.pt selected on {selected}; "
    f"protocol: {run['protocol']}",
)  # fmt: skip
nb.summary(res.metrics, model=model, frames=int(run["frames"]), pretrain=pretrain)

# %%
paper_row = "P-STMO (N=243)" if model == "p-stmo" else "P-STMO-S (N=243)"
paper_mpjpe = float(reported.set_index("Method").loc[paper_row, "MPJPE"])
display(
    Markdown(
        findings.scale_sentence(
            res.mpjpe, paper_mpjpe if dataset == "h36m" else None, baseline, steps=int(run["steps"]),
            batch_size=cfg["batch_size"], train_frames=train_frames, what=f"Our {model} (N={run['frames']})",
        ) + (
            f" (the paper's {paper_row} scores {paper_mpjpe:.1f} mm on Human3.6M with CPN detections; these are "
            f"{dataset} data, so the two numbers measure different test sets)." if dataset != "h36m" else "."
        )
    )
)  # fmt: skip

# %% [markdown]
# ## How much of the error is the body's size
#
# One 2D view cannot tell a small body near the camera from a large one further away, so a lifter
# predicts the body sizes it was trained on. The table below scales each test clip's predicted
# poses by the one factor s* that fits them best to the truth (s* < 1: our model predicts a larger
# body than the subject's) and shows the error left once each pose is scaled (N-MPJPE). On the demo
# data the training bodies are drawn around one CMU skeleton (`pstmo/data/demo/README.md`); the test
# subjects keep their own.

# %%
sizes = tables.size_table(res.predictions)
nb.table(
    sizes, "00_quickstart_sizes", title="Error per test clip, before and after scaling the predicted body",
    note=f"ours: the model above; protocol: {run['protocol']}; N-MPJPE scales each pose by its own "
    "least-squares factor, s* is one factor for the whole clip",
)  # fmt: skip
worst = sizes.loc[(sizes["MPJPE (mm)"] - sizes["N-MPJPE (mm)"]).idxmax()]
gap, factor = worst["MPJPE (mm)"] - worst["N-MPJPE (mm)"], worst["s*"]
body = f"{abs(1 / factor - 1):.0%} {'larger' if factor < 1 else 'smaller'} than it is"
others = [
    f"{r['Subject']} {r['Action']} {r['MPJPE (mm)']:.1f} -> {r['N-MPJPE (mm)']:.1f} mm (s* = {r['s*']:.2f})"
    for _, r in sizes.drop(index=worst.name).iterrows()
]
display(
    Markdown(
        f"Scaling removes {gap:.1f} mm of the {worst['MPJPE (mm)']:.1f} mm of {worst['Subject']} {worst['Action']}: "
        f"our model sees its body about {body} (s* = {factor:.2f}). "
        + (f"The other clips: {'; '.join(others)}." if others else "")
    )
)

# %% [markdown]
# ## One test frame: 2D input, predicted 3D, ground truth 3D

# %%
pred = res.predictions[0]
t = len(pred.pred) // 2
fig = viz.plot_comparison(pred.pose_2d[t], pred.pred[t], pred.target[t])
fig.suptitle(f"{pred.subject} {pred.action}, camera {pred.camera}, frame {t}", fontsize=10)
nb.figure(fig, "00_quickstart_skeleton")

# %%
err = viz.per_joint_error(pred.pred[t], pred.target[t]) * 1000.0
worst = err.argsort()[::-1][:3]
names = ds.skeleton.names if getattr(ds, "skeleton", None) is not None else [str(j) for j in range(len(err))]
display(
    Markdown(
        f"This frame's MPJPE is {err.mean():.1f} mm (the test-set mean is {res.mpjpe:.1f} mm); its largest errors "
        f"are at {', '.join(f'{names[j]} ({err[j]:.0f} mm)' for j in worst)}. Joints of the prediction are "
        "coloured by their error."
    )
)

# %% [markdown]
# ## Like with like
#
# `papermill notebooks/00_quickstart.ipynb out.ipynb -p profile paper -p dataset h36m -p data_dir <prepared Human3.6M>`
# on a GPU runs the same cells with the paper's recipe (N = 243, CPN inputs, the official epochs).
