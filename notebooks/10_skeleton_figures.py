# %% [markdown]
# # 10 · Qualitative results (P-STMO Fig. 3)
#
# **The claim.** P-STMO's lifted 3D poses look right, even for hard poses with depth ambiguity
# and self-occlusion: Fig. 3 draws, for chosen frames of Human3.6M and MPI-INF-3DHP, the input,
# P-STMO's 3D pose and PoseFormer's beside the ground truth.
#
# Here: a P-STMO model is trained on the data of the parameters (or loaded from `checkpoint`)
# and evaluated on the whole test split with the papers' protocol; for chosen frames of its
# longest test sequence we draw *input 2D → predicted 3D → ground truth 3D*, colouring the
# bones by side (left blue, right red) and the predicted joints by their error, and an animated
# GIF shows the sequence. We have no PoseFormer, so there is no second prediction column.
# (LiftFormer's qualitative figure, its Fig. 2, is made with LiftFormer models in notebook 12.)
#
# **What is reduced, and why.** The paper's models train for about 80 epochs on Human3.6M. Here
# the model is the profile's main one, trained as notebook 00 trains it (P-STMO-S at the
# profile's $N$: Stage I, then Stage II from its encoder, one seed) on the bundled demo data,
# each stage until its error on frames held out from the training subjects stops improving (the
# `demo` profile: early stopping; the checkpoint kept is the best on those frames, never selected
# on the test split). Both stages are `Cell`s of the one runner (`pstmo.experiments.runner`, cached), so after
# notebook 00 this notebook trains nothing: it loads that run's `best.pt`. The text under the
# figures says, from the numbers, what the model gets right and wrong.

# %% tags=["parameters"]
# Parameters (papermill overrides these; see `pstmo sweep` and `pstmo reproduce`).
profile = "smoke"  # "smoke": seconds on a CPU; "paper": the papers' settings
dataset = "demo"  # "demo" (bundled CMU mocap), "h36m", "3dhp" or "humaneva"
data_dir = None  # folder of the prepared dataset (None: the bundled demo data)
device = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
seed = 0
out_dir = None  # None: results/ and figures/ of the repository
model = "p-stmo-s"
checkpoint = None  # path of a trained checkpoint (None: train a model here)
frames = None  # N (None: the profile's main size, 27 in smoke and demo; as notebook 00)
chosen_frames = [0.25, 0.5, 0.75]  # positions in the test sequence (fractions of its length)
gif_frames = 40  # frames in the animated GIF

# %%
import json
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from pstmo.data import load_dataset
from pstmo.evaluate import evaluate, mean_pose_baseline
from pstmo.experiments import notebook
from pstmo.experiments.runner import Cell
from pstmo.report import findings, viz
from pstmo.skeleton import H36M_SKELETON

nb = notebook.setup("10_skeleton_figures", profile, dataset, data_dir, device, seed, out_dir)
ds = load_dataset(dataset, data_dir=data_dir)

# %% [markdown]
# ## The model: notebook 00's run (Stage I, then Stage II), or `checkpoint`
#
# The learning curves show the Stage II run reach its plateau and the epoch that was kept.

# %%
if checkpoint:
    ckpt, trained = checkpoint, f"checkpoint {checkpoint}"
else:
    STAGE1 = Cell("stage1", stage="pretrain", model=model, frames=frames)
    CELL = Cell(model, model=model, frames=frames, pretrain=STAGE1)
    runs = nb.run([CELL], seeds=[nb.seed], curves="10_learning_curves")
    run = runs.iloc[0]
    ckpt = Path(run["run_dir"]) / "best.pt"
    cfg = json.loads((Path(run["run_dir"]) / "config.json").read_text())
    trained = (
        f"{model} (N={run['frames']}), Stage I then Stage II, trained {int(run['steps'])} Stage II steps "
        f"({profile} profile, {dataset} data, seed {nb.seed}; best.pt selected on "
        f"{'frames held out from the training subjects' if cfg['selection'] == 'val' else 'the test split'})"
    )
res = evaluate(ckpt, dataset=ds, device=device)
baseline = mean_pose_baseline(ds).mpjpe
pred = max(res.predictions, key=lambda p: len(p.pred))  # the longest test sequence
seq = next(
    s
    for s in ds.sequences("test")
    if (s.subject, s.action, s.camera) == (pred.subject, pred.action, pred.camera)
)
err = viz.per_joint_error(pred.pred, pred.target) * 1000.0  # (T, J) mm
print(f"{trained}; test MPJPE {res.mpjpe:.1f} mm ({res.protocol})")
print(f"figures: {pred.subject} {pred.action}, camera {pred.camera}, {len(pred.pred)} frames")

# %% [markdown]
# ## Input 2D, predicted 3D and ground truth for chosen frames (Fig. 3 style)

# %%
for q in chosen_frames:
    t = min(int(q * len(pred.pred)), len(pred.pred) - 1)
    fig = viz.plot_comparison(pred.pose_2d[t], pred.pred[t], pred.target[t])
    fig.suptitle(f"{pred.subject} {pred.action}, camera {pred.camera}, frame {t}", fontsize=10)
    nb.figure(fig, f"10_fig3_frame{t:05d}")

# %% [markdown]
# ## An animated GIF of the sequence
# Every `stride`-th frame of the sequence; the title of each frame gives its MPJPE and how far
# the person is from the camera.

# %%
stride = max(1, len(pred.pred) // gif_frames)
depth = seq.root_3d[:, 2] if seq.root_3d is not None else np.full(len(pred.pred), np.nan)
titles = [
    f"frame {t}: MPJPE {err[t].mean():.0f} mm, person {depth[t]:.1f} m from the camera"
    for t in range(len(err))
]
gif = nb.animation(
    "10_sequence", pred.pred, poses_2d=pred.pose_2d, gt_3d=pred.target, stop=stride * gif_frames, stride=stride,
    fps=10, titles=titles, labels=["2D input", "prediction", "ground truth"],
)  # fmt: skip
nb.summary({"mpjpe": res.mpjpe, "gif": str(gif)}, model=model)

# %% [markdown]
# ## What the figures show, in numbers
# The sequence in quarters: error, how far the person is, how tall they appear in 2D, how wide
# the predicted and the true poses are, and how much each moves per frame.

# %%
quarters = np.array_split(np.arange(len(err)), 4)
height_2d = np.ptp(pred.pose_2d[..., 1], axis=-1)  # (T,) normalised image units
width = {
    k: np.ptp(v[..., 0], axis=-1) for k, v in (("pred", pred.pred), ("gt", pred.target))
}  # (T,) m, x extent
motion = {k: np.r_[np.nan, np.linalg.norm(np.diff(v, axis=0), axis=-1).mean(-1) * 1000.0]
          for k, v in (("pred", pred.pred), ("gt", pred.target))}  # fmt: skip
table = pd.DataFrame([
    {"frames": f"{q[0]}-{q[-1]}", "MPJPE (mm)": err[q].mean(), "distance (m)": np.nanmean(depth[q]),
     "2D height": height_2d[q].mean(), "width pred (m)": width["pred"][q].mean(), "width true (m)": width["gt"][q].mean(),
     "motion pred (mm/frame)": np.nanmean(motion["pred"][q]), "motion true (mm/frame)": np.nanmean(motion["gt"][q])}
    for q in quarters
])  # fmt: skip
nb.table(
    table, "10_sequence_quarters",
    title=f"P-STMO Fig. 3 counterpart: {pred.subject} {pred.action} (camera {pred.camera}) in quarters",
    note=f"ours: {trained}; protocol of the test MPJPE: {res.protocol}",
)  # fmt: skip

# %%
worst_q, best_q = int(table["MPJPE (mm)"].idxmax()), int(table["MPJPE (mm)"].idxmin())
per_joint = err.mean(0)
names = (getattr(ds, "skeleton", None) or H36M_SKELETON).names
order = per_joint.argsort()[::-1]
text = [
    findings.sentence(
        findings.scale_sentence(res.mpjpe, None, baseline, what="On the whole test split the model")
    )
    + f" On this sequence it scores {err.mean():.1f} mm, from {table['MPJPE (mm)'][best_q]:.0f} mm in quarter "
    f"{best_q + 1} to {table['MPJPE (mm)'][worst_q]:.0f} mm in quarter {worst_q + 1}; its worst joints are "
    f"{', '.join(f'{names[j]} ({per_joint[j]:.0f} mm)' for j in order[:3])}, its best "
    f"{', '.join(f'{names[j]} ({per_joint[j]:.0f} mm)' for j in order[::-1][1:3])} (the root is 0 by construction).",
]
d0, d1 = np.nanmean(depth[quarters[0]]), np.nanmean(depth[quarters[-1]])
roots = [s.root_3d[:, 2] for s in ds.sequences("train") if s.root_3d is not None]
train_depth = (min(r.min() for r in roots), max(r.max() for r in roots)) if roots else (np.nan, np.nan)
h0, h1 = height_2d[quarters[0]].mean(), height_2d[quarters[-1]].mean()
if np.isfinite(d0) and abs(d1 - d0) > 0.5:
    ratio = width["pred"][quarters[-1]].mean() / width["gt"][quarters[-1]].mean()
    text.append(
        f"The person {'walks away from' if d1 > d0 else 'comes towards'} the camera, from {d0:.1f} to {d1:.1f} m, so "
        f"their 2D height goes from {h0:.2f} to {h1:.2f}. The prediction's width in the last quarter is "
        f"{ratio:.0%} of the true width"
        + (
            ": the model reads a smaller 2D pose partly as a narrower body. The training clips cover distances of "
            f"{train_depth[0]:.1f}-{train_depth[1]:.1f} m, so we think this is undertraining rather than missing data"
            if ratio < 0.8 and train_depth[0] <= d1 <= train_depth[1]
            else ""
        )
        + "."
    )
m_pred, m_gt = np.nanmean(motion["pred"]), np.nanmean(motion["gt"])
text.append(
    f"The prediction moves {m_pred:.1f} mm per frame on average (per joint) where the ground truth moves "
    f"{m_gt:.1f} mm"
    + (": it follows the motion only partly, drifting towards an average pose" if m_pred < 0.7 * m_gt else "")
    + "."
)
display(Markdown("\n\n".join(text)))

# %% [markdown]
# ## Like with like
#
# `papermill notebooks/10_skeleton_figures.ipynb out.ipynb -p dataset h36m -p data_dir <prepared Human3.6M> -p checkpoint <a trained run's best.pt>`
# draws the same figures for Human3.6M frames from a fully trained model (or a released official checkpoint).
