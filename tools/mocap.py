"""Motion-capture readers: CMU ASF/AMC and BVH forward kinematics -> Human3.6M-17 joints.

Build tooling, not part of the ``pstmo`` package: ``tools/build_demo_dataset.py`` uses it to
turn raw CMU motion capture (http://mocap.cs.cmu.edu) into the ``(T, 17, 3)`` joint
trajectories of the demo data set, and to place its virtual cameras
(:func:`look_at_quaternion`). NumPy, vectorised over frames; rotations from
``scipy.spatial.transform.Rotation`` (a pinned dev dependency). Import it with ``tools/`` on
``sys.path`` (scripts in ``tools/`` have it; tests use the ``tools_on_path`` fixture).

Pipeline (``load_clip``)::

    read_asf + read_amc -> asf_amc_positions (T, n_bones + 1, 3)   metres, CMU frame (y up)
    read_bvh            -> bvh_positions     (T, n_joints, 3)       metres, CMU frame (y up)
    cmu_asf_to_h36m / cmu_bvh_to_h36m        (T, 17, 3)             metres, world frame (z up)
    resample(..., src_fps=120, dst_fps=50)   (T', 17, 3)

Conventions
-----------
* **Units.** ASF/AMC lengths are in ASF units: ``:units length 0.45`` means one unit is
  ``1 / 0.45`` inch, so metres = value * 0.0254 / 0.45 = value * 0.05644. BVH files have no
  unit field; the CMU conversions (cgspeed / B. Hahne) keep the ASF unit, hence the same
  default scale ``CMU_SCALE``.
* **CMU frame.** y up, the character faces +z in its rest pose and its left is +x.
* **Output world frame** (Human3.6M world convention): metres, right-handed, **z up**;
  ``(x, y, z)_world = (x, -z, y)_cmu`` (a +90 degree rotation about x, so handedness is kept).
  The ground plane is put at z = 0 at the *lowest foot joint over the whole clip*: the
  minimum over all frames of the RFoot/LFoot (ankle) heights is subtracted from z. The ankles
  therefore touch z = 0 (the soles would be a few cm lower); x, y are left as recorded.
* **Forward kinematics (ASF/AMC)**, the standard CMU rule with column vectors: every bone has
  an ``axis`` rotation C (its local frame in the world rest pose) and per-frame motion M (its
  ``dof`` angles); its world rotation is ``R = R_parent @ C @ M @ C^-1`` and its end point is
  ``end_parent + R @ (direction * length)``. An ``XYZ`` axis/dof order means x is applied
  first: ``C = Rz @ Ry @ Rx``.
* **Forward kinematics (BVH)**: a joint's local rotation is the product of its rotation
  channels in the listed order (``Zrotation Xrotation Yrotation`` -> ``Rz @ Rx @ Ry``); its
  world position is ``p_parent + R_parent @ (offset + position channels)``.

Mapping to Human3.6M-17 (joint order of ``pstmo.skeleton``)
-----------------------------------------------------------
ASF bone *end points* (``cmu_asf_to_h36m``): Hip = mid(lhipjoint, rhipjoint); R/L hip, knee,
foot = r/l hipjoint, femur, tibia; Spine = upperback; Thorax = lowerneck; Neck/Nose =
upperneck; Head = head; L/R shoulder, elbow, wrist = l/r clavicle, humerus, radius.

BVH joints (``cmu_bvh_to_h36m``; a BVH joint sits at the *start* of its segment, i.e. at the
end of the parent ASF bone). Three naming schemes of the CMU conversions are recognised: the
two below, and "iclone" (``BVH_TO_H36M['iclone']``): CMU motions retargeted onto the
Character Creator "CC_Base" rig (centimetres, 60 fps; one body for every subject): Hip =
mid(L/R_Thigh), hips/knees/feet = Thigh/Calf/Foot, Spine = Spine02, Thorax = NeckTwist01,
Neck/Nose = Head (skull base), Head = mid(L/R_Eye), shoulders/elbows/wrists =
Upperarm/Forearm/Hand.

====================  ====================================  ===============================
H36M joint            cgspeed "MotionBuilder" names         Hahne "bvh11" names
====================  ====================================  ===============================
Hip                   mid(LeftUpLeg, RightUpLeg)            mid(LeftHip, RightHip)
R/L Hip, Knee, Foot   R/L UpLeg, Leg, Foot                  R/L Hip, Knee, Ankle
Spine                 Spine1 (end of upperback)             Chest2
Thorax                Neck1 (end of lowerneck)              Neck
Neck/Nose             Head (end of upperneck)               Head
Head                  Head_End (end site of Head)           Head_End
R/L Shoulder          R/L Arm                               R/L Shoulder
R/L Elbow, Wrist      R/L ForeArm, Hand                     R/L Elbow, Wrist
====================  ====================================  ===============================

The BVH conversions drop the ASF ``thorax`` segment (lowerneck and the clavicles hang directly
off upperback), so their Thorax, neck, head and shoulders sit about 11 cm lower than in the
ASF/AMC version of the same trial: prefer ASF/AMC where both exist.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from pstmo.errors import DataError
from pstmo.skeleton import PARENTS

#: Metres per CMU ASF length unit (``:units length 0.45``: one unit is 1/0.45 inch).
CMU_SCALE: float = 0.0254 / 0.45
#: Frame rate of the CMU database (AMC files carry no frame rate).
CMU_FPS: float = 120.0

PathLike = str | os.PathLike


# ----------------------------------------------------------------------------- rotations


def euler_matrix(angles: np.ndarray, axes: str, degrees: bool = True) -> np.ndarray:
    """Product of elementary rotations ``R_axes[0] @ R_axes[1] @ ...`` for every frame.

    ``angles``: ``(T, len(axes))`` (or ``(len(axes),)``), one column per letter of ``axes``
    (1 to 3 letters). BVH channel order ``"zxy"`` gives ``Rz @ Rx @ Ry`` (y applied to the
    vector first): scipy's *intrinsic* sequence ``"ZXY"``. Returns ``(T, 3, 3)`` (or
    ``(3, 3)`` for 1-D input).
    """
    a = np.asarray(angles, dtype=np.float64)
    single = a.ndim == 1
    a = np.atleast_2d(a)
    if a.shape[-1] != len(axes):
        raise ValueError(f"angles have {a.shape[-1]} columns for axes {axes!r}")
    out = Rotation.from_euler(axes.upper(), a, degrees=degrees).as_matrix()
    return out[0] if single else out


def look_at_quaternion(position: np.ndarray, target: np.ndarray, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """Camera-to-world quaternion (w, x, y, z), ``w >= 0``, of a camera at ``position`` looking
    at ``target`` (camera axes: x right, y down, z forward; world ``up`` is +z by default), in
    the convention of :mod:`pstmo.cameras`."""
    position = np.asarray(position, dtype=np.float64)
    z = np.asarray(target, dtype=np.float64) - position
    z /= np.linalg.norm(z)
    x = np.cross(z, np.asarray(up, dtype=np.float64))
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    M = np.stack([x, y, z], axis=1)  # columns: camera axes in world coordinates
    q = Rotation.from_matrix(M).as_quat(scalar_first=True)
    return q if q[0] >= 0 else -q


def _asf_order_matrix(xyz_angles: np.ndarray, order: str, degrees: bool) -> np.ndarray:
    """ASF rotation ``(T, 3, 3)`` for angles given as (x, y, z) columns; ``order`` "XYZ" applies
    x first about the fixed axes (``Rz @ Ry @ Rx``): scipy's *extrinsic* sequence "xyz"."""
    a = np.atleast_2d(np.asarray(xyz_angles, dtype=np.float64))
    cols = ["xyz".index(ch) for ch in order.lower()]
    return Rotation.from_euler(order.lower(), a[:, cols], degrees=degrees).as_matrix()


# ----------------------------------------------------------------------------- ASF / AMC


@dataclass
class AsfBone:
    """One ASF bone: ``direction`` (unit 3-vector, rest pose, CMU frame), ``length`` (ASF units),
    ``axis`` (x, y, z angles of its local frame), ``order`` of those angles, ``dof`` names."""

    name: str
    direction: np.ndarray
    length: float
    axis: np.ndarray
    order: str = "XYZ"
    dof: tuple[str, ...] = ()
    parent: str = "root"


@dataclass
class AsfSkeleton:
    """A parsed ASF skeleton.

    ``bones`` in file order; ``names`` = ``("root", *bones)`` is the joint order of
    ``asf_amc_positions``. ``root_order`` are the AMC root channels (e.g. TX TY TZ RX RY RZ).
    ``scale`` converts ASF length units to metres; ``degrees`` tells the angle unit.
    """

    path: str
    bones: dict[str, AsfBone]
    root_order: tuple[str, ...] = ("TX", "TY", "TZ", "RX", "RY", "RZ")
    root_axis_order: str = "XYZ"
    root_position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    root_orientation: np.ndarray = field(default_factory=lambda: np.zeros(3))
    scale: float = CMU_SCALE
    degrees: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        return ("root", *self.bones)

    def children(self, name: str) -> list[str]:
        return [b.name for b in self.bones.values() if b.parent == name]

    def topological_order(self) -> list[str]:
        """Bone names, every parent before its children (breadth first from the root)."""
        order, queue = [], self.children("root")
        while queue:
            name = queue.pop(0)
            order.append(name)
            queue.extend(self.children(name))
        return order


def _floats(tokens: list[str], path: str, key: str, n: int) -> np.ndarray:
    try:
        values = np.array([float(t) for t in tokens[:n]], dtype=np.float64)
    except ValueError:
        raise DataError(f"expected {n} numbers, got {tokens!r}", path=path, key=key) from None
    if values.shape != (n,):
        raise DataError(f"expected {n} numbers, got {tokens!r}", path=path, key=key)
    return values


def _read_text(path: str, kind: str) -> str:
    """The text of a mocap file; an unreadable file is a ``DataError`` naming it."""
    try:
        return Path(path).read_text(errors="replace")
    except OSError as e:
        raise DataError(f"cannot read {kind} file ({e})", path=path) from None


def read_asf(path: PathLike) -> AsfSkeleton:
    """Parse an Acclaim skeleton file (``.asf``): units, root, bone data and hierarchy."""
    path = str(path)
    text = _read_text(path, "ASF")
    length_unit, degrees = 1.0, True
    skel = AsfSkeleton(path=path, bones={})
    section, bone, hierarchy = None, None, []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(":"):
            section = line.split()[0][1:].lower()
            continue
        tok = line.split()
        key = tok[0].lower()
        if section == "units":
            if key == "length":
                length_unit = float(tok[1])
            elif key == "angle":
                degrees = tok[1].lower().startswith("deg")
        elif section == "root":
            if key == "order":
                skel.root_order = tuple(t.upper() for t in tok[1:])
            elif key == "axis":
                skel.root_axis_order = tok[1].upper()
            elif key == "position":
                skel.root_position = _floats(tok[1:], path, "root.position", 3)
            elif key == "orientation":
                skel.root_orientation = _floats(tok[1:], path, "root.orientation", 3)
        elif section == "bonedata":
            if key == "begin":
                bone = {}
            elif key == "end":
                if bone is None or "name" not in bone:
                    raise DataError("bone block without a name", path=path, key="bonedata")
                name = bone["name"]
                for k in ("direction", "length", "axis"):
                    if k not in bone:
                        raise DataError(f"bone {name!r} lacks {k!r}", path=path, key=f"{name}.{k}")
                skel.bones[name] = AsfBone(
                    name=name,
                    direction=bone["direction"],
                    length=bone["length"],
                    axis=bone["axis"],
                    order=bone.get("order", "XYZ"),
                    dof=bone.get("dof", ()),
                )
                bone = None
            elif bone is not None:
                name = bone.get("name", "?")
                if key == "name":
                    bone["name"] = tok[1]
                elif key == "direction":
                    bone["direction"] = _floats(tok[1:], path, f"{name}.direction", 3)
                elif key == "length":
                    bone["length"] = float(_floats(tok[1:], path, f"{name}.length", 1)[0])
                elif key == "axis":
                    bone["axis"] = _floats(tok[1:], path, f"{name}.axis", 3)
                    bone["order"] = tok[4].upper() if len(tok) > 4 else "XYZ"
                elif key == "dof":
                    dof = tuple(t.lower() for t in tok[1:])
                    bad = [d for d in dof if d not in ("rx", "ry", "rz")]
                    if bad:
                        raise DataError(
                            f"only rotational dof rx/ry/rz are supported, got {bad}",
                            path=path,
                            key=f"{name}.dof",
                        )
                    bone["dof"] = dof
        elif section == "hierarchy" and key not in ("begin", "end"):
            hierarchy.append(tok)
    if not skel.bones:
        raise DataError("no bones found in :bonedata", path=path, key="bonedata")
    for parent, *children in hierarchy:
        for child in children:
            if child not in skel.bones:
                raise DataError(f"hierarchy names unknown bone {child!r}", path=path, key="hierarchy")
            skel.bones[child].parent = parent
    skel.scale = 0.0254 / length_unit
    skel.degrees = degrees
    reachable = set(skel.topological_order())
    missing = [b for b in skel.bones if b not in reachable]
    if missing:
        raise DataError(f"bones not connected to the root: {missing}", path=path, key="hierarchy")
    return skel


def read_amc(path: PathLike, skeleton: AsfSkeleton) -> dict[str, np.ndarray]:
    """Parse an AMC motion file for ``skeleton``.

    Returns ``{"root": (T, len(root_order)), bone: (T, len(bone.dof)) ...}`` in the file's
    units (root translation in ASF length units, angles in degrees unless ``:RADIANS``).
    Bones without dof are omitted. Raises ``DataError`` naming the frame and bone on a
    missing or malformed line.
    """
    path = str(path)
    lines = _read_text(path, "AMC").splitlines()
    expected = {"root": len(skeleton.root_order)}
    expected.update({n: len(b.dof) for n, b in skeleton.bones.items() if b.dof})
    frames: list[dict[str, list[str]]] = []
    radians = False
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(":"):
            radians = radians or line.upper().startswith(":RADIANS")
            continue
        if line.isdigit():
            frames.append({})
            continue
        if not frames:
            raise DataError(f"data line before the first frame number: {line[:40]!r}", path=path)
        name, *values = line.split()
        frames[-1][name] = values
    if not frames:
        raise DataError("no frames found", path=path, key="frames")
    motion = {}
    for name, n in expected.items():
        data = np.empty((len(frames), n), dtype=np.float64)
        for t, frame in enumerate(frames):
            values = frame.get(name)
            if values is None or len(values) != n:
                got = "missing" if values is None else f"{len(values)} values"
                raise DataError(
                    f"frame {t + 1}: expected {n} values (dof of the ASF), got {got}", path=path, key=name
                )
            try:
                data[t] = [float(v) for v in values]
            except ValueError:
                raise DataError(
                    f"frame {t + 1}: non-numeric values {values!r}", path=path, key=name
                ) from None
        motion[name] = np.rad2deg(data) if radians and name != "root" else data
    if radians:  # only the root's rotation channels are angles
        rot = [i for i, ch in enumerate(skeleton.root_order) if ch.startswith("R")]
        motion["root"][:, rot] = np.rad2deg(motion["root"][:, rot])
    return motion


def asf_amc_positions(
    asf_path: PathLike | AsfSkeleton, amc_path: PathLike, scale: float | None = None
) -> np.ndarray:
    """Forward kinematics of an ASF/AMC pair: joint positions ``(T, 1 + n_bones, 3)``.

    Joint ``0`` is the root, joint ``i > 0`` the *end point* of bone ``skeleton.names[i]``
    (order of ``read_asf(asf_path).names``). Metres (``scale`` defaults to the ASF's
    ``:units length``), CMU frame (y up).
    """
    skel = asf_path if isinstance(asf_path, AsfSkeleton) else read_asf(asf_path)
    motion = read_amc(amc_path, skel)
    scale = skel.scale if scale is None else scale
    root = motion["root"]
    T = root.shape[0]

    def channel(prefix: str, axis: str) -> np.ndarray:
        name = prefix + axis.upper()
        return root[:, skel.root_order.index(name)] if name in skel.root_order else np.zeros(T)

    translation = np.stack([channel("T", a) for a in "xyz"], axis=-1) + skel.root_position
    root_angles = np.stack([channel("R", a) for a in "xyz"], axis=-1)
    C = _asf_order_matrix(skel.root_orientation, skel.root_axis_order, skel.degrees)[0]
    M = _asf_order_matrix(root_angles, skel.root_axis_order, True)
    rotation = {"root": C @ M @ C.T}
    position = {"root": translation}
    for name in skel.topological_order():
        bone = skel.bones[name]
        angles = np.zeros((T, 3))
        for i, d in enumerate(bone.dof):
            angles[:, "xyz".index(d[1])] = motion[name][:, i]
        C = _asf_order_matrix(bone.axis, bone.order, skel.degrees)[0]
        M = _asf_order_matrix(angles, bone.order, True)
        rotation[name] = rotation[bone.parent] @ (C @ M @ C.T)
        position[name] = position[bone.parent] + rotation[name] @ (bone.direction * bone.length)
    return np.stack([position[n] for n in skel.names], axis=1) * scale


# ----------------------------------------------------------------------------- BVH


@dataclass
class BvhClip:
    """A parsed BVH file.

    ``names`` (J,) joints in file order, end sites named ``<parent>_End``; ``parents`` (J,)
    index of the parent (-1 for the root); ``offsets`` (J, 3) in file units; ``channels`` per
    joint (e.g. ``("Xposition", ..., "Zrotation")``, empty for end sites); ``motion``
    ``(T, n_channels)`` in the order of the channels; ``frame_time`` seconds.
    """

    path: str
    names: list[str]
    parents: list[int]
    offsets: np.ndarray
    channels: list[tuple[str, ...]]
    frame_time: float
    motion: np.ndarray

    @property
    def fps(self) -> float:
        """Frames per second; ``Frame Time: .0083333`` is rounded to 120 (nearest integer
        when within 0.01 fps)."""
        fps = 1.0 / self.frame_time
        return float(round(fps)) if abs(fps - round(fps)) < 0.01 else fps

    @property
    def num_frames(self) -> int:
        return self.motion.shape[0]


def read_bvh(path: PathLike) -> BvhClip:
    """Parse a BVH file: hierarchy (joints, offsets, channels), frame time and motion."""
    path = str(path)
    text = _read_text(path, "BVH")
    parts = re.split(r"^\s*MOTION\s*$", text, maxsplit=1, flags=re.MULTILINE)
    if len(parts) != 2:
        raise DataError("no MOTION section", path=path, key="MOTION")
    tokens = parts[0].split()
    names, parents, offsets, channels = [], [], [], []
    stack: list[int] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in ("ROOT", "JOINT"):
            names.append(tokens[i + 1])
            parents.append(stack[-1] if stack else -1)
            channels.append(())
            offsets.append(np.zeros(3))
            i += 2
        elif tok == "End":  # "End Site"
            if not stack:
                raise DataError("End Site outside a joint", path=path, key="HIERARCHY")
            names.append(names[stack[-1]] + "_End")
            parents.append(stack[-1])
            channels.append(())
            offsets.append(np.zeros(3))
            i += 2
        elif tok == "{":
            stack.append(len(names) - 1)
            i += 1
        elif tok == "}":
            stack.pop()
            i += 1
        elif tok == "OFFSET":
            offsets[stack[-1]] = _floats(tokens[i + 1 : i + 4], path, f"{names[stack[-1]]}.OFFSET", 3)
            i += 4
        elif tok == "CHANNELS":
            n = int(tokens[i + 1])
            channels[stack[-1]] = tuple(tokens[i + 2 : i + 2 + n])
            i += 2 + n
        else:  # HIERARCHY and anything unknown
            i += 1
    if not names:
        raise DataError("no joints in HIERARCHY", path=path, key="HIERARCHY")
    header = re.search(r"Frames:\s*(\d+)\s*Frame Time:\s*([0-9.eE+-]+)", parts[1])
    if header is None:
        raise DataError("missing 'Frames:' / 'Frame Time:' lines", path=path, key="MOTION")
    n_frames, frame_time = int(header.group(1)), float(header.group(2))
    n_channels = sum(len(c) for c in channels)
    try:
        values = np.array(parts[1][header.end() :].split(), dtype=np.float64)
    except ValueError:
        raise DataError("non-numeric motion data", path=path, key="MOTION") from None
    if values.size != n_frames * n_channels:
        raise DataError(
            f"expected Frames x channels = ({n_frames}, {n_channels}) values, got {values.size}",
            path=path,
            key="MOTION",
        )
    return BvhClip(
        path=path,
        names=names,
        parents=parents,
        offsets=np.stack(offsets),
        channels=channels,
        frame_time=frame_time,
        motion=values.reshape(n_frames, n_channels),
    )


def bvh_positions(clip: BvhClip, scale: float = CMU_SCALE) -> np.ndarray:
    """Forward kinematics of a BVH clip: positions ``(T, J, 3)`` of ``clip.names``.

    Each joint's local rotation follows its own channel order (``Zrotation Yrotation
    Xrotation`` -> ``Rz @ Ry @ Rx``); position channels are added to the offset. Returned in
    metres (``scale`` per file unit; CMU conversions use ASF units), source frame (y up).
    """
    T = clip.num_frames
    J = len(clip.names)
    rotation = np.empty((T, J, 3, 3))
    position = np.empty((T, J, 3))
    start = np.cumsum([0] + [len(c) for c in clip.channels])
    for j in range(J):
        cols = clip.motion[:, start[j] : start[j + 1]]
        names = clip.channels[j]
        rot = [(k, ch[0].lower()) for k, ch in enumerate(names) if ch.lower().endswith("rotation")]
        pos = [
            (k, "xyz".index(ch[0].lower())) for k, ch in enumerate(names) if ch.lower().endswith("position")
        ]
        local_t = np.broadcast_to(clip.offsets[j], (T, 3)).copy()
        for k, axis in pos:
            local_t[:, axis] += cols[:, k]
        if rot:
            local_r = euler_matrix(cols[:, [k for k, _ in rot]], "".join(a for _, a in rot))
        else:
            local_r = np.broadcast_to(np.eye(3), (T, 3, 3))
        p = clip.parents[j]
        if p < 0:
            rotation[:, j], position[:, j] = local_r, local_t
        else:
            rotation[:, j] = rotation[:, p] @ local_r
            position[:, j] = position[:, p] + np.einsum("tij,tj->ti", rotation[:, p], local_t)
    return position * scale


# ----------------------------------------------------------------------------- mapping

#: H36M-17 joint -> ASF bone whose end point it is (Hip is the mid-point of the two hipjoints).
ASF_TO_H36M: tuple[str | tuple[str, str], ...] = (
    ("lhipjoint", "rhipjoint"), "rhipjoint", "rfemur", "rtibia", "lhipjoint", "lfemur", "ltibia",
    "upperback", "lowerneck", "upperneck", "head",
    "lclavicle", "lhumerus", "lradius", "rclavicle", "rhumerus", "rradius",
)  # fmt: skip

#: H36M-17 joint -> BVH joint, for the two naming schemes of the CMU BVH conversions.
BVH_TO_H36M: dict[str, tuple[str | tuple[str, str], ...]] = {
    "cgspeed": (
        ("LeftUpLeg", "RightUpLeg"), "RightUpLeg", "RightLeg", "RightFoot", "LeftUpLeg", "LeftLeg",
        "LeftFoot", "Spine1", "Neck1", "Head", "Head_End",
        "LeftArm", "LeftForeArm", "LeftHand", "RightArm", "RightForeArm", "RightHand",
    ),
    "bvh11": (
        ("LeftHip", "RightHip"), "RightHip", "RightKnee", "RightAnkle", "LeftHip", "LeftKnee",
        "LeftAnkle", "Chest2", "Neck", "Head", "Head_End",
        "LeftShoulder", "LeftElbow", "LeftWrist", "RightShoulder", "RightElbow", "RightWrist",
    ),
    "iclone": (
        ("CC_Base_L_Thigh", "CC_Base_R_Thigh"), "CC_Base_R_Thigh", "CC_Base_R_Calf", "CC_Base_R_Foot",
        "CC_Base_L_Thigh", "CC_Base_L_Calf", "CC_Base_L_Foot", "CC_Base_Spine02", "CC_Base_NeckTwist01",
        "CC_Base_Head", ("CC_Base_L_Eye", "CC_Base_R_Eye"),
        "CC_Base_L_Upperarm", "CC_Base_L_Forearm", "CC_Base_L_Hand",
        "CC_Base_R_Upperarm", "CC_Base_R_Forearm", "CC_Base_R_Hand",
    ),
}  # fmt: skip

#: Metres per file unit of each BVH naming scheme (the iClone / Character Creator rig is in cm).
BVH_SCALE: dict[str, float] = {"cgspeed": CMU_SCALE, "bvh11": CMU_SCALE, "iclone": 0.01}

_FEET = (3, 6)  # RFoot, LFoot in the H36M-17 layout


def _select(positions: np.ndarray, names: list[str] | tuple[str, ...], mapping, where: str) -> np.ndarray:
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 3 or positions.shape[1:] != (len(names), 3):
        raise DataError(f"expected positions of shape (T, {len(names)}, 3), got {positions.shape}", key=where)
    index = {n: i for i, n in enumerate(names)}
    out = []
    for src in mapping:
        group = src if isinstance(src, tuple) else (src,)
        missing = [s for s in group if s not in index]
        if missing:
            raise DataError(f"joints {missing} not found among {list(names)}", key=where)
        out.append(positions[:, [index[s] for s in group]].mean(axis=1))
    return np.stack(out, axis=1)


def put_on_ground(pose: np.ndarray) -> np.ndarray:
    """Shift ``pose (T, 17, 3)`` (world, z up) in place so that the lowest foot (RFoot/LFoot)
    over the whole clip is at z = 0; returns it."""
    pose[..., 2] -= pose[:, _FEET, 2].min()
    return pose


def to_world(pose_yup: np.ndarray, ground: bool = True) -> np.ndarray:
    """CMU y-up ``(T, 17, 3)`` -> world z-up ``(x, -z, y)``; with ``ground`` the lowest foot
    (RFoot/LFoot) height over the clip becomes z = 0."""
    p = np.asarray(pose_yup, dtype=np.float64)
    out = np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1)
    return put_on_ground(out) if ground else out


def cmu_asf_to_h36m(
    positions: np.ndarray, bone_names: list[str] | tuple[str, ...], ground: bool = True
) -> np.ndarray:
    """ASF/AMC joint positions ``(T, n, 3)`` (``asf_amc_positions``, names ``AsfSkeleton.names``)
    -> Human3.6M-17 ``(T, 17, 3)`` in the world frame (metres, z up, ground at z = 0)."""
    return to_world(_select(positions, bone_names, ASF_TO_H36M, "asf bone names"), ground)


def bvh_scheme(joint_names: list[str] | tuple[str, ...]) -> str:
    """Name of the BVH naming scheme (key of ``BVH_TO_H36M``) whose joints are all present."""
    names = set(joint_names)
    for scheme, mapping in BVH_TO_H36M.items():
        if all(n in names for src in mapping for n in (src if isinstance(src, tuple) else (src,))):
            return scheme
    raise DataError(f"BVH joint names match no known CMU naming scheme {list(BVH_TO_H36M)}", key="HIERARCHY")


def cmu_bvh_to_h36m(
    positions: np.ndarray, joint_names: list[str] | tuple[str, ...], ground: bool = True
) -> np.ndarray:
    """BVH joint positions ``(T, J, 3)`` (``bvh_positions``, names ``BvhClip.names``) ->
    Human3.6M-17 ``(T, 17, 3)`` world frame. Torso about 11 cm short (no thorax segment)."""
    mapping = BVH_TO_H36M[bvh_scheme(joint_names)]
    return to_world(_select(positions, joint_names, mapping, "bvh joint names"), ground)


# ----------------------------------------------------------------------------- retargeting


def bone_lengths(pose: np.ndarray) -> np.ndarray:
    """Mean length of each bone over a clip ``(T, 17, 3)`` -> ``(17,)`` metres, indexed by the
    child joint (entry 0, the root, is 0)."""
    pose = np.asarray(pose, dtype=np.float64)
    out = np.zeros(len(PARENTS))
    for j, p in enumerate(PARENTS):
        if p >= 0:
            out[j] = np.linalg.norm(pose[:, j] - pose[:, p], axis=-1).mean()
    return out


def retarget(pose: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The motion of ``pose (T, 17, 3)`` on another body: every bone keeps its direction in
    every frame and gets the length ``lengths[child]`` (metres, :func:`bone_lengths` layout);
    the root trajectory is kept and the lowest foot over the clip is put back at z = 0.

    This is bone-length augmentation as the field uses it (e.g. Li et al., CVPR 2020, "evolutionary
    training data"; Gong et al., CVPR 2021, PoseAug): the joint angles are real, the proportions new.
    """
    pose = np.asarray(pose, dtype=np.float64)
    lengths = np.asarray(lengths, dtype=np.float64)
    if pose.ndim != 3 or pose.shape[1:] != (len(PARENTS), 3) or lengths.shape != (len(PARENTS),):
        raise DataError(
            f"expected pose (T, {len(PARENTS)}, 3) and lengths ({len(PARENTS)},), got {pose.shape} and {lengths.shape}",
            key="retarget",
        )
    out = pose.copy()
    for j, p in enumerate(PARENTS):  # parents come before their children
        if p >= 0:
            bone = pose[:, j] - pose[:, p]
            out[:, j] = out[:, p] + lengths[j] * bone / np.linalg.norm(bone, axis=-1, keepdims=True)
    return put_on_ground(out).astype(np.float32)


# ----------------------------------------------------------------------------- resampling


def resample(positions: np.ndarray, src_fps: float, dst_fps: float = 50.0) -> np.ndarray:
    """Linear interpolation ``(T, ...) -> (T', ...)`` on the uniform grid ``t_k = k / dst_fps``.

    Source frame i is at ``t = i / src_fps`` (both grids start at t = 0, so frame 0 is kept).
    ``T' = floor((T - 1) * dst_fps / src_fps) + 1``: every output time lies within the source
    clip, no extrapolation. 120 -> 50 fps keeps every 12th frame exactly and interpolates
    the others.
    """
    x = np.asarray(positions, dtype=np.float64)
    if x.ndim < 1 or x.shape[0] < 1:
        raise DataError(f"expected positions (T, ...) with T >= 1, got {x.shape}", key="positions")
    if src_fps <= 0 or dst_fps <= 0:
        raise ValueError(f"frame rates must be positive, got {src_fps} -> {dst_fps}")
    T = x.shape[0]
    n_out = math.floor((T - 1) * dst_fps / src_fps + 1e-9) + 1
    s = np.arange(n_out) * (src_fps / dst_fps)  # source frame index of each output frame
    i0 = np.minimum(np.floor(s + 1e-9).astype(np.int64), T - 1)
    i1 = np.minimum(i0 + 1, T - 1)
    w = np.clip(s - i0, 0.0, 1.0).reshape((-1,) + (1,) * (x.ndim - 1))
    return (1.0 - w) * x[i0] + w * x[i1]


# ----------------------------------------------------------------------------- clips


def is_tpose(pose: np.ndarray, tol_deg: float = 15.0) -> bool:
    """True if the H36M-17 world pose ``(17, 3)`` (z up) has both arms straight and horizontal
    (the calibration T-pose): shoulder->elbow and elbow->wrist within ``tol_deg`` of horizontal."""
    p = np.asarray(pose, dtype=np.float64)
    sin_tol = math.sin(math.radians(tol_deg))
    for a, b in ((11, 12), (12, 13), (14, 15), (15, 16)):
        v = p[b] - p[a]
        if abs(v[2]) > sin_tol * np.linalg.norm(v):
            return False
    return True


def _drop_leading_tpose(pose: np.ndarray, jump: float = 0.05) -> np.ndarray:
    """Drop frame 0 if it is a T-pose that jumps by more than ``jump`` metres (at some joint)
    to frame 1: the reference frame that cgspeed's BVH conversion puts before the motion."""
    if pose.shape[0] > 1 and is_tpose(pose[0]):
        if np.linalg.norm(pose[1] - pose[0], axis=-1).max() > jump:
            return pose[1:]
    return pose


def load_clip(
    path_or_pair: PathLike | tuple[PathLike, PathLike],
    dst_fps: float = 50.0,
    amc_fps: float = CMU_FPS,
) -> np.ndarray:
    """One CMU clip as Human3.6M-17 world positions ``(T', 17, 3)`` float32 at ``dst_fps``.

    ``path_or_pair`` is an ``(asf, amc)`` pair (AMC at ``amc_fps``, CMU: 120) or a ``.bvh``
    path (its own frame time). For BVH a leading T-pose frame is dropped (see
    ``_drop_leading_tpose``: frame 0 with both arms straight and horizontal *and* a jump of
    more than 5 cm to frame 1). Ground: the lowest foot over the resampled clip is at z = 0.
    """
    if isinstance(path_or_pair, (tuple, list)):
        if len(path_or_pair) != 2:
            raise DataError("expected an (asf, amc) pair", key="path_or_pair")
        asf, amc = path_or_pair
        skel = read_asf(asf)
        pose = cmu_asf_to_h36m(asf_amc_positions(skel, amc), skel.names, ground=False)
        fps = amc_fps
    else:
        path = Path(path_or_pair)
        if path.suffix.lower() != ".bvh":
            raise DataError("expected a .bvh file or an (asf, amc) pair", path=str(path))
        clip = read_bvh(path)
        scale = BVH_SCALE[bvh_scheme(clip.names)]
        pose = cmu_bvh_to_h36m(bvh_positions(clip, scale), clip.names, ground=False)
        pose = _drop_leading_tpose(pose)
        fps = clip.fps
    pose = resample(pose, fps, dst_fps)
    return put_on_ground(pose).astype(np.float32)
