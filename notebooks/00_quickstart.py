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
# This notebook runs the whole pipeline on the data and profile of its parameters (by default
# the bundled demo data and the `smoke` profile: a tiny model, 100 optimizer steps per stage):
# load the data, pre-train (Stage I), fine-tune (Stage II), evaluate with MPJPE on every test
# frame, and draw one predicted 3D skeleton next to the ground truth. Every sentence below that
# states one of our results is written by code from the numbers above it.

# %% tags=["parameters"]
# Parameters (papermill overrides these; see `pstmo sweep` and `pstmo reproduce`).
profile = "smoke"  # "smoke": seconds on a CPU; "paper": the papers' settings
dataset = "demo"  # "demo" (bundled CMU mocap), "h36m", "3dhp" or "humaneva"
data_dir = None  # folder of the prepared dataset (None: the bundled demo data)
device = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
seed = 0
out_dir = None  # None: results/ and figures/ of the repository
model = "p-stmo-s"  # "p-stmo-s" or "p-stmo"
frames = None  # N input frames (None: the profile's default)
pretrain = True  # run Stage I (MPM) before Stage II

# %%
import pandas as pd
from IPython.display import Markdown, display

from pstmo import findings, notebook, paper, viz
from pstmo.data import load_dataset
from pstmo.evaluate import evaluate, mean_pose_baseline
from pstmo.train import train

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
# The encoder (SEM + TEM) and a small decoder learn to reconstruct masked 2D poses.

# %%
pre = train(nb.config("pretrain", "stage1", model, frames=frames)) if pretrain else None
if pre is not None:
    print("Stage I: 2D reconstruction error on the test split:", round(pre.metrics["recon_2d"], 4))

# %% [markdown]
# ## Stage II: fine-tune STMO to predict the 3D pose of the middle frame
# The training curves are the per-step logs of both stages (`RunResult.steps`).

# %%
cfg = nb.config(
    "lift",
    "stage2",
    model,
    frames=frames,
    pretrained=str(pre.checkpoint) if pre else None,
    eval_max_frames=None,
)
run = train(cfg)
curves = {"Stage I (MPM)": pre.steps} if pre is not None else {}
curves["Stage II (STMO)"] = run.steps
fig = viz.plot_step_curves(
    curves,
    ylabels={"Stage I (MPM)": "2D reconstruction loss", "Stage II (STMO)": "3D loss (m): single + λ·multi"},
)
nb.figure(fig, "00_quickstart_training_curve")

# %%
lines = [findings.trend_sentence(run.steps["loss"], "The Stage II loss") + "."]
if pre is not None:
    lines.append(findings.trend_sentence(pre.steps["loss"], "The Stage I loss") + ".")
display(Markdown(" ".join(lines)))

# %% [markdown]
# ## Evaluate: MPJPE on every test frame (flip augmentation averaged)

# %%
res = evaluate(run.checkpoint, dataset=ds, device=device)
assert abs(res.mpjpe - run.metrics["mpjpe"]) < 1e-6, "the run's metrics and this evaluation use one protocol"
ours = pd.DataFrame([{"Method": f"{model} (N={cfg.frames})", "MPJPE": res.mpjpe}])
reported = paper.paper_table("pstmo_table1")[["Method", "Avg"]].rename(columns={"Avg": "MPJPE"})
table = paper.beside(ours, reported[reported["Method"].str.startswith("P-STMO")], label=nb.label)
table.loc[len(table)] = {
    "Source": f"baseline ({dataset} data)",
    "Method": "average training pose, no model",
    "MPJPE": baseline,
}
nb.table(
    table, "00_quickstart_mpjpe", frames=cfg.frames, steps=cfg.max_steps,
    title="P-STMO Table 1 (Avg column, Human3.6M, CPN inputs) beside ours",
    note=f"ours: {model}, N={cfg.frames}, {dataset} data, {profile} profile, Stage I "
    f"{'on' if pretrain else 'off'}; protocol: {res.protocol}",
)  # fmt: skip
nb.summary(res.metrics, model=model, frames=cfg.frames, pretrain=pretrain)

# %%
paper_row = "P-STMO (N=243)" if model == "p-stmo" else "P-STMO-S (N=243)"
paper_mpjpe = float(reported.set_index("Method").loc[paper_row, "MPJPE"])
display(
    Markdown(
        findings.scale_sentence(
            res.mpjpe, paper_mpjpe if dataset == "h36m" else None, baseline, steps=int(run.steps["step"].max()),
            batch_size=cfg.batch_size, train_frames=train_frames, what=f"Our {model} (N={cfg.frames})",
        ) + (
            f" (the paper's {paper_row} scores {paper_mpjpe:.1f} mm on Human3.6M with CPN detections; these are "
            f"{dataset} data, so the two numbers measure different test sets)." if dataset != "h36m" else "."
        )
    )
)  # fmt: skip

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
