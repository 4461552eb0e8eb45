"""Write notebooks/00_quickstart.ipynb ... notebooks/10_skeleton_figures.ipynb with nbformat.

The notebooks are thin: teaching text, one ``parameters`` cell (papermill), and short code
cells that call ``pstmo``. Edit the cell sources here, then run::

    .venv/bin/python tools/make_notebooks.py            # write all notebooks (no outputs)
    .venv/bin/python tools/make_notebooks.py --check    # ... then execute each in the smoke
                                                        # profile and store the outputs of the
                                                        # cells marked NBVAL_CHECK_OUTPUT
    .venv/bin/python tools/make_notebooks.py 05 08      # only these notebooks

Cells whose first line is ``# NBVAL_CHECK_OUTPUT`` are compared by nbval (``--nbval-lax``),
so their stored output must be deterministic text (parameter counts, FLOPs at paper sizes).
All other cells are stored without outputs.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
CHECK = "# NBVAL_CHECK_OUTPUT"


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip())


def code(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(textwrap.dedent(text).strip())


def checked(text: str) -> nbformat.NotebookNode:
    """A cell whose printed output nbval compares exactly (must be deterministic)."""
    return code(CHECK + "\n" + textwrap.dedent(text).strip())


def params(name: str, extra: str = "") -> nbformat.NotebookNode:
    """The papermill ``parameters`` cell: the common names plus the notebook's own knobs."""
    src = """
    # Parameters (papermill overrides these; see `pstmo sweep` and `pstmo reproduce`).
    profile = "smoke"  # "smoke": seconds on a CPU; "paper": the papers' settings
    dataset = "demo"  # "demo" (bundled CMU mocap), "h36m", "3dhp" or "humaneva"
    data_dir = None  # folder of the prepared dataset (None: the bundled demo data)
    device = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
    seed = 0
    out_dir = None  # None: results/ and figures/ of the repository
    """
    cell = code(
        textwrap.dedent(src).strip() + ("\n" + textwrap.dedent(extra).strip() if extra.strip() else "")
    )
    cell.metadata["tags"] = ["parameters"]
    return cell


def setup(name: str) -> nbformat.NotebookNode:
    """Where outputs go, how our numbers are labelled, and the profile's training configs."""
    return code(
        f'''
        import dataclasses
        from pathlib import Path

        import numpy as np
        import pandas as pd
        import torch
        from IPython.display import Markdown, display

        from pstmo import engine, paper, paths, viz
        from pstmo.sweep import write_summary

        NOTEBOOK = "{name}"
        RESULTS = Path(out_dir) if out_dir else paths.results_dir()  # tables: JSON + CSV + Markdown
        FIGURES = RESULTS / "figures" if out_dir else paths.figures_dir()  # PNG / GIF
        FIGURES.mkdir(parents=True, exist_ok=True)
        LABEL = paper.ours_label(dataset, profile)  # e.g. "ours (demo data, smoke profile)", never "Human3.6M"
        META = dict(notebook=NOTEBOOK, profile=profile, dataset=dataset, data_dir=data_dir, device=device, seed=seed)
        viz.set_style()
        if profile == "smoke":  # tiny models: one thread is fastest and does not oversubscribe a shared CPU
            torch.set_num_threads(1)


        def cfg_for(stage, run, frames=None, model_extra=None, **overrides):
            """The profile's TrainConfig for this notebook's data, device, seed and results folder."""
            if frames:
                overrides["frames"] = frames
            cfg = engine.get_profile(
                profile, stage=stage, dataset=dataset, data_dir=data_dir, device=device, seed=seed,
                results_dir=str(RESULTS / "runs"), run_name=f"{{NOTEBOOK}}-{{run}}", progress=False, **overrides,
            )
            if model_extra:  # keep the profile's model size, change only these fields
                cfg = dataclasses.replace(cfg, model_overrides={{**cfg.model_overrides, **model_extra}})
            return cfg


        def show(df, name, **meta):
            """Write ``df`` to results/<name>.{{json,csv,md}} and display it."""
            paper.write_table(df, name, out_dir=RESULTS, meta={{**META, "ours": LABEL, **meta}})
            display(Markdown(paper.to_markdown(df)))


        print(LABEL, "->", RESULTS)
        '''
    )


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


# ---------------------------------------------------------------------------------------------
NOTEBOOKS: dict[str, list] = {}

ENDING_COMMON = textwrap.indent(  # indented like the cells it ends, so md()'s dedent applies to both
    r"""
**Why our numbers differ from the paper's.** With `dataset = "demo"` the data are a few minutes
of CMU motion capture bundled with `pstmo` (two CMU subjects to train on, two others to test on,
four virtual cameras with the Human3.6M intrinsics, ground-truth 2D unless `keypoints = "det"`
picks the simulated-detector 2D), not the 3.6 million Human3.6M frames; with
`profile = "smoke"` a model trains for seconds on a CPU with tiny widths and few frames, where
the paper trains for days on GPUs. So our absolute errors are larger and noisier, and small
differences between rows (a few tenths of a millimetre in the paper) are below our run-to-run
noise. What carries over is the *pipeline*: the same models, losses, masks and metrics, run end
to end. Run `pstmo reproduce --profile paper --dataset h36m --data-dir <prepared data>` on a GPU
to compare like with like.
""",
    "    ",
)

# ---------------------------------------------------------------------------------------------
NOTEBOOKS["00_quickstart"] = [
    md(r"""
    # 00 · Quickstart: lift 2D poses to 3D with P-STMO

    **The claim (P-STMO, ECCV 2022).** Lifting a *sequence* of 2D keypoints to the 3D pose of its
    middle frame is easier if the network first learns what 2D pose sequences look like. P-STMO
    splits training in two stages: **Stage I**, *masked pose modeling* (MPM), hides frames and
    joints of the 2D input and trains an encoder–decoder to put them back; **Stage II** loads the
    pre-trained encoder into the **STMO** model and fine-tunes it to predict the 3D pose $y_0$ of the
    current frame from

    $$X = \{x_n\}_{n=-(N-1)/2}^{(N-1)/2},\qquad x_n = \{p_i\}_{i=1}^{J},\ p_i\in\mathbb{R}^2 .$$

    STMO is three modules in series: **SEM** (an MLP over the 17 joints of each frame), **TEM**
    (a Transformer over the $N$ frame tokens) and **MOFA** (a strided Transformer that aggregates
    $N$ frames into one). Stage II minimises the single-frame loss plus $\lambda$ times a
    multi-frame loss on all $N$ frames:
    $\mathcal{L} = \mathcal{L}_{single} + \lambda\,\mathcal{L}_{multiple}$.

    This notebook runs the whole pipeline on the bundled demo data: load the data, pre-train a
    small P-STMO (Stage I), fine-tune it (Stage II), evaluate it with MPJPE, and draw one predicted
    3D skeleton next to the ground truth.
    """),
    params(
        "00_quickstart",
        """
    model = "p-stmo-s"  # "p-stmo-s" or "p-stmo"
    frames = None  # N input frames (None: the profile's default)
    pretrain = True  # run Stage I (MPM) before Stage II
    """,
    ),
    None,  # setup
]

NOTEBOOKS["01_masked_pose_modeling"] = [
    md(r"""
    # 01 · Masked pose modeling (P-STMO Fig. 2 and Fig. 4)

    **The claim.** Self-supervised pre-training by *masked pose modeling* (MPM) gives STMO a better
    starting point: P-STMO-S improves from 44.2 to 43.2 mm MPJPE on Human3.6M (Table 3). Like
    BERT's masked words and MAE's masked patches, MPM hides part of the 2D input and asks an
    encoder–decoder to reconstruct it. Three strategies (Fig. 2):

    * **Temporal masking**: a fraction $q^T$ of the $N$ frames, $|\mathcal{M}^T| = q^T N$, is removed;
      the encoder sees only the visible frames and the decoder fills the gaps with a learnable
      *temporal padding embedding* $e^T$.
    * **Spatial masking**: in every frame $m^S$ joints (different ones per frame) are replaced by a
      learnable *spatial padding joint* $e^S$; $q^S = m^S / J$.
    * **Spatial temporal masking** (used by P-STMO): temporal masking, then spatial masking of the
      remaining frames, a total ratio of

    $$q^{ST} = q^T + (1 - q^T)\, q^S .$$

    **The masking-ratio study (Fig. 4).** The best temporal ratio is high, $q^T = 90\%$ (2D pose
    sequences are redundant, so an easy task teaches little); the best spatial number is
    $m^S = 7$ ($q^S = 41.1\%$); combined, $q^T = 80\%$ and $m^S = 2$ ($q^{ST} = 82.3\%$) is best and
    beats the single strategies by about 0.3 mm.

    Below: the three masks drawn on a real demo sequence, Stage I reconstructions, and a small
    version of the ratio study (each point = Stage I with that mask, then Stage II, then MPJPE).
    """),
    params(
        "01_masked_pose_modeling",
        """
    frames = None  # N (None: the profile's default)
    temporal_ratios = [0.5, 0.9]  # q^T values of Fig. 4a (paper: 0.1 ... 0.9)
    spatial_joints = [2, 7]  # m^S values of Fig. 4b (paper: 1 ... 10)
    st_temporal_ratios = [0.5, 0.8]  # q^T axis of the Fig. 4c heat map (paper: 0.1 ... 0.9)
    st_spatial_joints = [2]  # m^S axis of the Fig. 4c heat map (paper: 1 ... 10)
    """,
    ),
    None,
]

NOTEBOOKS["02_h36m_results"] = [
    md(r"""
    # 02 · Human3.6M results (P-STMO Table 1, LiftFormer Tables 1–4 and 8)

    **The claims.** On Human3.6M with CPN-detected 2D keypoints, P-STMO with $N = 243$ frames
    reaches **42.8 mm** MPJPE (42.1 mm with the refinement module), P-STMO-S 43.0 mm (P-STMO
    Table 1). LiftFormer, a plain Transformer encoder over the 2D frames that lifts the middle
    token, reports **44.8 mm** with CPN inputs and **31.9 mm** with ground-truth 2D inputs and shared
    attention weights (LiftFormer Tables 1–2), P-MPJPE 35.0 / 23.1 mm (Table 3) and a velocity
    error MPJVE of 1.3 mm/s (Table 4).

    The metrics (Protocols 1–3):

    $$\text{MPJPE} = \frac{1}{J}\sum_{i=1}^{J}\lVert \hat y_i - y_i\rVert_2,\qquad
    \text{P-MPJPE} = \text{MPJPE}\big(\text{Procrustes}(\hat y, y),\, y\big),$$

    and MPJVE is the MPJPE of the first temporal differences (velocities). Every number is
    averaged over the frames of each action of subjects S9 and S11, then over the 15 actions.

    This notebook evaluates a trained model (or an official checkpoint, `checkpoint = "..."`)
    per action and puts the result next to both papers' tables. On the demo data the "actions"
    are the few CMU motions bundled with `pstmo`, so most action columns stay empty.
    """),
    params(
        "02_h36m_results",
        """
    model = "p-stmo-s"  # lifting model to train/evaluate: "p-stmo-s", "p-stmo" or "liftformer"
    keypoints = "gt"  # 2D inputs: "gt" or a detector ("cpn", "det") where the dataset has one
    checkpoint = None  # path of a trained or official checkpoint (skips training)
    frames = None  # N (None: the profile's default)
    """,
    ),
    None,
]

NOTEBOOKS["03_mpi_inf_3dhp"] = [
    md(r"""
    # 03 · MPI-INF-3DHP (P-STMO Table 2)

    **The claim.** P-STMO generalises to a harder dataset with indoor and outdoor scenes: with
    $N = 81$ ground-truth 2D frames it reaches **PCK 97.9 %, AUC 75.8 %, MPJPE 32.2 mm** on
    MPI-INF-3DHP (Table 2), improving AUC by 9.1 % and MPJPE by 24.2 % over the previous best.

    * **PCK** is the percentage of joints whose 3D error is below 150 mm;
    * **AUC** is the area under the PCK curve for thresholds from 0 to 150 mm (mean PCK over
      thresholds $0, 5, \dots, 150$ mm);
    * **MPJPE** as in notebook 02.

    Here a small P-STMO is trained and scored with the same three metrics. With the default
    `dataset = "demo"` the scores are on the demo data, *not* MPI-INF-3DHP; pass
    `dataset = "3dhp", data_dir = ...` for the real benchmark.
    """),
    params(
        "03_mpi_inf_3dhp",
        """
    frames = None  # N (the paper uses 81 on MPI-INF-3DHP; None: the profile's default)
    pck_threshold_mm = 150.0
    """,
    ),
    None,
]

NOTEBOOKS["04_humaneva"] = [
    md(r"""
    # 04 · HumanEva-I (LiftFormer Table 5)

    **The claim.** LiftFormer also works on a small dataset: on HumanEva-I (3 subjects, actions
    *Walk* and *Jog*) it reaches **10.5 mm P-MPJPE** with ground-truth 2D inputs and $n = 27$
    frames, 22 % below the previous best (Table 5). Smaller receptive fields do better here, as
    sequences are short. The paper's note: S3 *Walk* has corrupted mocap, so rows marked with
    it leave that column out of the average.

    P-MPJPE (Protocol 2) aligns the prediction to the ground truth by the similarity transform
    $(s, R, t)$ that minimises $\sum_i \lVert s R \hat y_i + t - y_i\rVert^2$ before measuring MPJPE.

    We train a small LiftFormer and report P-MPJPE per subject and action in the paper's layout.
    """),
    params(
        "04_humaneva",
        """
    frames = None  # receptive field n (paper: 27, 81, 243; None: the profile's default)
    """,
    ),
    None,
]

NOTEBOOKS["05_components"] = [
    md(r"""
    # 05 · What each component brings (P-STMO Table 3)

    **The claim.** Each part of P-STMO helps (P-STMO-S, $N = 243$, CPN inputs, Table 3):

    | model | MPJPE (mm) |
    |---|---|
    | SEM only (per-frame MLP) | 51.0 |
    | TEM only (Transformer over frames) | 49.6 |
    | SEM + TEM | 46.0 |
    | SEM + TEM + MOFA = STMO | 44.2 |
    | + MPM pre-training | 43.2 |
    | + TDS ($s = 2$) | 43.0 |

    SEM sees one frame, TEM sees the motion; together they separate *spatial* from *temporal*
    modelling. MOFA replaces a flat average over frames by strided temporal convolutions that
    shrink $N$ tokens to the current one, favouring nearby frames. MPM (notebook 01) and TDS
    (notebook 07) add training signal and a longer time span without more parameters — the
    Params/FLOPs columns do not change in the last three rows.

    Below, the Params and FLOPs of each row are computed exactly at the paper's size
    ($N = 243$) and the MPJPE column comes from short runs of each variant.
    """),
    params(
        "05_components",
        """
    variants = ["sem", "tem", "sem+tem", "stmo", "stmo+mpm", "stmo+mpm+tds"]  # rows of Table 3 to train
    frames = None  # N of the training runs (None: the profile's default; the paper: 243)
    tds = 2  # s of the "+TDS" row
    """,
    ),
    None,
]

NOTEBOOKS["06_sem_backbone"] = [
    md(r"""
    # 06 · The backbone of SEM (P-STMO Table 4)

    **The claim.** A small MLP block is the best spatial encoder: with SEM + TEM, an MLP SEM
    ($L = 1$ sub-block) gets 46.0 mm, against 49.6 mm for a single *fc* layer (Li et al.) and
    48.8 mm for a spatial Transformer (PoseFormer, which only fits $N = 81$ frames in the same
    budget). $L = 2$ is marginally better (45.9 mm) but costs 256 M more FLOPs, so P-STMO uses
    $L = 1$.

    An MLP sub-block is $h \leftarrow h + W_2\,\sigma(W_1\,\mathrm{LN}(h))$ applied to each frame's
    joint vector; the fc backbone is a single $W$; the Transformer attends between the 17 joints.
    """),
    params(
        "06_sem_backbone",
        """
    backbones = ["fc", "mlp-l1", "mlp-l2"]  # rows of Table 4 to train: fc, transformer, mlp-l1, mlp-l2, mlp-l3
    frames = None  # N of the training runs (None: the profile's default)
    """,
    ),
    None,
]

NOTEBOOKS["07_tds_rate"] = [
    md(r"""
    # 07 · Temporal downsampling (P-STMO Table 5)

    **The claim.** Neighbouring frames at 50 fps are nearly identical. *Temporal downsampling*
    (TDS) feeds every $s$-th frame,

    $$X^{TDS} = \{x_{n\cdot s}\}_{n=-(N-1)/2}^{(N-1)/2},$$

    so $N$ tokens cover a receptive field $RF = N\cdot s$ frames at the same parameters and FLOPs.
    It helps most for short windows: $N = 27$ improves from 48.2 to 46.1 mm with $s = 9$, while
    $N = 243$ gains only 0.2 mm with $s = 2$ — far-away frames say little about the current pose.
    """),
    params(
        "07_tds_rate",
        """
    frames_list = [9, 27]  # N values (paper: 27, 81, 243)
    rates = [1, 3]  # s values (paper: 1, 2, 3, 9)
    """,
    ),
    None,
]

NOTEBOOKS["08_complexity"] = [
    md(r"""
    # 08 · Parameters, FLOPs and speed (P-STMO Table 6, Params/FLOPs of Tables 3–5)

    **The claim.** P-STMO is accurate *and* cheap: P-STMO-S with $N = 243$ has 6.2 M parameters and
    1482 M FLOPs per frame, fewer than PoseFormer with 81 frames (9.5 M, 1624 M), and runs at
    3504 frames/s on an RTX 3080 Ti — 1.5–7.1× faster than PoseFormer and the anatomy-aware model
    (Table 6). Stage I's decoder is discarded after pre-training and not counted.

    **How we count.** Parameters are the trainable parameters of the Stage II model. FLOPs are
    counted by `torch.utils.flop_counter` for one forward pass of one window (the output frame),
    and reported as in the papers (see `pstmo.complexity`: `params_paper`, `flops_paper`). FPS is
    *measured* on the current device with batched inference, so it depends on your hardware.
    """),
    params(
        "08_complexity",
        """
    fps_frames = [81]  # N of the Table 6 rows whose FPS is measured here (paper rows: 81, 243)
    fps_batch = 32  # windows per forward pass when measuring FPS
    fps_seconds = 1.0  # measuring time per model
    """,
    ),
    None,
]

NOTEBOOKS["09_liftformer_ablations"] = [
    md(r"""
    # 09 · LiftFormer ablations (LiftFormer Tables 6 and 7)

    **The claims.** LiftFormer is the base Transformer encoder of Vaswani et al. (hidden size
    512, 8 heads, 6 blocks, feed-forward 2048) over the $n$ frame tokens, with sinusoidal
    *temporal* encodings, lifting the middle token to 3D. Table 6 (CPN inputs, $n = 27$): a
    larger hidden size helps up to 512 (48.6 mm; 768 costs 75 % more parameters for nothing);
    the number of heads does not change the parameter count and barely the error; more blocks
    help a little. Table 7 (GT inputs): sharing the attention weights across blocks, as in
    ALBERT, cuts the model from 18.96 M to 13.7 M parameters at equal accuracy; 4 blocks
    give 9.5 M and 2 blocks of width 256 only 2.4 M.

    Per block the parameters are $4(d^2 + d)$ for attention, $2\,d\,d_{ff} + d_{ff} + d$ for the
    feed-forward network and $4d$ for two LayerNorms, plus the input and output projections —
    so the Params columns can be checked exactly, independent of training.
    """),
    params(
        "09_liftformer_ablations",
        """
    hidden_sizes = [32, 64]  # trained hidden sizes d (paper: 128, 256, 512, 768)
    train_blocks = 2  # encoder blocks of the trained models (paper: 6)
    frames = None  # receptive field n of the trained models (None: the profile's default)
    """,
    ),
    None,
]

NOTEBOOKS["10_skeleton_figures"] = [
    md(r"""
    # 10 · Qualitative results (P-STMO Fig. 3, LiftFormer Fig. 2)

    **The claim.** Both papers show that the lifted 3D poses look right, even for hard poses with
    self-occlusion, by drawing for chosen frames the 2D input, the predicted 3D pose and the
    ground truth side by side (P-STMO Fig. 3; LiftFormer Fig. 2).

    Here: a small model is trained on the demo data (or loaded from `checkpoint`), and for the
    chosen test frames we draw *input 2D → predicted 3D → ground truth 3D*, colouring the bones
    by side (left blue, right red) and reporting the per-frame MPJPE. An animated GIF shows a
    whole test sequence.
    """),
    params(
        "10_skeleton_figures",
        """
    model = "p-stmo-s"
    checkpoint = None  # path of a trained checkpoint (None: train a small model here)
    frames = None  # N (None: the profile's default)
    chosen_frames = [0.25, 0.5, 0.75]  # positions in the test sequence (fractions of its length)
    gif_frames = 40  # frames in the animated GIF
    """,
    ),
    None,
]

# ---------------------------------------------------------------------------------------------
# Code cells, appended after each notebook's introduction and parameters cell.
CODE: dict[str, list] = {}

CODE["00_quickstart"] = [
    md(
        "## The data\nEach `Sequence` holds normalised 2D keypoints `(T, 17, 2)` and root-relative 3D poses `(T, 17, 3)` in metres."
    ),
    code("""
    from pstmo.data import load_dataset

    ds = load_dataset(dataset, data_dir=data_dir)
    train_seqs, test_seqs = ds.sequences("train"), ds.sequences("test")
    print(f"{dataset}: {len(train_seqs)} train / {len(test_seqs)} test sequences, "
          f"{sum(len(s.pose_2d) for s in train_seqs)} / {sum(len(s.pose_2d) for s in test_seqs)} frames")
    seq = test_seqs[0]
    print(seq.subject, seq.action, "pose_2d", seq.pose_2d.shape, "pose_3d", seq.pose_3d.shape)
    """),
    md(
        "## Stage I: masked pose modeling\nThe encoder (SEM + TEM) and a small decoder learn to reconstruct masked 2D poses."
    ),
    code("""
    pre = engine.pretrain(cfg_for("pretrain", "stage1", frames=frames, model=model)) if pretrain else None
    if pre is not None:
        print("Stage I: 2D reconstruction error on the test split:", round(pre.metrics["recon_2d"], 4))
    """),
    md("## Stage II: fine-tune STMO to predict the 3D pose of the middle frame"),
    code("""
    cfg = cfg_for("train", "stage2", frames=frames, model=model, pretrained=str(pre.checkpoint) if pre else None)
    run = engine.train(cfg)
    fig = viz.plot_training_curves(run.history, x="step", y="loss")
    viz.save_figure(fig, "00_quickstart_training_curve", out_dir=FIGURES)
    display(fig)
    """),
    md("## Evaluate: MPJPE on every test frame (flip augmentation averaged)"),
    code("""
    res = engine.evaluate(run.checkpoint, dataset=dataset, data_dir=data_dir, device=device)
    ours = pd.DataFrame([{"Method": f"{model} (N={cfg.frames})", "MPJPE": res.mpjpe}])
    reported = paper.paper_table("pstmo_table1")[["Method", "Avg"]].rename(columns={"Avg": "MPJPE"})
    table = paper.beside(ours, reported[reported["Method"].str.startswith("P-STMO")], label=LABEL)
    show(table, "00_quickstart_mpjpe", frames=cfg.frames)
    write_summary(RESULTS, META | dict(model=model, frames=cfg.frames, pretrain=pretrain), res.metrics, name=NOTEBOOK)
    """),
    md("## One test frame: 2D input, predicted 3D, ground truth 3D"),
    code("""
    pred = res.predictions[0]
    t = len(pred.pred) // 2
    fig = viz.plot_comparison(pred.pose_2d[t], pred.pred[t], pred.target[t])
    viz.save_figure(fig, "00_quickstart_skeleton", out_dir=FIGURES)
    display(fig)
    """),
    md(
        r"""
    ## What the numbers show

    The table puts our MPJPE under the paper's P-STMO rows (P-STMO-S 43.0 mm, P-STMO 42.8 mm on
    Human3.6M with CPN inputs). The row labelled *ours* was trained and tested on the data and
    profile it names. The figure colours each predicted joint by its error.
    """
        + ENDING_COMMON
    ),
]

CODE["01_masked_pose_modeling"] = [
    md(
        "## Fig. 2: the three masking strategies on a real sequence\nGrey frames are replaced by $e^T$; hollow joints by $e^S$."
    ),
    code("""
    import torch

    from pstmo import masking
    from pstmo.data import load_dataset

    ds = load_dataset(dataset, data_dir=data_dir)
    seq = ds.sequences("test")[0]
    clip = seq.pose_2d[: 9 * 5 : 5]  # 9 frames, every 5th, so the motion is visible
    fig = viz.plot_masking_strategies(clip, temporal_ratio=0.5, spatial_num=5, st_temporal_ratio=0.4,
                                      st_spatial_num=3, seed=seed)
    viz.save_figure(fig, "01_fig2_masking_strategies", out_dir=FIGURES)
    display(fig)
    """),
    md(
        r"## Stage I reconstructions\nA Stage I model pre-trained with spatio-temporal masking ($q^T = 0.8$, $m^S = 2$) fills in a masked test window."
    ),
    code("""
    pre = engine.pretrain(cfg_for("pretrain", "stage1", frames=frames))
    mpm, info = engine.load_model(pre.checkpoint, device="cpu")
    N = info["frames"]
    x = engine.sequence_windows(seq.pose_2d, N, info["tds"])[len(seq.pose_2d) // 2][None]  # (1, N, J, 2)
    t_mask, s_mask = masking.spatio_temporal_mask(N, 17, 0.8, 2, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        recon = mpm(x, t_mask, s_mask)[0].numpy()  # (N, J, 2)
    show_idx = np.linspace(0, N - 1, min(N, 9)).round().astype(int)
    fig_in = viz.plot_masking(x[0].numpy()[show_idx], t_mask.numpy()[show_idx], s_mask.numpy()[show_idx], title="input")
    fig_out = viz.plot_masking(recon[show_idx], title="recon.")
    viz.save_figure(fig_in, "01_stage1_masked_input", out_dir=FIGURES)
    viz.save_figure(fig_out, "01_stage1_reconstruction", out_dir=FIGURES)
    display(fig_in, fig_out)
    masked = t_mask[:, None] | s_mask  # (N, J)
    err = np.linalg.norm(recon - x[0].numpy(), axis=-1)
    print(f"2D error on masked joints {err[masked.numpy()].mean():.4f}, on visible joints {err[~masked.numpy()].mean():.4f}")
    """),
    md(r"""
    ## Fig. 4: the masking-ratio study
    Every point pre-trains with one masking setting, fine-tunes STMO from it, and reports the
    test MPJPE of Stage II.
    """),
    code('''
    def mpm_then_stmo(tag, strategy, q_t, m_s):
        """Stage I with one masking setting, then Stage II from it; returns the Stage II MPJPE."""
        pre = engine.pretrain(cfg_for("pretrain", f"{tag}-stage1", frames=frames, mask_strategy=strategy,
                                      mask_ratio=q_t, mask_joints=m_s))
        run = engine.train(cfg_for("train", f"{tag}-stage2", frames=frames, pretrained=str(pre.checkpoint)))
        return dict(strategy=strategy, q_T=q_t, m_S=m_s, recon_2d=pre.metrics["recon_2d"], mpjpe=run.metrics["mpjpe"])


    rows = [mpm_then_stmo(f"t{q}", "temporal", q, 0) for q in temporal_ratios]
    rows += [mpm_then_stmo(f"s{m}", "spatial", 0.0, m) for m in spatial_joints]
    rows += [mpm_then_stmo(f"st{q}-{m}", "spatio-temporal", q, m) for q in st_temporal_ratios for m in st_spatial_joints]
    study = pd.DataFrame(rows)
    study["q_ST"] = study["q_T"] + (1 - study["q_T"]) * study["m_S"] / 17
    show(study, "01_masking_ratio_study")
    '''),
    code("""
    figs = {
        "01_fig4a_temporal": viz.plot_masking_ratio_curve(study[study.strategy == "temporal"], x="q_T", y="mpjpe",
                                                         xlabel="temporal masking ratio $q^T$"),
        "01_fig4b_spatial": viz.plot_masking_ratio_curve(study[study.strategy == "spatial"], x="m_S", y="mpjpe",
                                                        xlabel="masked joints $m^S$"),
        "01_fig4c_spatio_temporal": viz.plot_ablation_heatmap(study[study.strategy == "spatio-temporal"],
                                                              index="m_S", columns="q_T", values="mpjpe"),
    }
    for name, fig in figs.items():
        viz.save_figure(fig, name, out_dir=FIGURES)
        display(fig)
    """),
    md("## Our best setting of each strategy beside the paper's optimum (Fig. 4 and Sec. 4.3)"),
    code("""
    names = {"temporal": "temporal", "spatial": "spatial", "spatio-temporal": "spatial temporal"}
    best = study.loc[study.groupby("strategy")["mpjpe"].idxmin()]
    ours = pd.DataFrame({"Strategy": best["strategy"].map(names), "q^T": best["q_T"], "m^S": best["m_S"],
                         "MPJPE": best["mpjpe"]})
    table = paper.beside(ours, paper.paper_table("pstmo_fig4"), label=LABEL, on=["Strategy"])
    show(table, "pstmo_fig4")
    write_summary(RESULTS, META, {f"best_mpjpe_{k}": v for k, v in zip(best["strategy"], best["mpjpe"])}, name=NOTEBOOK)
    """),
    md(
        r"""
    ## What the numbers show

    The paper's optimum is a *high* temporal ratio ($q^T = 0.9$), a moderate spatial number
    ($m^S = 7$) and, combined, $q^T = 0.8, m^S = 2$; all three optima lie within 0.33 mm of each
    other on Human3.6M. Our grid is a few points, each from seconds of training, so the curve's
    shape — not its minimum — is what to compare, and differences of a few millimetres are noise.
    """
        + ENDING_COMMON
    ),
]

CODE["02_h36m_results"] = [
    md("## Train (or load) and evaluate per action"),
    code('''
    if checkpoint:
        ckpt, name = checkpoint, Path(checkpoint).stem
    else:
        stage = "liftformer" if model == "liftformer" else "train"
        cfg = cfg_for(stage, model, frames=frames, model=model, keypoints=keypoints)
        ckpt, name = engine.train(cfg).checkpoint, f"{model} (N={cfg.frames})"
    res = engine.evaluate(ckpt, dataset=dataset, data_dir=data_dir, keypoints=keypoints, device=device)
    display(res.per_action.round(1))
    write_summary(RESULTS, META | dict(model=model, keypoints=keypoints), res.metrics, name=NOTEBOOK)


    def ours_row(metric, purch="Pur."):
        """Our per-action row of one metric, with the paper's column names."""
        row = {"Method": f"{name}, {keypoints} 2D"}
        row.update({purch if k == "Pur." else k: v for k, v in res.per_action.loc[metric].items()})
        return pd.DataFrame([row])
    '''),
    md("## P-STMO Table 1 (MPJPE, CPN inputs)"),
    code("""
    show(paper.beside(ours_row("MPJPE"), paper.paper_table("pstmo_table1"), label=LABEL), "pstmo_table1")
    """),
    md("## LiftFormer Tables 1–4: MPJPE with CPN / GT inputs, P-MPJPE, MPJVE"),
    code("""
    mpjpe_table = "liftformer_table2" if keypoints == "gt" else "liftformer_table1"
    for table_name, metric in [(mpjpe_table, "MPJPE"), ("liftformer_table3", "P-MPJPE"), ("liftformer_table4", "MPJVE")]:
        display(Markdown(f"**{paper.TABLES[table_name].paper} {paper.TABLES[table_name].number}**: {metric}"))
        show(paper.beside(ours_row(metric, "Purch."), paper.paper_table(table_name), label=LABEL), table_name)
    """),
    md("## LiftFormer Table 8: MPJPE by 2D detector"),
    code("""
    column = "GT" if keypoints == "gt" else "CPN FT"
    ours = pd.DataFrame([{"Method": name, column: res.mpjpe}])
    show(paper.beside(ours, paper.paper_table("liftformer_table8"), label=LABEL), "liftformer_table8")
    """),
    md(
        r"""
    ## What the numbers show

    The *ours* rows sit under the papers' rows: read the `Avg` column first. On Human3.6M with
    the paper profile, P-STMO-S should land near 43 mm (CPN) and LiftFormer near 32 mm (GT
    inputs). Our MPJVE is in mm per frame, the unit of LiftFormer's Table 4 values (labelled
    mm/s in the paper; 1.3 mm/s would be implausibly small at 50 fps). On the demo data only the
    demo actions have values, and they are not Human3.6M actions even where a name matches.
    """
        + ENDING_COMMON
    ),
]

CODE["03_mpi_inf_3dhp"] = [
    code("""
    cfg = cfg_for("train", "p-stmo", frames=frames)
    run = engine.train(cfg)
    res = engine.evaluate(run.checkpoint, dataset=dataset, data_dir=data_dir, pck=True, device=device)
    ours = pd.DataFrame([{"Method": f"P-STMO-S (N={cfg.frames})", "PCK": res.pck, "AUC": res.auc, "MPJPE": res.mpjpe}])
    show(paper.beside(ours, paper.paper_table("pstmo_table2"), label=LABEL), "pstmo_table2")
    write_summary(RESULTS, META | dict(frames=cfg.frames), res.metrics, name=NOTEBOOK)
    """),
    md("## PCK against the threshold (the curve whose area is AUC)"),
    code("""
    from pstmo import metrics

    pred = np.concatenate([p.pred for p in res.predictions])
    target = np.concatenate([p.target for p in res.predictions])
    curve = pd.DataFrame({"threshold (mm)": np.arange(0, pck_threshold_mm + 1, 5.0)})
    curve["PCK (%)"] = [float(metrics.pck(pred, target, threshold=t, scale=1000.0)) for t in curve["threshold (mm)"]]
    fig = viz.plot_training_curves(curve, x="threshold (mm)", y="PCK (%)")
    viz.save_figure(fig, "03_pck_curve", out_dir=FIGURES)
    display(fig)
    """),
    md(
        r"""
    ## What the numbers show

    PCK saturates quickly when most joints are within 150 mm, so AUC and MPJPE separate models
    better. Our demo-data numbers are not MPI-INF-3DHP numbers: the demo test subject moves
    differently from the 3DHP test set (outdoor scenes, unusual poses), and our model is tiny.
    """
        + ENDING_COMMON
    ),
]

CODE["04_humaneva"] = [
    code("""
    from pstmo import metrics

    cfg = cfg_for("liftformer", "liftformer", frames=frames, model="liftformer")
    run = engine.train(cfg)
    res = engine.evaluate(run.checkpoint, dataset=dataset, data_dir=data_dir, device=device)
    errors = np.concatenate([metrics.p_mpjpe(p.pred, p.target, scale=1000.0, reduction="none") for p in res.predictions])
    subjects = [p.subject for p in res.predictions for _ in range(len(p.pred))]
    actions = [p.action for p in res.predictions for _ in range(len(p.pred))]
    per_pair = metrics.humaneva_table(errors, subjects, actions, exclude=[("Walk", "S3")] if dataset != "humaneva" else [])
    row = {"Method": f"Liftformer ({cfg.frames} GT)"}
    row.update({f"{a} {s}".strip() if a != "Avg" else "Avg": v for (a, s), v in per_pair.iloc[0].items()})
    if len(row) == 2:  # no HumanEva subject/action on this data: report the mean per sequence
        row.update({f"{p.action} {p.subject}": float(metrics.p_mpjpe(p.pred, p.target, scale=1000.0))
                    for p in res.predictions})
        row["Avg"] = res.p_mpjpe
    show(paper.beside(pd.DataFrame([row]), paper.paper_table("liftformer_table5"), label=LABEL), "liftformer_table5")
    write_summary(RESULTS, META | dict(frames=cfg.frames), res.metrics, name=NOTEBOOK)
    """),
    md(
        r"""
    ## What the numbers show

    LiftFormer's best HumanEva result (10.5 mm) comes from the *smallest* receptive field: the
    sequences are short, and a big Transformer overfits 3 subjects. With `dataset = "demo"` the
    columns are the demo sequences, not HumanEva's Walk/Jog of S1–S3.
    """
        + ENDING_COMMON
    ),
]

CODE["05_components"] = [
    md("## Params and FLOPs at the paper's size ($N = 243$), exact"),
    checked("""
    from pstmo import complexity
    from pstmo.models import ABLATIONS, get_config

    VARIANTS = {  # Table 3 row -> P-STMO-S overrides
        "sem": ABLATIONS["table3/sem"], "tem": ABLATIONS["table3/tem"], "sem+tem": ABLATIONS["table3/sem+tem"],
        "stmo": ABLATIONS["table3/sem+tem+mofa"], "stmo+mpm": ABLATIONS["table3/sem+tem+mofa"],
        "stmo+mpm+tds": ABLATIONS["table3/sem+tem+mofa"],
    }
    counts = {k: complexity.count(get_config("p-stmo-s", **v)) for k, v in VARIANTS.items()}
    reported = paper.paper_table("pstmo_table3")
    print(f"{'row':<14}{'Params(M) paper':>16}{'ours':>8}{'FLOPs(M) paper':>16}{'ours':>8}")
    for (k, c), (_, r) in zip(counts.items(), reported.iterrows()):
        print(f"{k:<14}{r['Params(M)']:>16}{c['params_paper_m']:>8}{r['FLOPs(M)']:>16}{c['flops_paper_m']:>8}")
    """),
    md("## MPJPE of each row from short runs"),
    code("""
    def components(v):
        return {k: v[k] for k in ("components", "sem", "sem_blocks") if k in v}


    pre = engine.pretrain(cfg_for("pretrain", "stage1", frames=frames)) if any("mpm" in v for v in variants) else None
    mpjpe = {}
    for v in variants:
        extra = dict(pretrained=str(pre.checkpoint)) if "mpm" in v else {}
        if v.endswith("tds"):
            extra["tds"] = tds
        run = engine.train(cfg_for("train", v, frames=frames, model_extra=components(VARIANTS[v]), **extra))
        mpjpe[v] = run.metrics["mpjpe"]
    ours = reported.copy()
    ours["Params(M)"] = [counts[k]["params_paper_m"] for k in VARIANTS]
    ours["FLOPs(M)"] = [counts[k]["flops_paper_m"] for k in VARIANTS]
    ours["MPJPE"] = [mpjpe.get(k, float("nan")) for k in VARIANTS]
    table = paper.beside(ours, reported, label=LABEL, on=["SEM", "TEM", "MOFA", "MPM", "TDS"])
    show(table, "pstmo_table3")
    write_summary(RESULTS, META, {f"mpjpe_{k}": v for k, v in mpjpe.items()}, name=NOTEBOOK)
    """),
    md(
        r"""
    ## What the numbers show

    The Params/FLOPs columns are computed from the model definitions at $N = 243$ and can be
    compared digit by digit with the paper. The MPJPE column is where demo data and the smoke
    profile matter: the paper's steps between rows are 1–5 mm after 80 epochs on Human3.6M;
    after seconds of training our differences mostly reflect how fast each variant starts to
    learn, and MPM/TDS gains of 0.2–1 mm are far below our noise.
    """
        + ENDING_COMMON
    ),
]

CODE["06_sem_backbone"] = [
    md("## Params and FLOPs at the paper's sizes, exact"),
    checked("""
    from pstmo import complexity
    from pstmo.models import ABLATIONS, get_config

    ROWS = {"fc": "table4/fc", "transformer": "table4/transformer", "mlp-l1": "table4/mlp-l1",
            "mlp-l2": "table4/mlp-l2", "mlp-l3": "table4/mlp-l3"}
    counts = {k: complexity.count(get_config("p-stmo-s", **ABLATIONS[v])) for k, v in ROWS.items()}
    reported = paper.paper_table("pstmo_table4")
    print(f"{'row':<13}{'N':>5}{'Params(M) paper':>16}{'ours':>8}{'FLOPs(M) paper':>16}{'ours':>8}")
    for (k, c), (_, r) in zip(counts.items(), reported.iterrows()):
        print(f"{k:<13}{r['N']:>5}{r['Params(M)']:>16}{c['params_paper_m']:>8}{r['FLOPs(M)']:>16}{c['flops_paper_m']:>8}")
    """),
    md("## MPJPE of each backbone from short runs (SEM + TEM, as in Table 4)"),
    code("""
    mpjpe = {}
    for b in backbones:
        v = ABLATIONS[ROWS[b]]
        extra = {k: v[k] for k in ("components", "sem", "sem_blocks") if k in v}
        run = engine.train(cfg_for("train", b, frames=frames, model_extra=extra))
        mpjpe[b] = run.metrics["mpjpe"]
    ours = reported.copy()
    ours["Params(M)"] = [counts[k]["params_paper_m"] for k in ROWS]
    ours["FLOPs(M)"] = [counts[k]["flops_paper_m"] for k in ROWS]
    ours["MPJPE"] = [mpjpe.get(k, float("nan")) for k in ROWS]
    show(paper.beside(ours, reported, label=LABEL, on=["Backbone", "N"]), "pstmo_table4")
    write_summary(RESULTS, META, {f"mpjpe_{k}": v for k, v in mpjpe.items()}, name=NOTEBOOK)
    """),
    md(
        r"""
    ## What the numbers show

    The cost columns reproduce the paper's trade-off: fc is cheapest, each extra MLP sub-block
    adds about 0.5 M parameters and 256 M FLOPs, and the spatial Transformer is the most
    expensive even at a third of the frames. The accuracy ranking needs long training on real
    data; in the smoke profile the simplest backbones can even lead, as they train fastest.
    """
        + ENDING_COMMON
    ),
]

CODE["07_tds_rate"] = [
    md("## Params and FLOPs depend on $N$ only, not on $s$ (exact, paper sizes)"),
    checked("""
    from pstmo import complexity
    from pstmo.models import get_config

    reported = paper.paper_table("pstmo_table5")
    counts = {n: complexity.count(get_config("p-stmo-s", frames=n)) for n in sorted(set(reported["N"]))}
    print(f"{'N':>4}{'Params(M) paper':>16}{'ours':>8}{'FLOPs(M) paper':>16}{'ours':>8}")
    for n, c in counts.items():
        r = reported[reported["N"] == n].iloc[0]
        print(f"{n:>4}{r['Params(M)']:>16}{c['params_paper_m']:>8}{r['FLOPs(M)']:>16}{c['flops_paper_m']:>8}")
    """),
    md("## MPJPE over $(N, s)$ from short runs"),
    code("""
    rows = []
    for n in frames_list:
        for s in rates:
            run = engine.train(cfg_for("train", f"N{n}-s{s}", frames=n, tds=s))
            rows.append({"N": n, "s": s, "RF": n * s, "MPJPE": run.metrics["mpjpe"]})
    ours = pd.DataFrame(rows)
    show(paper.beside(ours, reported, label=LABEL, on=["N", "s", "RF"]), "pstmo_table5")
    fig = viz.plot_ablation_heatmap(ours, index="N", columns="s", values="MPJPE")
    viz.save_figure(fig, "07_tds_heatmap", out_dir=FIGURES)
    display(fig)
    write_summary(RESULTS, META, {f"mpjpe_N{r['N']}_s{r['s']}": r["MPJPE"] for r in rows}, name=NOTEBOOK)
    """),
    md(
        r"""
    ## What the numbers show

    The paper's pattern is monotone in $s$ for fixed $N$ with diminishing returns as $N$ grows.
    Our short runs on the demo data have one test subject and few windows per sequence, so a
    large receptive field may reach past the ends of short clips (they are edge-padded), which
    can hide the TDS gain.
    """
        + ENDING_COMMON
    ),
]

CODE["08_complexity"] = [
    md("## P-STMO Table 6: parameters and FLOPs per output frame (exact)"),
    checked("""
    from pstmo import complexity
    from pstmo.models import get_config

    MODELS = {"P-STMO-S (N=81)": ("p-stmo-s", 81), "P-STMO-S (N=243)": ("p-stmo-s", 243), "P-STMO (N=243)": ("p-stmo", 243)}
    counts = {k: complexity.count(get_config(m, frames=n)) for k, (m, n) in MODELS.items()}
    reported = paper.paper_table("pstmo_table6").set_index("Method")
    print(f"{'model':<18}{'Params(M) paper':>16}{'ours':>8}{'FLOPs(M) paper':>16}{'ours':>8}{'params (all)':>14}")
    for k, c in counts.items():
        r = reported.loc[k]
        print(f"{k:<18}{r['Params(M)']:>16}{c['params_paper_m']:>8}{r['FLOPs(M)']:>16}{c['flops_paper_m']:>8}{c['params_total']:>14,}")
    """),
    md(
        "## FPS measured on this device\nOutput frames per second of batched inference (no flip), the way Table 6 measures it: data already on the device. In the smoke profile torch runs one thread (see the set-up cell), so CPU numbers are single-core."
    ),
    code("""
    from functools import partial

    import torch

    from pstmo import bench
    from pstmo.models import build_model

    dev = engine.resolve_device(device)
    fps = {}
    for k, (m, n) in MODELS.items():
        if n not in fps_frames:
            continue
        net = build_model(get_config(m, frames=n)).to(dev).eval()
        x = torch.randn(fps_batch, n, 17, 2, generator=torch.Generator().manual_seed(seed)).to(dev)
        with torch.inference_mode():
            t = bench.time_call(partial(net, x), dev, warmup=1, repeats=max(1, int(fps_seconds * 2)))
        fps[k] = fps_batch / float(np.median(t))
    ours = pd.DataFrame([{"Method": k, "Params(M)": c["params_paper_m"], "FLOPs(M)": c["flops_paper_m"],
                          "FPS": fps.get(k, float("nan"))} for k, c in counts.items()])
    show(paper.beside(ours, paper.paper_table("pstmo_table6"), label=f"{LABEL}, FPS on {dev.type}"),
         "pstmo_table6", fps_frames=fps_frames, fps_batch=fps_batch, fps_device=str(dev))
    write_summary(RESULTS, META, {f"fps {k}": v for k, v in fps.items()}, name=NOTEBOOK)
    """),
    md(
        "The Params/FLOPs columns of Tables 3, 4 and 5 are checked row by row in notebooks 05, 06 and 07, "
        "LiftFormer's Params columns in notebook 09. The counting convention:"
    ),
    code("print(complexity.THOP_CONVENTION)"),
    md(r"""
    ## What the numbers show

    Parameters and FLOPs are properties of the architecture, so they match the paper exactly
    whenever the model is built as in the paper (differences would mean an architecture
    mismatch). FPS is not: the paper measured on an RTX 3080 Ti; on a CPU expect tens to
    hundreds of frames per second, and even on a GPU the number depends on batch size,
    precision and the attention kernel.
    """),
]

CODE["09_liftformer_ablations"] = [
    md("## Params columns of Tables 6 and 7, exact"),
    checked("""
    from pstmo import complexity
    from pstmo.models import get_config

    t6, t7 = paper.paper_table("liftformer_table6"), paper.paper_table("liftformer_table7")
    print("Table 6: hidden, heads, blocks -> Params(M) paper / ours")
    for _, r in t6.iterrows():
        c = complexity.count(get_config("liftformer", frames=27, dim=int(r["Hidden dimension"]),
                                        heads=int(r["Multi head"]), blocks=int(r["Blocks"])))
        print(f"  {int(r['Hidden dimension']):>4} {int(r['Multi head']):>3} {int(r['Blocks']):>2}"
              f"   {r['Params(M)']:>6} / {c['params_paper_m']:<6} ({c['params_total']:,})")
    print("Table 7: receptive field, weight sharing -> Params(M) paper / ours")
    for _, r in t7.iterrows():
        c = complexity.count(get_config("liftformer", frames=int(r["N"]), dim=int(r["Hidden dimension"]),
                                        blocks=int(r["Blocks"]), weight_sharing=bool(r["Weight sharing"])))
        print(f"  {r['Receptive field']:<18} {'WS' if r['Weight sharing'] else '--'}   {r['Params(M)']:>6} / {c['params_paper_m']:<6}")
    """),
    md("## Accuracy columns from short runs (small widths; the trend, not the values)"),
    code("""
    rows = []
    for d in hidden_sizes:
        for ws in (False, True):
            cfg = cfg_for("liftformer", f"d{d}-ws{int(ws)}", frames=frames, model="liftformer",
                          model_extra=dict(dim=d, ff_dim=2 * d, blocks=train_blocks, weight_sharing=ws))
            run = engine.train(cfg)
            params = complexity.count(get_config("liftformer", **cfg.model_overrides, frames=cfg.frames))["params_total"]
            rows.append({"Hidden dimension": d, "Weight sharing": ws, "Blocks": train_blocks, "N": cfg.frames,
                         "Params": params, "MPJPE": run.metrics["mpjpe"], "P-MPJPE": run.metrics["p_mpjpe"],
                         "N-MPJPE": run.metrics["n_mpjpe"], "MPJVE": run.metrics["mpjve"]})
    ours = pd.DataFrame(rows)
    show(ours, "09_liftformer_runs")
    show(paper.beside(ours[~ours["Weight sharing"]].drop(columns=["Weight sharing", "N", "Params"]),
                      t6, label=LABEL, on=["Hidden dimension", "Blocks"]), "liftformer_table6")
    show(paper.beside(ours.drop(columns=["Params", "MPJVE"]), t7, label=LABEL,
                      on=["N", "Weight sharing", "Blocks", "Hidden dimension"]), "liftformer_table7")
    write_summary(RESULTS, META, {f"mpjpe_d{r['Hidden dimension']}_ws{int(r['Weight sharing'])}": r["MPJPE"] for r in rows},
                  name=NOTEBOOK)
    """),
    md(
        r"""
    ## What the numbers show

    The parameter counts follow from the architecture alone and match the paper: heads do not
    change them, weight sharing removes $(B-1)\cdot 4(d^2+d)$ attention parameters. The accuracy
    columns of the paper come from 80 epochs on Human3.6M at $d = 512$; we train widths of
    32–64 for seconds, so only the direction of a change (if any) is comparable.
    """
        + ENDING_COMMON
    ),
]

CODE["10_skeleton_figures"] = [
    code("""
    if checkpoint:
        ckpt = checkpoint
    else:
        stage = "liftformer" if model == "liftformer" else "train"
        ckpt = engine.train(cfg_for(stage, model, frames=frames, model=model)).checkpoint
    res = engine.evaluate(ckpt, dataset=dataset, data_dir=data_dir, device=device)
    pred = max(res.predictions, key=lambda p: len(p.pred))  # the longest test sequence
    print(pred.subject, pred.action, len(pred.pred), "frames; MPJPE", round(res.mpjpe, 1), "mm")
    """),
    md("## Input 2D, predicted 3D and ground truth for chosen frames (Fig. 3 style)"),
    code("""
    for q in chosen_frames:
        t = min(int(q * len(pred.pred)), len(pred.pred) - 1)
        fig = viz.plot_comparison(pred.pose_2d[t], pred.pred[t], pred.target[t])
        fig.suptitle(f"{pred.subject} {pred.action}, frame {t}")
        viz.save_figure(fig, f"10_fig3_frame{t:05d}", out_dir=FIGURES)
        display(fig)
    """),
    md("## An animated GIF of the sequence"),
    code("""
    stride = max(1, len(pred.pred) // gif_frames)
    gif = viz.animate_sequence(pred.pred, FIGURES / "10_sequence.gif", poses_2d=pred.pose_2d, gt_3d=pred.target,
                               stop=stride * gif_frames, stride=stride, fps=10, progress=False)
    write_summary(RESULTS, META | dict(model=model), {"mpjpe": res.mpjpe, "gif": str(gif)}, name=NOTEBOOK)
    print("GIF:", gif)
    """),
    md(
        r"""
    ## What the figures show

    Joints of the prediction are coloured by their error; the biggest errors are usually at the
    wrists and feet, the end points of the kinematic chains, and along the depth axis, which the
    2D input does not observe. The papers show Human3.6M and MPI-INF-3DHP frames from fully
    trained models; ours come from the data and profile named in the results folder.
    """
        + ENDING_COMMON
    ),
]


def build(name: str) -> nbformat.NotebookNode:
    intro, parameters, _ = NOTEBOOKS[name]
    nb = notebook([intro, parameters, setup(name), *CODE[name]])
    for i, cell in enumerate(nb.cells):  # stable ids: regenerating gives a clean diff
        cell.id = f"nb{name[:2]}-cell{i:02d}"
    return nb


def store_checked_outputs(nb: nbformat.NotebookNode, path: Path) -> None:
    """Execute ``nb`` (smoke profile) and keep only the stdout of the NBVAL_CHECK_OUTPUT cells."""
    import tempfile

    import papermill as pm

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.ipynb", Path(tmp) / "out.ipynb"
        nbformat.write(nb, src)
        pm.execute_notebook(
            str(src), str(dst), parameters={"out_dir": tmp}, cwd=str(NB_DIR), progress_bar=False
        )
        executed = nbformat.read(dst, as_version=4)
    outputs = {
        c.source: c.outputs for c in executed.cells if c.cell_type == "code" and c.source.startswith(CHECK)
    }
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(CHECK):
            cell.outputs = [
                o
                for o in outputs[cell.source]
                if o.get("output_type") == "stream" and o.get("name") == "stdout"
            ]
            cell.execution_count = 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="notebook names or number prefixes (default: all)")
    parser.add_argument("--check", action="store_true", help="execute and store NBVAL_CHECK_OUTPUT outputs")
    args = parser.parse_args(argv)
    names = [n for n in NOTEBOOKS if not args.only or any(n == o or n.startswith(o) for o in args.only)]
    NB_DIR.mkdir(exist_ok=True)
    for name in names:
        nb = build(name)
        nbformat.validate(nb)
        path = NB_DIR / f"{name}.ipynb"
        has_checked = any(c.cell_type == "code" and c.source.startswith(CHECK) for c in nb.cells)
        if args.check and has_checked:
            store_checked_outputs(nb, path)
        elif has_checked and path.is_file():  # keep the stored outputs of unchanged checked cells
            old = {
                c.source: c.outputs for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
            }
            for cell in nb.cells:
                if cell.cell_type == "code" and cell.source.startswith(CHECK) and old.get(cell.source):
                    cell.outputs, cell.execution_count = old[cell.source], 1
        nbformat.write(nb, path)
        print("wrote", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
