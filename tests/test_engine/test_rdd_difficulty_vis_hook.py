# Copyright (c) mmrdd contributors. All rights reserved.
"""RDDDifficultyVisHook on a real tiny runner: the pictures reach the
visualizer's backends (local PNGs, TensorBoard events) at the right steps,
and the drawn TSE tiles are the masks, pixel for pixel."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from _toy_models import (NUM_CLASSES, TinySegDataset, batch, rdd_cfg,
                         tiny_runner)

import mmrdd  # noqa: F401
from mmrdd.engine import RDDDifficultyVisHook
from mmrdd.visualization import (SELECTED_COLOUR, TSE_COLOURS,
                                 class_share_image, class_shares,
                                 difficulty_maps, difficulty_panel)
from mmrdd.visualization.difficulty import CLASS_TILE_WIDTH

SIZE = (32, 40)
SCALE = 2
BAR, GAP = 22, 4  # render_panel's title bar and gap between tiles


def build_runner(tmp_path, backends, max_iters=4, interval=2):
    torch.manual_seed(0)
    # thresholds that split the barely trained models' pixels, so the
    # TSE masks are neither empty nor full
    model = rdd_cfg(
        switch_iter=2,
        tse=dict(type='RDDTSEDifficulty', thresh=0.2, min_kept=2))
    return tiny_runner(
        tmp_path,
        model,
        'vis', [
            dict(type='RDDStageHook'),
            dict(type='RDDDifficultyVisHook', interval=interval)
        ],
        max_iters,
        checkpoint_interval=100,
        uint8=True,
        visualizer=dict(
            type='SegLocalVisualizer',
            vis_backends=backends,
            name=f'vis-{tmp_path.name}'))


def tile(panel: np.ndarray, index: int) -> np.ndarray:
    """Tile ``index`` of a panel, at the label size."""
    h, w = SIZE[0] * SCALE, SIZE[1] * SCALE
    x = index * (w + GAP)
    return panel[BAR:BAR + h, x:x + w][::SCALE, ::SCALE]


def colour_is(image: np.ndarray, colour) -> np.ndarray:
    return (image == np.asarray(colour, np.uint8)).all(-1)


def maps_of(model, item: dict, min_kept: int) -> dict:
    data = model.data_preprocessor(
        dict(inputs=[item['inputs']], data_samples=[item['data_samples']]),
        False)
    label = data['data_samples'][0].gt_sem_seg.data.long()
    maps = difficulty_maps(model, data['inputs'], label, min_kept)
    return maps, label[0].numpy()


def test_tse_tiles_are_the_masks():
    """The drawn panel of stage TSE, read back pixel by pixel."""
    runner_free = rdd_cfg(
        switch_iter=0,
        tse=dict(type='RDDTSEDifficulty', thresh=0.2, min_kept=1))
    from mmrazor.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(runner_free)
    inputs, samples = batch(n=1, seed=3)
    label = samples[0].gt_sem_seg.data.long()
    maps = difficulty_maps(model, inputs, label)
    gt = label[0].numpy()
    image = np.zeros(SIZE + (3, ), np.uint8)
    palette = np.random.RandomState(0).randint(0, 256, (NUM_CLASSES, 3))
    panel = difficulty_panel(
        maps, image, gt, palette, 255, stage='tse', scale=SCALE)
    # image, gt, teacher, student, TSE parts, TSE selected
    assert panel.shape[1] == 6 * SIZE[1] * SCALE + 5 * GAP
    mask = maps['tse_mask'][0].numpy()
    hard_s = maps['hard_student'][0].numpy()
    hard_t = maps['hard_teacher'][0].numpy()
    assert 0 < mask.sum() < (gt != 255).sum()  # neither empty nor full
    assert (colour_is(tile(panel, 5), SELECTED_COLOUR) == mask).all()
    parts = tile(panel, 4)
    assert (colour_is(parts,
                      TSE_COLOURS['student']) == (hard_s & ~hard_t)).all()
    assert (colour_is(parts,
                      TSE_COLOURS['teacher']) == (hard_t & ~hard_s)).all()
    assert (colour_is(parts, TSE_COLOURS['both']) == (hard_s & hard_t)).all()
    # RDD's XOR: the selection is what exactly one model found hard
    assert (mask == (hard_s ^ hard_t)).all()
    # the ground-truth tile is the palette of the labels, ignored white
    drawn = tile(panel, 1)
    valid = gt != 255
    assert (drawn[valid] == palette[gt[valid]]).all()
    assert (drawn[~valid] == 255).all()
    # stage TFE draws the TFE weight instead of the TSE tiles
    tfe = difficulty_panel(
        maps, image, gt, palette, 255, stage='tfe', scale=SCALE)
    assert tfe.shape[1] == 5 * SIZE[1] * SCALE + 4 * GAP
    with pytest.raises(ValueError, match='stage'):
        difficulty_panel(maps, image, gt, palette, 255, stage='TSE')


def test_class_tile_draws_what_tse_keeps_of_each_class():
    """The per-class shares of one image against a loop over its pixels,
    and the bars drawn from them, read back."""
    from mmrazor.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(
        rdd_cfg(
            switch_iter=0,
            tse=dict(type='RDDTSEDifficulty', thresh=0.2, min_kept=1)))
    with torch.no_grad():  # sharper classifiers: q spreads within a class
        model.teacher.decode_head.conv_seg.weight.mul_(40.0)
        model.student.decode_head.conv_seg.weight.mul_(15.0)
    inputs, samples = batch(n=1, seed=3)
    label = samples[0].gt_sem_seg.data.long()
    maps = difficulty_maps(model, inputs, label)
    gt = label[0].numpy()
    gt[gt == 0] = 255  # class 0 absent: no row
    mask = maps['tse_mask'][0].numpy()
    both = (maps['hard_student'][0] & maps['hard_teacher'][0]).numpy()
    shares = class_shares(maps, gt)
    assert sorted(shares) == [1, 2, 3, 4]
    for c, share in shares.items():
        n = (gt == c).sum()
        assert share['valid'] == n
        assert share['kept'] == pytest.approx(((gt == c) & mask).sum() / n)
        assert share['dropped_both'] == pytest.approx(
            ((gt == c) & both & ~mask).sum() / n)
    assert sum(0 < s['kept'] < 1 for s in shares.values()) == 3
    assert sum(0 < s['dropped_both'] < 1 for s in shares.values()) == 3
    # one 22-pixel row per class; its bar from 2/5 of the width, width - 44
    # wide: yellow for the kept share, grey for the dropped hard pixels
    width, height = 200, 100
    names = ['a', 'b', 'c', 'd', 'e']
    image = class_share_image(shares, names, height, width)
    bar_w = width - width * 2 // 5 - 44
    for i, c in enumerate(sorted(shares)):
        line = image[i * 22 + 11, width * 2 // 5:width * 2 // 5 + bar_w]
        assert colour_is(line, SELECTED_COLOUR).sum() == round(
            shares[c]['kept'] * bar_w)
        assert colour_is(line, TSE_COLOURS['both']).sum() == round(
            shares[c]['dropped_both'] * bar_w)
    # the panel ends with the tile when class names are given
    image = np.zeros(SIZE + (3, ), np.uint8)
    palette = np.random.RandomState(0).randint(0, 256, (NUM_CLASSES, 3))
    panel = difficulty_panel(
        maps, image, gt, palette, stage='tse', scale=SCALE, classes=names)
    assert panel.shape[1] == 6 * SIZE[1] * SCALE + 6 * GAP + CLASS_TILE_WIDTH
    drawn = panel[BAR:, -CLASS_TILE_WIDTH:]
    assert (drawn == class_share_image(shares, names, SIZE[0] * SCALE,
                                       CLASS_TILE_WIDTH)).all()


def test_local_backend_gets_one_picture_per_interval(tmp_path):
    runner = build_runner(tmp_path, [dict(type='LocalVisBackend')])
    runner.train()
    folder = osp.join(runner.log_dir, 'vis_data', 'vis_image')
    # after iterations 2 (TFE: 5 tiles) and 4 (TSE: 6 tiles)
    tfe = cv2.cvtColor(
        cv2.imread(osp.join(folder, 'rdd_difficulty_2.png')),
        cv2.COLOR_BGR2RGB)
    tse = cv2.cvtColor(
        cv2.imread(osp.join(folder, 'rdd_difficulty_4.png')),
        cv2.COLOR_BGR2RGB)
    assert tfe.shape[1] == 5 * SIZE[1] * SCALE + 4 * GAP
    # six tiles, then the per-class tile
    assert tse.shape[1] == 6 * SIZE[1] * SCALE + 6 * GAP + CLASS_TILE_WIDTH
    assert not osp.exists(osp.join(folder, 'rdd_difficulty_3.png'))
    # the last picture is of the final model on the first image of the
    # last batch (items 6, 7 without shuffling)
    model = runner.model
    assert model.training  # the hook restored the training mode
    maps, gt = maps_of(model, TinySegDataset(uint8=True)[6], min_kept=1)
    mask = maps['tse_mask'][0].numpy()
    assert 0 < mask.sum() < (gt != 255).sum()
    assert (colour_is(tile(tse, 5), SELECTED_COLOUR) == mask).all()
    raw = TinySegDataset(uint8=True)[6]['inputs'].numpy()[::-1].transpose(
        1, 2, 0)
    assert (tile(tse, 0) == raw).all()  # BGR as loaded, drawn RGB


def test_tensorboard_backend_gets_the_pictures(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    runner = build_runner(tmp_path, [dict(type='TensorboardVisBackend')])
    runner.train()
    events = EventAccumulator(
        osp.join(runner.log_dir, 'vis_data'), size_guidance={'images': 0})
    events.Reload()
    assert 'rdd_difficulty' in events.Tags()['images']
    steps = [e.step for e in events.Images('rdd_difficulty')]
    assert steps == [2, 4]
    last = events.Images('rdd_difficulty')[-1]
    assert (last.width,
            last.height) == (6 * SIZE[1] * SCALE + 6 * GAP + CLASS_TILE_WIDTH,
                             BAR + SIZE[0] * SCALE)


@pytest.mark.parametrize(
    'kwargs',
    [dict(interval=0),
     dict(interval=1.5),
     dict(scale=0),
     dict(name='')])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match='RDDDifficultyVisHook'):
        RDDDifficultyVisHook(**kwargs)
