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
# This notebook runs the whole pipeline on the bundled demo data: load the data, pre-train a
# small P-STMO (Stage I), fine-tune it (Stage II), evaluate it with MPJPE, and draw one predicted
# 3D skeleton next to the ground truth.

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

from pstmo import notebook, paper, viz
from pstmo.evaluate import evaluate
from pstmo.train import train

nb = notebook.setup("00_quickstart", profile, dataset, data_dir, device, seed, out_dir)

# %% [markdown]
# ## The data
# Each `Sequence` holds normalised 2D keypoints `(T, 17, 2)` and root-relative 3D poses `(T, 17, 3)` in metres.

# %%
from pstmo.data import load_dataset

ds = load_dataset(dataset, data_dir=data_dir)
train_seqs, test_seqs = ds.sequences("train"), ds.sequences("test")
print(
    f"{dataset}: {len(train_seqs)} train / {len(test_seqs)} test sequences, "
    f"{sum(len(s.pose_2d) for s in train_seqs)} / {sum(len(s.pose_2d) for s in test_seqs)} frames"
)
seq = test_seqs[0]
print(seq.subject, seq.action, "pose_2d", seq.pose_2d.shape, "pose_3d", seq.pose_3d.shape)

# %% [markdown]
# ## Stage I: masked pose modeling
# The encoder (SEM + TEM) and a small decoder learn to reconstruct masked 2D poses.

# %%
pre = train(nb.config("pretrain", "stage1", model, frames=frames)) if pretrain else None
if pre is not None:
    print("Stage I: 2D reconstruction error on the test split:", round(pre.metrics["recon_2d"], 4))

# %% [markdown]
# ## Stage II: fine-tune STMO to predict the 3D pose of the middle frame

# %%
cfg = nb.config("lift", "stage2", frames=frames, model=model, pretrained=str(pre.checkpoint) if pre else None)
run = train(cfg)
fig = viz.plot_training_curves(run.steps, x="step", y="loss")
nb.figure(fig, "00_quickstart_training_curve")

# %% [markdown]
# ## Evaluate: MPJPE on every test frame (flip augmentation averaged)

# %%
res = evaluate(run.checkpoint, dataset=dataset, data_dir=data_dir, device=device)
ours = pd.DataFrame([{"Method": f"{model} (N={cfg.frames})", "MPJPE": res.mpjpe}])
reported = paper.paper_table("pstmo_table1")[["Method", "Avg"]].rename(columns={"Avg": "MPJPE"})
table = paper.beside(ours, reported[reported["Method"].str.startswith("P-STMO")], label=nb.label)
nb.table(table, "00_quickstart_mpjpe", frames=cfg.frames)
nb.summary(res.metrics, model=model, frames=cfg.frames, pretrain=pretrain)

# %% [markdown]
# ## One test frame: 2D input, predicted 3D, ground truth 3D

# %%
pred = res.predictions[0]
t = len(pred.pred) // 2
fig = viz.plot_comparison(pred.pose_2d[t], pred.pred[t], pred.target[t])
nb.figure(fig, "00_quickstart_skeleton")

# %% [markdown]
# ## What the numbers show
#
# The table puts our MPJPE under the paper's P-STMO rows (P-STMO-S 43.0 mm, P-STMO 42.8 mm on
# Human3.6M with CPN inputs). The row labelled *ours* was trained and tested on the data and
# profile it names. The figure colours each predicted joint by its error.
#
# **Why our numbers differ from the paper's.** With `dataset = "demo"` the data are a few minutes
# of CMU motion capture bundled with `pstmo` (two CMU subjects to train on, two others to test on,
# four virtual cameras with the Human3.6M intrinsics, ground-truth 2D unless `keypoints = "det"`
# picks the simulated-detector 2D), not the 3.6 million Human3.6M frames; with
# `profile = "smoke"` a model trains for seconds on a CPU with tiny widths and few frames, where
# the paper trains for days on GPUs. So our absolute errors are larger and noisier, and small
# differences between rows (a few tenths of a millimetre in the paper) are below our run-to-run
# noise. What carries over is the *pipeline*: the same models, losses, masks and metrics, run end
# to end. Run `pstmo reproduce --profile paper --dataset h36m --data-dir <prepared data>` on a GPU
# to compare like with like.
