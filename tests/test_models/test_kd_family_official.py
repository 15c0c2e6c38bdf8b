# Copyright (c) mmrdd contributors. All rights reserved.
"""The eight KD methods we had, as the Cityscapes configs build them, equal
to the official computation.

Each test builds the ``model.distiller`` of a one-stage Cityscapes config
(``configs/rdd/<method>_..._cityscapes-512x1024.py``: recorders, connectors,
losses and their configured weights and inputs), feeds it a student and a
teacher of the configs' real widths (decode feature 128 vs 512 channels, 19
classes, 4 crops; a smaller 16x32 feature size than the 64x128 of a
512x1024 crop) with ignored pixels, and compares every loss with the
official weight times a float64 restatement of the official loss
(``tests/_oracles.py``: winycg/CIRKD ``losses/*.py`` @dab64db, hunto/DIST_KD
``segmentation/losses/dist_kd.py`` @2418f18), values and gradients (student
tensors and connector parameters) to 1e-5 relative to the largest entry.
The official weights are the training scripts' (named at each).

Where ours deliberately differs (CWD's normalisation with a projection,
CIRKD's pixel-memory entries) the test states the difference exactly.
``tools/analysis_tools/check_official.py`` runs the official files
themselves (``docs/results/official_<method>.json``).
"""
import os.path as osp

import _oracles as oracles
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.hub import get_config

from mmrdd_lab.kd_config_run import (CITYSCAPES, config_distiller, kd_inputs,
                                     run_config_losses)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SIZE = (16, 32)
TOL = 1e-5
CONFIG = osp.join(
    ROOT, 'configs', 'rdd',
    '{}_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_cityscapes-512x1024.py')
IGNORE = CITYSCAPES['ignore_index']
# winycg/CIRKD scripts/train_kd/*.sh and train_kd.py (--lambda-*), RDD
# train_cirkd_two_stage_diff.py defaults, hunto/DIST_KD train_kd.py
LAMBDA_KD = 1.0  # --lambda-kd 1.0 (AT, CWD, FitNet, SKD, IFVD, CIRKD)


def _assert_rel(ours, ref, what):
    """``max |ours - ref| <= TOL * max |ref|``, and ``ref`` not 0."""
    ref = ref.detach().double()
    scale = ref.abs().max().item()
    assert scale > 0, f'{what}: the reference is 0 (vacuous comparison)'
    err = (ours.detach().double() - ref).abs().max().item()
    assert err <= TOL * scale, f'{what}: {err:.3g} > {TOL} * {scale:.3g}'


def _run(method, seed=0, overrides=None):
    """The config's losses on seeded inputs; the student tensors and the
    connector parameters are the leaves."""
    distiller = config_distiller(CONFIG.format(method), overrides)
    x = kd_inputs(seed, SIZE)
    student = {k: v.clone().requires_grad_() for k, v in x['student'].items()}
    losses = run_config_losses(distiller, student, x['teacher'], x['labels'])
    ref_student = {
        k: v.double().requires_grad_()
        for k, v in x['student'].items()
    }
    ref_teacher = {k: v.double() for k, v in x['teacher'].items()}
    return distiller, x, student, losses, ref_student, ref_teacher


def _params(distiller, name):
    """A connector's parameters, ours and float64 copies for the oracle."""
    ours = list(distiller.connectors[name].parameters())
    return ours, [p.detach().double().requires_grad_() for p in ours]


def _compare(ours_loss, ref_loss, ours_leaves, ref_leaves, what):
    """Value, and the gradient of every leaf (a leaf that the reference
    does not reach gets none or zero from ours)."""
    _assert_rel(ours_loss, ref_loss, f'{what} value')
    g_ours = torch.autograd.grad(
        ours_loss, ours_leaves, retain_graph=True, allow_unused=True)
    g_ref = torch.autograd.grad(
        ref_loss, ref_leaves, retain_graph=True, allow_unused=True)
    reached = 0
    for i, (a, b) in enumerate(zip(g_ours, g_ref)):
        if b is None or not b.abs().max() > 0:
            assert a is None or not a.abs().max() > 0, f'{what} grad {i}'
            continue
        _assert_rel(a, b, f'{what} grad {i}')
        reached += 1
    assert reached > 0, f'{what}: no gradient compared'


def _leaves(student, ref_student):
    keys = ('feat', 'logits', 'aux_logits')
    return [student[k] for k in keys], [ref_student[k] for k in keys]


def test_inputs_have_the_cityscapes_configs_shapes():
    """The widths the tests and check_official.py use are the configs':
    MMSeg's DeepLabV3-R18-D8 decode head 128 channels, DeepLabV3-R101-D8
    512, 19 classes, both heads; the projections map 128 to 512."""
    cfg = Config.fromfile(CONFIG.format('cwd_feat'))
    student = get_config(cfg.model.architecture.cfg_path).model
    teacher = get_config(cfg.model.teacher.cfg_path).model
    assert student.decode_head.channels == CITYSCAPES['student_channels']
    assert teacher.decode_head.channels == CITYSCAPES['teacher_channels']
    for model in (student, teacher):
        assert model.decode_head.num_classes == CITYSCAPES['classes']
        assert model.auxiliary_head.num_classes == CITYSCAPES['classes']
    assert cfg.crop_size == (512, 1024)
    assert cfg.train_dataloader.batch_size == CITYSCAPES['batch']
    for method, name in (('cwd_feat', 'cwd_proj'),
                         ('fitnet_feat', 'fitnet_proj'), ('cirkd_feat',
                                                          'cirkd_proj')):
        conns = Config.fromfile(CONFIG.format(method)).model.distiller \
            .connectors[name]
        conns = conns if isinstance(conns, list) else [conns]
        assert conns[0].in_channel == CITYSCAPES['student_channels']
        assert conns[-1].out_channel == CITYSCAPES['teacher_channels']
    x = kd_inputs(0, SIZE)
    assert x['shapes']['labels'] == [4, 128, 256]
    assert 0 < x['shapes']['ignored_pixels'] < 4 * 128 * 256


@pytest.mark.parametrize(
    'method', ['at_feat', 'cwd_feat', 'fitnet_feat', 'skd_feat', 'ifvd_feat'])
def test_pixel_kd_of_the_configs_is_criterion_kd(method):
    """The pixel KD of the configs that keep it (``--lambda-kd 1.0``):
    ``CriterionKD`` (T 1) on the decode-head logits."""
    _, _, student, losses, ref_s, ref_t = _run(method)
    ours, ref = _leaves(student, ref_s)
    _compare(
        losses['loss_kl'],
        LAMBDA_KD *
        oracles.reference_pixel_kd(ref_s['logits'], ref_t['logits']), ours,
        ref, 'pixel KD')


def test_at_is_the_official_attention_transfer():
    """``--lambda-at 10000.`` (CIRKD train_at.sh, RDD exp_table_5)."""
    _, _, student, losses, ref_s, ref_t = _run('at_feat')
    ours, ref = _leaves(student, ref_s)
    _compare(losses['loss_at'],
             10000. * oracles.reference_at(ref_s['feat'], ref_t['feat']), ours,
             ref, 'AT')


def test_cwd_logits_official_and_features_up_to_the_documented_factor():
    """``--lambda-cwd-fea 50. --lambda-cwd-logit 3.``, T 4 (CIRKD
    train_cwd.sh, ``CriterionCWD(s_channels, t_channels, 'channel', 'kl',
    4.)``). On the logits (19 = 19, no projection): equal. On the features
    (128 -> 512 through the 1x1 projection) the official code divides by
    the student's channels before the projection, ours (MMRazor's
    ChannelWiseDivergence) by the channels summed over, the teacher's:
    ours = official * 128 / 512 exactly; at equal widths, where the
    official code skips its projection (CIRKD's own 512-channel models),
    equal."""
    distiller, _, student, losses, ref_s, ref_t = _run('cwd_feat')
    ours, ref = _leaves(student, ref_s)
    conv, conv_ref = _params(distiller, 'cwd_proj')
    _compare(losses['loss_cwd_logits'],
             3. * oracles.reference_cwd(ref_s['logits'], ref_t['logits'], 4.),
             ours, ref, 'CWD logits')
    official = 50. * oracles.reference_cwd(ref_s['feat'], ref_t['feat'], 4.,
                                           conv_ref[0])
    ratio = CITYSCAPES['student_channels'] / CITYSCAPES['teacher_channels']
    _compare(losses['loss_cwd_feat'], ratio * official, ours + conv,
             ref + conv_ref, 'CWD features, official * C_s / C_t')
    assert not abs(losses['loss_cwd_feat'].item() -
                   official.item()) <= 0.5 * official.item()
    # equal widths: the configured loss on 512-channel student features
    wide = F.relu(torch.randn(4, 512, *SIZE)).requires_grad_()
    wide_ref = wide.detach().double().requires_grad_()
    _compare(
        distiller.distill_losses['loss_cwd_feat'](wide, ref_t['feat'].float()),
        50. * oracles.reference_cwd(wide_ref, ref_t['feat'], 4.), [wide],
        [wide_ref], 'CWD features, equal widths')


def test_fitnet_is_the_official_fitnet_with_its_projection():
    """``--lambda-fitnet 10.`` (CIRKD train_fitnet.sh): the 1x1 conv of
    ``CriterionFitNet`` is the config's ``fitnet_proj`` connector."""
    distiller, _, student, losses, ref_s, ref_t = _run('fitnet_feat')
    ours, ref = _leaves(student, ref_s)
    conv, conv_ref = _params(distiller, 'fitnet_proj')
    _compare(
        losses['loss_fitnet'], 10. *
        oracles.reference_fitnet(ref_s['feat'], ref_t['feat'], conv_ref[0]),
        ours + conv, ref + conv_ref, 'FitNet')


def test_skd_is_the_official_pair_wise_term():
    """``--lambda-skd 10`` (CIRKD train_skd.sh)."""
    _, _, student, losses, ref_s, ref_t = _run('skd_feat')
    ours, ref = _leaves(student, ref_s)
    _compare(losses['loss_skd'],
             10. * oracles.reference_skd(ref_s['feat'], ref_t['feat']), ours,
             ref, 'SKD')


def test_ifvd_is_the_official_ifv_with_ignored_pixels():
    """``--lambda-ifv 20.`` (CIRKD train_ifvd.sh); the official ignore
    label (-1) and ours (255) mark the same pixels."""
    _, x, student, losses, ref_s, ref_t = _run('ifvd_feat')
    ours, ref = _leaves(student, ref_s)
    official_labels = x['labels'].masked_fill(x['labels'] == IGNORE, -1)
    _compare(
        losses['loss_ifvd'],
        20. * oracles.reference_ifvd(ref_s['feat'], ref_t['feat'],
                                     official_labels, CITYSCAPES['classes']),
        ours, ref, 'IFVD')


def test_dsd_is_the_official_pixel_and_category_similarity():
    """``--lambda-psd 1000. --lambda-csd 10.`` (CIRKD train_dsd.sh, RDD
    exp_table_5), no pixel KD; PSD over (aux logits, feature, logits) as
    ``train_kd.py`` lists them."""
    _, _, student, losses, ref_s, ref_t = _run('dsd_feat')
    assert set(losses) == {'loss_psd', 'loss_csd'}
    ours, ref = _leaves(student, ref_s)
    order = ('aux_logits', 'feat', 'logits')
    _compare(
        losses['loss_psd'], 1000. * oracles.reference_dsd_pixel(
            [ref_s[k] for k in order], [ref_t[k] for k in order]), ours, ref,
        'DSD pixel')
    _compare(
        losses['loss_csd'],
        10. * oracles.reference_dsd_category(ref_s['logits'], ref_t['logits']),
        ours, ref, 'DSD category')


def test_dist_is_hunto_dist_on_both_heads():
    """hunto/DIST_KD train_kd.py: ``lambda_kd * DIST(decode)`` + ``0.4 *
    lambda_kd * DIST(aux)``, lambda_kd 1, beta = gamma = 1; no pixel KD."""
    _, _, student, losses, ref_s, ref_t = _run('dist_logits')
    assert set(losses) == {'loss_dist', 'loss_dist_aux'}
    ours, ref = _leaves(student, ref_s)
    _compare(losses['loss_dist'],
             oracles.reference_dist(ref_s['logits'], ref_t['logits']), ours,
             ref, 'DIST decode')
    _compare(
        losses['loss_dist_aux'],
        0.4 * oracles.reference_dist(ref_s['aux_logits'], ref_t['aux_logits']),
        ours, ref, 'DIST aux')


# ---------------------------------------------------------------- CIRKD ----
# RDD train_cirkd_two_stage_diff.py (= CIRKD train_cirkd.py) defaults:
# --lambda-kd 1 --lambda-minibatch-pixel 1 --lambda-memory-pixel 0.1
# --lambda-memory-region 0.1, memories 20000 / 2000, contrast 4096 / 1024
# (passed as `// num_classes + 1` per class), temperatures 0.1 and 1.
PIXEL_SIZE = 3000  # the config's 20000 is 0.78 GB: only slots differ
WRITTEN = 4 * 16  # pixel slots one step of 4 images can write per class


def _contrast_orders(memory_sizes):
    """Fixed slot orders for ``torch.randperm(memory_size)``: the pixel
    memory's puts this step's slots last (the official entries there are
    the pixels its enqueue indexes by mistake, ours the class's: not
    comparable), the region memory's puts the fresh entries first."""
    g = torch.Generator().manual_seed(7)
    pixel, region = memory_sizes
    return {
        pixel:
        torch.cat([
            WRITTEN + torch.randperm(pixel - WRITTEN, generator=g),
            torch.arange(WRITTEN)
        ]),
        region:
        torch.cat(
            [torch.arange(4), 4 + torch.randperm(region - 4, generator=g)])
    }


@pytest.mark.slow  # two 19-class memories, a float64 oracle
def test_cirkd_losses_are_the_official_ones(monkeypatch):
    """The mini-batch loss (1), both memory losses (0.1 each) through the
    projection, and the pixel KD (1), values and gradients, the memories
    updated as the official code (regions; the pointers of both)."""
    pixel_cfg = dict(memory_size=PIXEL_SIZE)
    distiller = config_distiller(
        CONFIG.format('cirkd_feat'), dict(loss_cirkd_pixel=pixel_cfg))
    pixel = distiller.distill_losses['loss_cirkd_pixel']
    region = distiller.distill_losses['loss_cirkd_region']
    assert (pixel.memory_size, region.memory_size) == (PIXEL_SIZE, 2000)
    assert (pixel.contrast_per_class, region.contrast_per_class) == \
        (4096 // 19 + 1, 1024 // 19 + 1)
    assert (pixel.tau, pixel.kd_tau, pixel.loss_weight) == (0.1, 1.0, 0.1)
    assert (region.tau, region.kd_tau, region.loss_weight) == (0.1, 1.0, 0.1)
    before = {
        m: (m.queue.clone().double(), m.ptr.clone())
        for m in (pixel, region)
    }
    orders = _contrast_orders((PIXEL_SIZE, 2000))
    real = torch.randperm

    def randperm(n, *args, **kwargs):
        if n in orders:
            return orders[n].to(kwargs.get('device'))
        return real(n, *args, **kwargs)

    monkeypatch.setattr(torch, 'randperm', randperm)
    x = kd_inputs(0, SIZE)
    student = {k: v.clone().requires_grad_() for k, v in x['student'].items()}
    losses = run_config_losses(distiller, student, x['teacher'], x['labels'])
    monkeypatch.undo()
    ref_s = {k: v.double().requires_grad_() for k, v in x['student'].items()}
    ref_t = {k: v.double() for k, v in x['teacher'].items()}
    ours, ref = _leaves(student, ref_s)
    proj, proj_ref = _params(distiller, 'cirkd_proj')
    assert [tuple(p.shape) for p in proj] == [(512, 128, 1, 1), (512, ),
                                              (512, ), (512, 512, 1, 1)]
    _compare(losses['loss_kl'],
             oracles.reference_pixel_kd(ref_s['logits'], ref_t['logits']),
             ours, ref, 'pixel KD')
    _compare(
        losses['loss_cirkd_batch'],
        1.0 * oracles.reference_cirkd_mini_batch(ref_s['feat'], ref_t['feat']),
        ours, ref, 'mini-batch')
    emb = oracles.reference_cirkd_projection(ref_s['feat'], *proj_ref)
    d = CITYSCAPES['teacher_channels']
    # region memory: this batch's class means first, then the draw
    queue, ptr = oracles.reference_cirkd_region_enqueue(
        *before[region], ref_t['feat'], x['labels'], IGNORE)
    _assert_rel(region.queue, queue, 'region memory after the step')
    assert torch.equal(region.ptr, ptr)
    assert ptr.sum() > 0
    contrast = queue[:, orders[2000][:region.contrast_per_class]]
    _compare(
        losses['loss_cirkd_region'], 0.1 * oracles.reference_cirkd_memory_kd(
            emb, ref_t['feat'], x['labels'], contrast.reshape(-1, d), IGNORE),
        ours + proj, ref + proj_ref, 'memory pixel-to-region')
    # pixel memory: the drawn slots are not this step's
    queue0, ptr0 = before[pixel]
    assert torch.equal(
        pixel.ptr,
        oracles.reference_cirkd_pixel_pointers(ptr0, x['labels'], SIZE, IGNORE,
                                               PIXEL_SIZE))
    assert torch.equal(pixel.queue[:, WRITTEN:].double(), queue0[:, WRITTEN:])
    contrast = queue0[:, orders[PIXEL_SIZE][:pixel.contrast_per_class]]
    _compare(
        losses['loss_cirkd_pixel'], 0.1 * oracles.reference_cirkd_memory_kd(
            emb, ref_t['feat'], x['labels'], contrast.reshape(-1, d), IGNORE),
        ours + proj, ref + proj_ref, 'memory pixel-to-pixel')


@pytest.mark.slow
def test_cirkd_pixel_memory_holds_the_class_pixels():
    """Where ours departs from the official enqueue (a plain bug there:
    ``this_feat[:, perm[:K]]`` takes the pixels at raster positions below
    the class's pixel count, of any class; the intended ``idxs[perm]``):
    every entry ours writes for class c is a normalised teacher feature of
    a pixel labelled c."""
    distiller = config_distiller(
        CONFIG.format('cirkd_feat'),
        dict(loss_cirkd_pixel=dict(memory_size=PIXEL_SIZE)))
    pixel = distiller.distill_losses['loss_cirkd_pixel']
    x = kd_inputs(1, SIZE)
    run_config_losses(distiller, x['student'], x['teacher'], x['labels'])
    feat = F.normalize(x['teacher']['feat'].double(), dim=1)
    labels = F.interpolate(
        x['labels'][:, None].float(), SIZE, mode='nearest')[:, 0].long()
    checked = 0
    for c in range(CITYSCAPES['classes']):
        mine = feat.permute(0, 2, 3, 1)[labels == c]  # (P, D)
        for slot in range(int(pixel.ptr[c])):
            entry = pixel.queue[c, slot].double()
            assert (mine - entry).abs().max(1).values.min() < 1e-6
            checked += 1
    assert checked > 100
