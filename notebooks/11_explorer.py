# %% [markdown]
# # 11 · Interactive explorer
#
# Pick a **dataset, subject, clip, camera and frame** (slider, or ▶ to play), a **model** (it
# opens on the trained demo model shipped with the package; untrained ones are built on the spot;
# the runs of `pstmo train` under `results/<run>/best.pt` and those of the notebooks under
# `results/runs/<notebook>-<run>/best.pt` are listed, and *rescan runs* adds those trained since;
# or type a checkpoint path), the **TDS rate** *s* (window frames
# `t + k·s`) and the **MPM masking** (temporal ratio *q<sup>T</sup>*, spatially masked joints
# *m<sup>S</sup>*). The figure shows
#
# * the 2D input of the centre frame with the masked joints (hollow grey), and the N × J mask of
#   the whole window (grey columns: masked frames, red cells: masked joints), P-STMO Sec. 3.2;
# * the MPM (Stage I) reconstruction of the centre frame over the input;
# * the predicted 3D pose (joints coloured by error) beside the ground truth, and the per-joint error.
#
# Without `checkpoint` the explorer opens on the **trained demo model shipped with the package**
# (`pstmo.data.demo_model_path()`: a small P-STMO-S with a 27-frame window, Stage I then Stage II
# on the demo's training subjects, made by `tools/train_shipped_model.py`), so the predictions and
# the MPM reconstruction are real ones from the start. The *untrained* models of the list have
# random weights (said in red on the figure): they show the data, the windows and the masks only.
# Pick one of your runs in the list, or pass e.g.
# `checkpoint="results/runs/00_quickstart-stage2/best.pt"` (after notebook 00; a path relative to
# the repository root or to `notebooks/`).
#
# **Playing.** ▶ advances 10 frames per second. A redraw takes longer than that on a CPU (the
# status line's figures are recomputed and the picture rendered for every frame), so while
# playing the explorer skips frames instead of falling behind: the player waits for each redraw
# and then jumps ahead by the frames it could not show, keeping the sequence at about its speed.
#
# Without a running kernel the controls cannot work; this is what the explorer looks like (a
# picture stored with the notebook, from an earlier session with a trained model):
#
# ![explorer (static)](attachment:explorer_static.png)

# %% tags=["parameters"]
# Parameters (papermill overrides these; see `pstmo sweep` and `pstmo reproduce`).
profile = "smoke"  # "smoke": seconds on a CPU; "paper": the papers' settings
dataset = "demo"  # "demo" (bundled CMU mocap), "h36m", "3dhp" or "humaneva"
data_dir = None  # folder of the prepared dataset (None: the bundled demo data)
device = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
seed = 0
out_dir = None  # None: figures/ of the repository
checkpoint = None  # a trained Stage II / LiftFormer checkpoint (None: the shipped demo model)

# %%
from pstmo.experiments import notebook
from pstmo.experiments.widgets import PoseExplorer

nb = notebook.setup("11_explorer", profile, dataset, data_dir, device, seed, out_dir)
explorer = PoseExplorer(
    dataset=dataset,
    data_dir=data_dir,
    checkpoint=checkpoint,
    device=device,
    seed=seed,
    profile=profile,
    results_dir=nb.results,
)
explorer.widget

# %% [markdown]
# The controls are plain ipywidgets, so they can also be set from code; `hold()` redraws once
# after several changes. `explorer.state` holds the numbers behind the figure.

# %%
with explorer.hold():
    explorer.frame.value = min(120, explorer.frame.max)
    explorer.mask_ratio.value = 0.8  # the paper's optimum q^T = 80 % with m^S = 2 (Fig. 4c)
    explorer.mask_joints.value = 2
st = explorer.state
print(
    f"frame {st['frame']}: {int(st['temporal'].sum())} of {len(st['temporal'])} window frames masked, "
    f"MPJPE {st['errors_mm'].mean():.1f} mm ({'trained' if st['trained'] else 'untrained'} model)"
)

# %%
# the figure of the last update, shown here; running this notebook writes no file
# (`explorer.save_static(out_dir=...)` saves it as `11_explorer_static.png` where you say)
explorer.figure
