# Copyright (c) mmrdd contributors. All rights reserved.
"""A deterministic toy semantic-segmentation data set (``ToySeg``).

The images are synthetic, small (128x128 by default) and cheap to make, yet
hard enough that a larger network beats a smaller one and a teacher has
something to teach:

* three large regions with colours drawn from one shared distribution, told
  apart by texture only: smooth ``background``, striped ``meadow``, grainy
  ``desert``;
* ``building``: big polygons with a tile grid, with a 1-pixel ignore band
  (255) on either side of their outline, as in real annotations;
* ``wire``: thin curves 1 or 2 pixels wide drawn over everything;
* ``bush`` and ``rock``: vivid 9-14 pixel squares that look exactly alike; a
  square is a ``bush`` inside a meadow and a ``rock`` inside a desert, so the
  class is decided by the surrounding region (context), not by local
  appearance;
* ``pebble``: small 4-7 pixel dark or bright grey dots on the background;
* per-image colour jitter, blur and pixel noise.

At the output stride 8 of the D8 models a pebble is smaller than one logit
cell and a wire a fraction of one: these are the hard pixels. Sizes below 128
work (at least 48) but leave less room for squares.

The layout is MMSeg's ``BaseSegDataset`` one::

    out_dir/img_dir/{train,val,test}/00000.png   # RGB image
    out_dir/ann_dir/{train,val,test}/00000.png   # uint8 labels, 255 = ignore
    out_dir/meta.json                       # parameters, version, checksums

Every image is drawn from its own ``numpy.random.RandomState`` seeded from
``(seed, split, index)``, so the output does not depend on the order of
generation (nor on the sizes of the other splits: adding a ``test`` split
leaves ``train`` and ``val`` byte for byte as they were), and only integer
rasterisation (OpenCV lines and polygons) and
element-wise numpy arithmetic are used, so the same parameters give the same
bytes. Generation is idempotent: when ``meta.json`` matches the requested
parameters nothing is written.

The ``test`` split is held out: its images come from their own seed stream
(split code 2) and no setting of the toy configs or of ``tools/demo.py`` was
chosen on it; the demo and ``tools/analysis_tools/seeds.py`` report on it.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

#: Bump when the drawn content changes, so that stale data is regenerated.
GENERATOR_VERSION = 2

CLASSES = ('background', 'meadow', 'desert', 'wire', 'bush', 'rock', 'pebble',
           'building')
PALETTE = [[120, 120, 120], [60, 180, 75], [230, 190, 60], [0, 0, 0],
           [0, 100, 0], [140, 80, 40], [240, 50, 230], [70, 70, 200]]
IGNORE_INDEX = 255

BACKGROUND, MEADOW, DESERT, WIRE, BUSH, ROCK, PEBBLE, BUILDING = range(8)
_SPLIT_CODES = {'train': 0, 'val': 1, 'test': 2}
#: Splits in the order they are written (and hashed).
SPLITS = ('train', 'val', 'test')


# --------------------------------------------------------------------------
# small numpy helpers
# --------------------------------------------------------------------------
def _rng_for(seed: int, split: str, index: int) -> np.random.RandomState:
    """The generator of one image, independent of generation order."""
    state = np.random.SeedSequence(
        [int(seed), _SPLIT_CODES[split],
         int(index)]).generate_state(8)
    return np.random.RandomState(state)


def _smooth_field(rng: np.random.RandomState,
                  size: int,
                  num_waves: int = 6,
                  max_freq: float = 2.5) -> np.ndarray:
    """A smooth random field of shape (size, size): a sum of random cosines
    with 0.5 to ``max_freq`` cycles per image."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    field = np.zeros((size, size))
    for _ in range(num_waves):
        freq = rng.uniform(0.5, max_freq)
        angle = rng.uniform(0, np.pi)
        phase = rng.uniform(0, 2 * np.pi)
        field += rng.uniform(
            0.5,
            1.0) * np.cos(2 * np.pi * freq *
                          (np.cos(angle) * xx + np.sin(angle) * yy) + phase)
    return field


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of a (H, W) or (H, W, C) float array with
    reflected borders, in plain numpy (deterministic across machines)."""
    if sigma <= 0:
        return img
    radius = max(1, int(np.ceil(2.5 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma)**2)
    taps /= taps.sum()
    out = img
    for axis in (0, 1):
        pad = [(0, 0)] * img.ndim
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode='reflect')
        n = out.shape[axis]
        acc = np.zeros_like(out)
        for k, tap in enumerate(taps):
            acc += tap * np.take(padded, np.arange(k, k + n), axis=axis)
        out = acc
    return out


def _random_colour(rng: np.random.RandomState,
                   low: int = 50,
                   high: int = 205) -> np.ndarray:
    """One RGB colour, uniform in ``[low, high)^3``, as float64 (3, )."""
    return rng.uniform(low, high, size=3)


def _vivid_colour(rng: np.random.RandomState) -> np.ndarray:
    """A saturated or extreme RGB colour (each channel near 0 or near 255,
    not all alike), which stands out from the mid-tone regions."""
    while True:
        high = rng.rand(3) < 0.5
        if 0 < high.sum() < 3 or rng.rand() < 0.3:
            break
    return np.where(high, rng.uniform(195, 245, 3), rng.uniform(10, 60, 3))


def _binary_erode(mask: np.ndarray, size: int) -> np.ndarray:
    """Erode a boolean mask with a ``size`` x ``size`` square."""
    kernel = np.ones((size, size), np.uint8)
    return cv2.erode(
        mask.astype(np.uint8),
        kernel,
        borderType=cv2.BORDER_CONSTANT,
        borderValue=0).astype(bool)


def _binary_dilate(mask: np.ndarray, size: int) -> np.ndarray:
    """Dilate a boolean mask with a ``size`` x ``size`` square."""
    kernel = np.ones((size, size), np.uint8)
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


# --------------------------------------------------------------------------
# drawing of one sample
# --------------------------------------------------------------------------
def _regions(rng: np.random.RandomState, size: int) -> np.ndarray:
    """Label map of the large regions: background, meadow and desert.

    Each of meadow and desert takes the top ~28% of its own smooth field, so
    every image has a fair share of both.
    """
    while True:
        f_meadow = _smooth_field(rng, size)
        f_desert = _smooth_field(rng, size)
        meadow = f_meadow > np.quantile(f_meadow, 0.72)
        desert = (f_desert > np.quantile(f_desert, 0.70)) & ~meadow
        # both must have room for a square with its context
        window = min(20, size // 4)
        if (_binary_erode(meadow, window).any()
                and _binary_erode(desert, window).any()):
            break
    label = np.full((size, size), BACKGROUND, np.uint8)
    label[meadow] = MEADOW
    label[desert] = DESERT
    return label


def _region_textures(rng: np.random.RandomState,
                     size: int) -> Dict[int, np.ndarray]:
    """Float RGB images (size, size, 3) of the three region types.

    The base colours come from the same distribution for all three; only the
    texture (smooth, stripes, grain) tells them apart.
    """
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    out = {}
    # background: smooth colour gradient, no texture
    bg = _random_colour(rng) + 35 * np.stack(
        [_smooth_field(rng, size, 3, 1.5) / 3 for _ in range(3)], axis=-1)
    out[BACKGROUND] = bg
    # meadow: oriented stripes with a period of 3-6 px
    period = rng.uniform(3.0, 6.0)
    angle = rng.uniform(0, np.pi)
    stripes = np.sin(2 * np.pi / period *
                     (np.cos(angle) * xx + np.sin(angle) * yy) +
                     rng.uniform(0, 2 * np.pi))
    amp = rng.uniform(18, 35)
    out[MEADOW] = _random_colour(rng)[None, None] + amp * stripes[..., None]
    # desert: isotropic grain (blurred white noise)
    grain = _blur(rng.normal(0, 1, (size, size)), 0.8)
    grain /= grain.std() + 1e-8
    amp = rng.uniform(18, 35)
    out[DESERT] = _random_colour(rng)[None, None] + amp * grain[..., None]
    return out


def _polygon(rng: np.random.RandomState, size: int) -> np.ndarray:
    """Integer vertices (K, 2) of a random convex-ish building outline."""
    cx, cy = rng.uniform(0.15, 0.85, size=2) * size
    rx, ry = np.maximum(rng.uniform(0.08, 0.18, size=2) * size, 5.0)
    num = rng.randint(4, 8)
    # roughly evenly spread vertices, so the outline is never a sliver
    angles = rng.uniform(0, 2 * np.pi) + 2 * np.pi / num * (
        np.arange(num) + rng.uniform(-0.3, 0.3, size=num))
    radius = rng.uniform(0.75, 1.0, size=num)
    pts = np.stack(
        [cx + rx * radius * np.cos(angles), cy + ry * radius * np.sin(angles)],
        axis=1)
    return np.round(pts).astype(np.int32)


def _draw_buildings(rng: np.random.RandomState, img: np.ndarray,
                    label: np.ndarray) -> np.ndarray:
    """Draw 1-2 buildings with a tile grid; return their (visible) mask."""
    size = label.shape[0]
    mask = np.zeros((size, size), np.uint8)
    for _ in range(rng.randint(1, 3)):
        one = np.zeros((size, size), np.uint8)
        cv2.fillPoly(one, [_polygon(rng, size)], 1, lineType=cv2.LINE_8)
        one = one.astype(bool)
        colour = _random_colour(rng)
        period = rng.randint(5, 9)
        yy, xx = np.mgrid[0:size, 0:size]
        grid = ((yy % period) == 0) | ((xx % period) == 0)
        tex = colour[None, None] + np.where(grid, -rng.uniform(25, 45),
                                            0.0)[..., None]
        img[one] = tex[one]
        label[one] = BUILDING
        mask |= one.astype(np.uint8)
    return mask.astype(bool)


def _place_squares(rng: np.random.RandomState,
                   img: np.ndarray,
                   label: np.ndarray,
                   region: int,
                   target: int,
                   count: int,
                   side_range: Tuple[int, int],
                   margin: int,
                   palette: np.ndarray,
                   round_: bool = False) -> None:
    """Draw ``count`` filled squares (discs if ``round_``) of class
    ``target`` fully inside ``region``, each with at least ``margin`` region
    pixels around it."""
    free = label == region
    for _ in range(count):
        side = rng.randint(side_range[0], side_range[1] + 1)
        window = side + 2 * margin
        # top-left corners whose (window x window) box is all region
        ok = _binary_erode(free, window)
        ys, xs = np.nonzero(ok)
        if len(ys) == 0:
            return
        k = rng.randint(len(ys))
        # erode is centred: convert centre to the top-left of the square
        half = window // 2
        y0 = ys[k] - half + margin
        x0 = xs[k] - half + margin
        colour = palette[rng.randint(len(palette))] + rng.uniform(
            -15, 15, size=3)
        shape = np.ones((side, side), bool)
        if round_:
            yy, xx = np.mgrid[0:side, 0:side] - (side - 1) / 2
            shape = yy**2 + xx**2 <= (side / 2)**2 + 0.25
        img[y0:y0 + side, x0:x0 + side][shape] = colour
        label[y0:y0 + side, x0:x0 + side][shape] = target
        free[max(0, y0 - margin):y0 + side + margin,
             max(0, x0 - margin):x0 + side + margin] = False


def _wire_mask(rng: np.random.RandomState, size: int,
               width: int) -> np.ndarray:
    """A smooth curve across the image, 1 or 2 pixels wide."""
    p0 = rng.uniform(0, size, size=2)
    p1 = rng.uniform(0, size, size=2)
    # make it long: push the end points towards opposite borders
    direction = p1 - p0
    if np.linalg.norm(direction) < size / 2:
        p1 = size - p0
        direction = p1 - p0
    norm = np.linalg.norm(direction) + 1e-8
    normal = np.array([-direction[1], direction[0]]) / norm
    t = np.linspace(-0.3, 1.3, 400)
    bend = rng.uniform(3, 12) * np.sin(2 * np.pi * rng.uniform(0.3, 1.2) * t +
                                       rng.uniform(0, 2 * np.pi))
    pts = p0[None] + t[:, None] * direction[None] + bend[:, None] * normal
    pts = np.round(pts).astype(np.int32)
    mask = np.zeros((size, size), np.uint8)
    cv2.polylines(mask, [pts], False, 1, thickness=1, lineType=cv2.LINE_8)
    if width == 2:
        # thicken across the curve: shift by one pixel along the axis that
        # is most perpendicular to it
        # (points are (x, y): a mostly horizontal curve is shifted in y)
        shift = np.array(
            [0, 1] if abs(direction[0]) > abs(direction[1]) else [1, 0],
            np.int32)
        cv2.polylines(
            mask, [pts + shift], False, 1, thickness=1, lineType=cv2.LINE_8)
    return mask.astype(bool)


def draw_sample(rng: np.random.RandomState,
                size: int = 128) -> Tuple[np.ndarray, np.ndarray]:
    """Draw one toy image and its label map.

    Args:
        rng (RandomState): The random generator of this sample.
        size (int): Side of the square image. Defaults to 128.

    Returns:
        tuple[np.ndarray, np.ndarray]: The RGB image (size, size, 3) uint8
        and the label map (size, size) uint8 with values in
        ``0..len(CLASSES)-1`` and 255 (ignore).
    """
    label = _regions(rng, size)
    textures = _region_textures(rng, size)
    img = np.zeros((size, size, 3))
    for cls, tex in textures.items():
        img[label == cls] = tex[label == cls]

    buildings = _draw_buildings(rng, img, label)

    # bush and rock: one appearance (vivid squares), told apart by context
    object_palette = np.stack([_vivid_colour(rng) for _ in range(3)])
    _place_squares(rng, img, label, MEADOW, BUSH, rng.randint(2, 6), (9, 14),
                   2, object_palette)
    _place_squares(rng, img, label, DESERT, ROCK, rng.randint(2, 6), (9, 14),
                   2, object_palette)
    # pebbles: small dark or bright grey dots on the background
    grey = np.array([[rng.uniform(10, 50)] * 3, [rng.uniform(205, 250)] * 3])
    _place_squares(
        rng,
        img,
        label,
        BACKGROUND,
        PEBBLE,
        rng.randint(5, 10), (4, 7),
        2,
        grey,
        round_=True)

    # 1-pixel ignore band on either side of the building outlines
    band = _binary_dilate(buildings, 3) & ~_binary_erode(buildings, 3)
    label[band] = IGNORE_INDEX

    # wires over everything (a wire crossing the band is labelled as wire)
    for _ in range(rng.randint(1, 4)):
        wire = _wire_mask(rng, size, width=rng.randint(1, 3))
        shade = rng.uniform(15, 60) if rng.rand() < 0.5 else rng.uniform(
            195, 240)
        img[wire] = shade + rng.uniform(-15, 15, size=3)
        label[wire] = WIRE

    # photometric degradations: contrast/brightness, blur, noise
    img = (img - 128) * rng.uniform(0.75, 1.15) + 128 + rng.uniform(-20, 20)
    if rng.rand() < 0.5:
        img = _blur(img, rng.uniform(0.4, 0.9))
    img = img + rng.normal(0, rng.uniform(2, 8), size=img.shape)
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    return img, label


# --------------------------------------------------------------------------
# writing the data set
# --------------------------------------------------------------------------
def _write_png(path: str, array: np.ndarray) -> bytes:
    """Write ``array`` as PNG atomically and return the written bytes."""
    ok, buf = cv2.imencode('.png', array, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise IOError(f'cannot encode {path}')
    data = buf.tobytes()
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)
    return data


def _read_meta(path: str) -> Optional[dict]:
    """``meta.json`` as a dict, or None when missing or unreadable."""
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def generate_toy_dataset(out_dir: str,
                         num_train: int = 600,
                         num_val: int = 120,
                         num_test: int = 300,
                         size: int = 128,
                         seed: int = 0,
                         force: bool = False) -> dict:
    """Write the toy data set to ``out_dir`` (idempotent).

    Args:
        out_dir (str): Root of the data set (the config's ``data_root``).
        num_train (int): Number of training images. Defaults to 600.
        num_val (int): Number of validation images. Defaults to 120.
        num_test (int): Number of held-out test images. Defaults to 300.
        size (int): Side of the square images, at least 48. Defaults to 128.
        seed (int): Seed of the whole data set. Defaults to 0.
        force (bool): Regenerate even when ``meta.json`` matches.
            Defaults to False.

    Returns:
        dict: The content of ``meta.json`` (parameters, ``version``,
        ``classes``, ``palette``, per-split ``sha256`` of all written bytes
        and per-split ``class_pixels``) plus ``skipped``: True when the data
        set was already there and nothing was written.
    """
    if size < 48:
        raise ValueError(f'size must be at least 48, got {size}')
    for name, num in (('num_train', num_train), ('num_val', num_val),
                      ('num_test', num_test)):
        if int(num) != num or num < 0:
            raise ValueError(f'{name} must be an int >= 0, got {num!r}')
    params = dict(
        version=GENERATOR_VERSION,
        num_train=int(num_train),
        num_val=int(num_val),
        num_test=int(num_test),
        size=int(size),
        seed=int(seed))
    meta_path = osp.join(out_dir, 'meta.json')
    meta = _read_meta(meta_path)
    if not force and meta is not None and all(
            meta.get(k) == v for k, v in params.items()):
        return dict(meta, skipped=True)

    meta = dict(
        params,
        classes=list(CLASSES),
        palette=PALETTE,
        ignore_index=IGNORE_INDEX,
        sha256={},
        class_pixels={})
    if osp.exists(meta_path):
        os.remove(meta_path)  # invalid until this run completes
    for split, num in zip(SPLITS, (num_train, num_val, num_test)):
        img_dir = osp.join(out_dir, 'img_dir', split)
        ann_dir = osp.join(out_dir, 'ann_dir', split)
        for d in (img_dir, ann_dir):
            os.makedirs(d, exist_ok=True)
            for name in os.listdir(d):  # stale files of another size
                if name.endswith('.png'):
                    os.remove(osp.join(d, name))
        digest = hashlib.sha256()
        counts = np.zeros(len(CLASSES) + 1, np.int64)
        for index in range(num):
            img, label = draw_sample(_rng_for(seed, split, index), size)
            name = f'{index:05d}.png'
            digest.update(_write_png(osp.join(img_dir, name), img[..., ::-1]))
            digest.update(_write_png(osp.join(ann_dir, name), label))
            counts += np.bincount(
                np.where(label == IGNORE_INDEX, len(CLASSES), label).ravel(),
                minlength=len(CLASSES) + 1)
        meta['sha256'][split] = digest.hexdigest()
        meta['class_pixels'][split] = {
            name: int(n)
            for name, n in zip(CLASSES + ('ignore', ), counts)
        }
    tmp = f'{meta_path}.tmp{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(meta, f, indent=2)
    os.replace(tmp, meta_path)
    return dict(meta, skipped=False)


def dataset_checksum(out_dir: str, split: str) -> str:
    """SHA-256 over the bytes of a split, in the order ``generate_toy_dataset``
    hashes them (image then label, by index); compare with ``meta.json``."""
    digest = hashlib.sha256()
    img_dir = osp.join(out_dir, 'img_dir', split)
    for name in sorted(os.listdir(img_dir)):
        for sub in ('img_dir', 'ann_dir'):
            with open(osp.join(out_dir, sub, split, name), 'rb') as f:
                digest.update(f.read())
    return digest.hexdigest()
