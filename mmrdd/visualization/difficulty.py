# Copyright (c) mmrdd contributors. All rights reserved.
"""What RDD sees: teacher/student predictions, TFE weights and TSE masks."""
from typing import Dict, Optional, Sequence

import cv2
import numpy as np
import torch
from mmseg.models.utils import resize
from torch import Tensor

from mmrdd.functional import class_pixel_counts
from mmrdd.models.utils import run_heads, segmentor_heads

# TSE mask colours (RGB): hard for the student only, for the teacher only,
# for both (dropped by XOR), ignored pixels.
TSE_COLOURS = dict(
    student=(255, 64, 64),
    teacher=(64, 128, 255),
    both=(150, 150, 150),
    ignored=(40, 40, 40))
#: Colour (RGB) of the pixels TSE selects, on black.
SELECTED_COLOUR = (255, 220, 0)


@torch.no_grad()
def difficulty_maps(model,
                    inputs: Tensor,
                    label: Tensor,
                    min_kept: Optional[int] = None) -> Dict[str, Tensor]:
    """Run teacher and student of an RDD model and compute both stages' maps.

    Uses the model's own estimators (``model.distiller.tfe`` and ``.tse``)
    on the student's main head and its TSE partner, as a training step does
    (TFE's teacher views and maps by its own :meth:`teacher_views` and
    :meth:`prepare`).

    Args:
        model (FrozenTeacherDistill): The model, with an ``RDDDistiller``
            (eval mode is set here).
        inputs (Tensor): Preprocessed images, (N, 3, H, W).
        label (Tensor): Labels, (N, H, W).
        min_kept (int, optional): The TSE ``min_kept`` for this call (the
            training value is per batch of crops). Defaults to None (the
            configured one).

    Returns:
        dict[str, Tensor]: ``teacher_pred``, ``student_pred`` (N, H, W) long;
        ``tfe_weight`` (N, H, W) float (absent when the teacher has no
        second view); ``hard_student``, ``hard_teacher``, ``tse_mask``
        (N, H, W) bool.
    """
    model.eval()
    distiller = model.distiller
    spec = distiller.teacher_spec
    size = tuple(label.shape[-2:])
    align_corners = spec.align_corners
    teacher = model.teacher_forward(inputs)
    head_spec = distiller.head_specs[distiller.student_main]
    student = run_heads(model.student, model.student.extract_feat(inputs))
    head = segmentor_heads(model.student,
                           'decode_head')[distiller.student_main]
    s_logits = resize(
        student[distiller.student_main],
        size,
        mode='bilinear',
        align_corners=head.align_corners)
    t_logits = resize(
        teacher[distiller.teacher_main],
        size,
        mode='bilinear',
        align_corners=align_corners)
    maps = dict(
        teacher_pred=t_logits.argmax(1), student_pred=s_logits.argmax(1))
    tfe = distiller.tfe
    if tfe.has_second_view(spec):
        views = {
            name: model.teacher_forward(x, heads)
            for name, (x, heads) in tfe.teacher_views(inputs, spec).items()
        }
        maps['tfe_weight'] = tfe.prepare(teacher, views, spec, size)['weight']
    m = distiller.tse.hard_masks(
        s_logits,
        teacher[head_spec.teacher_head],
        label,
        head_spec.ignore_index,
        align_corners,
        min_kept=min_kept)
    maps.update(
        tse_mask=m['mask'],
        hard_student=m['hard_student'],
        hard_teacher=m['hard_teacher'])
    return maps


def colourise(label: np.ndarray,
              palette: Sequence[Sequence[int]],
              ignore_index: int = 255) -> np.ndarray:
    """Label map (H, W) to an RGB image; ignored pixels white."""
    lut = np.zeros((256, 3), np.uint8)
    lut[:len(palette)] = np.asarray(palette, np.uint8)
    out = lut[np.clip(label, 0, 255).astype(np.uint8)]
    out[label == ignore_index] = 255
    return out


def tse_image(hard_s: np.ndarray, hard_t: np.ndarray,
              ignored: np.ndarray) -> np.ndarray:
    """RGB image of the TSE parts: who found each pixel hard."""
    out = np.zeros(hard_s.shape + (3, ), np.uint8)
    out[hard_s & ~hard_t] = TSE_COLOURS['student']
    out[hard_t & ~hard_s] = TSE_COLOURS['teacher']
    out[hard_s & hard_t] = TSE_COLOURS['both']
    out[ignored] = TSE_COLOURS['ignored']
    return out


def weight_image(weight: np.ndarray) -> np.ndarray:
    """RGB heat map of the difficulty ``1 - w`` (bright = down-weighted)."""
    difficulty = np.clip(1.0 - weight, 0.0, 1.0)
    scaled = (255 * difficulty / max(float(difficulty.max()), 1e-6))
    heat = cv2.applyColorMap(scaled.astype(np.uint8), cv2.COLORMAP_INFERNO)
    return cv2.cvtColor(heat, cv2.COLOR_BGR2RGB)


#: Height of a tile's title bar and width of the gap between tiles.
TITLE_HEIGHT, GAP_WIDTH = 22, 4
#: Least width of the per-class tile (:func:`class_share_image`).
CLASS_TILE_WIDTH = 200


def render_panel(tiles: Dict[str, np.ndarray],
                 scale: int = 2,
                 drawn: Optional[Dict[str, np.ndarray]] = None) -> np.ndarray:
    """Tiles side by side, each titled, upscaled ``scale`` times (RGB).

    Args:
        tiles (dict[str, np.ndarray]): Title -> (H, W, 3) tile, upscaled.
        scale (int): Upscaling of ``tiles``. Defaults to 2.
        drawn (dict[str, np.ndarray], optional): Title -> tile already at
            the panel's height (H * scale), added on the right as it is.
            Defaults to None.

    Returns:
        np.ndarray: The panel, RGB uint8.
    """
    rendered = []
    scaled = {
        title: cv2.resize(
            tile, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        for title, tile in tiles.items()
    }
    for title, tile in {**scaled, **(drawn or {})}.items():
        bar = np.full((TITLE_HEIGHT, tile.shape[1], 3), 255, np.uint8)
        cv2.putText(bar, title, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (0, 0, 0), 1, cv2.LINE_AA)
        rendered.append(np.concatenate([bar, tile], 0))
        rendered.append(
            np.full((rendered[-1].shape[0], GAP_WIDTH, 3), 255, np.uint8))
    return np.concatenate(rendered[:-1], 1)


def class_shares(maps: Dict[str, Tensor],
                 gt: np.ndarray,
                 ignore_index: int = 255,
                 index: int = 0) -> Dict[int, Dict[str, float]]:
    """What TSE keeps of each class of one image.

    Args:
        maps (dict[str, Tensor]): The output of :func:`difficulty_maps`.
        gt (np.ndarray): The image's labels, (H, W).
        ignore_index (int): Label of ignored pixels. Defaults to 255.
        index (int): Which image of ``maps``. Defaults to 0.

    Returns:
        dict[int, dict[str, float]]: For each class with valid pixels in
        the image: ``valid`` (its pixels), ``kept`` (the share TSE selects)
        and ``dropped_both`` (the share hard for both models and not
        selected).
    """
    label = torch.as_tensor(np.asarray(gt, np.int64))[None]
    valid = label != ignore_index
    mask = maps['tse_mask'][index:index + 1].cpu()
    both = (maps['hard_student'][index:index + 1]
            & maps['hard_teacher'][index:index + 1]).cpu()
    num_classes = int(label[valid].max()) + 1 if valid.any() else 0
    counts = class_pixel_counts(label, valid, [mask, both & ~mask],
                                num_classes)
    return {
        c: dict(
            valid=float(n),
            kept=float(counts[1, c]) / float(n),
            dropped_both=float(counts[2, c]) / float(n))
        for c, n in enumerate(counts[0].tolist()) if n > 0
    }


def class_share_image(shares: Dict[int, Dict[str,
                                             float]], names: Sequence[str],
                      height: int, width: int) -> np.ndarray:
    """A bar per class: the share TSE keeps (yellow) and the share hard
    for both models that it drops (grey), on white.

    Args:
        shares (dict[int, dict[str, float]]): The output of
            :func:`class_shares`.
        names (Sequence[str]): Class names by index.
        height (int): Height of the image.
        width (int): Width of the image.

    Returns:
        np.ndarray: (height, width, 3) uint8 RGB.
    """
    out = np.full((height, width, 3), 255, np.uint8)
    if not shares:
        return out
    row = max(1, min(22, height // len(shares)))
    font = min(0.4, row / 30)
    label_w = width * 2 // 5
    bar_w = width - label_w - 44
    for i, (c, share) in enumerate(sorted(shares.items())):
        top = i * row
        if top + row > height:
            break
        name = names[c] if c < len(names) else f'class {c}'
        cv2.putText(out, name[:14], (2, top + row - 4),
                    cv2.FONT_HERSHEY_SIMPLEX, font, (0, 0, 0), 1, cv2.LINE_AA)
        kept = int(round(share['kept'] * bar_w))
        both = int(round(share['dropped_both'] * bar_w))
        y0, y1 = top + 2, top + row - 2
        out[y0:y1, label_w:label_w + bar_w] = 230
        out[y0:y1, label_w:label_w + kept] = SELECTED_COLOUR
        out[y0:y1, label_w + kept:label_w + kept + both] = TSE_COLOURS['both']
        cv2.putText(out, f'{100 * share["kept"]:.0f}%',
                    (label_w + bar_w + 4, top + row - 4),
                    cv2.FONT_HERSHEY_SIMPLEX, font, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def selected_image(mask: np.ndarray, ignored: np.ndarray) -> np.ndarray:
    """RGB image of the TSE selection: selected pixels coloured, on black.

    Args:
        mask (np.ndarray): The selected pixels, (H, W) bool.
        ignored (np.ndarray): The ignored pixels, (H, W) bool (drawn in
            ``TSE_COLOURS['ignored']``; never selected).

    Returns:
        np.ndarray: (H, W, 3) uint8.
    """
    out = np.zeros(mask.shape + (3, ), np.uint8)
    out[ignored] = TSE_COLOURS['ignored']
    out[mask] = SELECTED_COLOUR
    return out


def difficulty_panel(maps: Dict[str, Tensor],
                     image: np.ndarray,
                     gt: np.ndarray,
                     palette: Sequence[Sequence[int]],
                     ignore_index: int = 255,
                     index: int = 0,
                     stage: Optional[str] = None,
                     scale: int = 2,
                     classes: Optional[Sequence[str]] = None) -> np.ndarray:
    """The panel of one image: what RDD sees, left to right.

    The image, the ground truth, the teacher's and the student's
    predictions, then the difficulty: in stage ``'tfe'`` the TFE
    difficulty ``1 - w`` (bright = down-weighted), in stage ``'tse'`` the
    TSE parts (red: hard for the student only, blue: for the teacher only,
    grey: for both; dark: ignored) and the selected pixels (yellow); with
    ``stage=None`` both stages' tiles. With ``classes``, the TSE tiles are
    followed by one bar per class of the image (:func:`class_share_image`):
    the share of its pixels TSE keeps (yellow, and in figures) and the
    share hard for both models that it drops (grey).

    Args:
        maps (dict[str, Tensor]): The output of :func:`difficulty_maps`.
        image (np.ndarray): The image, (H, W, 3) uint8 RGB, at the label
            size.
        gt (np.ndarray): Its labels, (H, W).
        palette (Sequence[Sequence[int]]): RGB colour of each class.
        ignore_index (int): Label of ignored pixels. Defaults to 255.
        index (int): Which image of ``maps`` to draw. Defaults to 0.
        stage (str, optional): ``'tfe'``, ``'tse'`` or None (both).
            Defaults to None.
        scale (int): Upscaling of the tiles. Defaults to 2.
        classes (Sequence[str], optional): Class names by index, for the
            per-class tile. Defaults to None (no per-class tile).

    Returns:
        np.ndarray: The panel, RGB uint8.
    """
    if stage not in (None, 'tfe', 'tse'):
        raise ValueError(f"stage must be 'tfe', 'tse' or None, got "
                         f'{stage!r}.')

    def get(key: str) -> np.ndarray:
        return maps[key][index].detach().cpu().numpy()

    ignored = gt == ignore_index
    tiles = {
        'image': image,
        'ground truth': colourise(gt, palette, ignore_index),
        'teacher': colourise(get('teacher_pred'), palette),
        'student': colourise(get('student_pred'), palette),
    }
    if stage != 'tse' and 'tfe_weight' in maps:
        tiles['TFE 1-w'] = weight_image(get('tfe_weight'))
    if stage != 'tfe':
        tiles['TSE S/T/both'] = tse_image(
            get('hard_student'), get('hard_teacher'), ignored)
        tiles['TSE selected'] = selected_image(get('tse_mask'), ignored)
    drawn = {}
    if stage != 'tfe' and classes is not None:
        height = gt.shape[0] * scale
        width = max(CLASS_TILE_WIDTH, gt.shape[1] * scale)
        drawn['TSE kept per class'] = class_share_image(
            class_shares(maps, gt, ignore_index, index), classes, height,
            width)
    return render_panel(tiles, scale, drawn)
