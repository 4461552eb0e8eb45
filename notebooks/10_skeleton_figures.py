# %% [markdown]
# # 10 · Qualitative results (P-STMO Fig. 3, LiftFormer Fig. 2)
#
# **The claim.** Both papers show that the lifted 3D poses look right, even for hard poses with
# self-occlusion, by drawing for chosen frames the 2D input, the predicted 3D pose and the
# ground truth side by side (P-STMO Fig. 3; LiftFormer Fig. 2).
#
# Here: a small model is trained on the demo data (or loaded from `checkpoint`), and for the
# chosen test frames we draw *input 2D → predicted 3D → ground truth 3D*, colouring the bones
# by side (left blue, right red) and reporting the per-frame MPJPE. An animated GIF shows a
# whole test sequence.

# %% tags=["parameters"]
# Parameters (papermill overrides these; see `pstmo sweep` and `pstmo reproduce`).
profile = "smoke"  # "smoke": seconds on a CPU; "paper": the papers' settings
dataset = "demo"  # "demo" (bundled CMU mocap), "h36m", "3dhp" or "humaneva"
data_dir = None  # folder of the prepared dataset (None: the bundled demo data)
device = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
seed = 0
out_dir = None  # None: results/ and figures/ of the repository
model = "p-stmo-s"
checkpoint = None  # path of a trained checkpoint (None: train a small model here)
frames = None  # N (None: the profile's default)
chosen_frames = [0.25, 0.5, 0.75]  # positions in the test sequence (fractions of its length)
gif_frames = 40  # frames in the animated GIF

# %%

from pstmo import notebook, viz
from pstmo.evaluate import evaluate
from pstmo.train import train

nb = notebook.setup("10_skeleton_figures", profile, dataset, data_dir, device, seed, out_dir)

# %%
if checkpoint:
    ckpt = checkpoint
else:
    ckpt = train(nb.config("lift", model, frames=frames, model=model)).checkpoint
res = evaluate(ckpt, dataset=dataset, data_dir=data_dir, device=device)
pred = max(res.predictions, key=lambda p: len(p.pred))  # the longest test sequence
print(pred.subject, pred.action, len(pred.pred), "frames; MPJPE", round(res.mpjpe, 1), "mm")

# %% [markdown]
# ## Input 2D, predicted 3D and ground truth for chosen frames (Fig. 3 style)

# %%
for q in chosen_frames:
    t = min(int(q * len(pred.pred)), len(pred.pred) - 1)
    fig = viz.plot_comparison(pred.pose_2d[t], pred.pred[t], pred.target[t])
    fig.suptitle(f"{pred.subject} {pred.action}, frame {t}")
    nb.figure(fig, f"10_fig3_frame{t:05d}")

# %% [markdown]
# ## An animated GIF of the sequence

# %%
stride = max(1, len(pred.pred) // gif_frames)
gif = nb.animation(
    "10_sequence",
    pred.pred,
    poses_2d=pred.pose_2d,
    gt_3d=pred.target,
    stop=stride * gif_frames,
    stride=stride,
    fps=10,
)
nb.summary({"mpjpe": res.mpjpe, "gif": str(gif)}, model=model)
print("GIF:", gif)

# %% [markdown]
# ## What the figures show
#
# Joints of the prediction are coloured by their error; the biggest errors are usually at the
# wrists and feet, the end points of the kinematic chains, and along the depth axis, which the
# 2D input does not observe. The papers show Human3.6M and MPI-INF-3DHP frames from fully
# trained models; ours come from the data and profile named in the results folder.
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
