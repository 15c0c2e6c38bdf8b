# Copyright (c) mmrdd contributors. All rights reserved.
"""RDD through MMRazor: task losses against a plain reference computation."""
import copy

import pytest
import torch
import torch.nn.functional as F
from _oracles import reference_gt_prob, reference_ohem_mask
from _toy_models import NUM_CLASSES, batch, rdd_cfg, segmentor_cfg
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401

CW = [0.8, 1.2, 1.0, 0.5, 2.0]


def build(**kwargs):
    torch.manual_seed(0)
    model = MODELS.build(rdd_cfg(**kwargs))
    model.train()
    return model


def sharpen(model, teacher=40.0, student=15.0):
    """Scale the classifiers so q spreads over (0, 1) and OHEM has work."""
    with torch.no_grad():
        for net, k in ((model.teacher, teacher), (model.student, student)):
            for head in (net.decode_head, net.auxiliary_head):
                head.conv_seg.weight.mul_(k)
                head.conv_seg.bias.normal_(0, 2)


def student_logits(model):
    """Recorded student logits (decode, aux), resized to the label size."""
    get = model.distiller.get_record
    return (get('logits',
                from_student=True), get('aux_logits', from_student=True))


def teacher_logits(model, x):
    """Teacher logits recomputed independently, in eval mode."""
    t = copy.deepcopy(model.teacher).eval()
    with torch.no_grad():
        feats = t.extract_feat(x)
        return t.decode_head(feats), t.auxiliary_head(feats)


def up(x, size):
    return F.interpolate(x, size, mode='bilinear', align_corners=False)


def labels(samples):
    return torch.stack([s.gt_sem_seg.data[0] for s in samples])


def ref_ohem(logits, y, thresh, min_kept):
    """The reference OhemCrossEntropy2dTensor selection, with a full sort."""
    return reference_ohem_mask(
        reference_gt_prob(logits, y), y != 255, thresh, min_kept)


def ref_weighted_ce(logits, y, mask, cw=None):
    """nn.CrossEntropyLoss(weight=cw) on a target with unselected ignored."""
    target = y.clone()
    target[~mask] = 255
    if not mask.any():
        return torch.tensor(0.)
    w = None if cw is None else torch.tensor(cw)
    return F.cross_entropy(logits, target, weight=w, ignore_index=255)


@pytest.mark.parametrize('direction', ['aux_main', 'main_aux'])
def test_tfe_task_loss_matches_reference(direction):
    model = build(tfe=dict(type='RDDTFEDifficulty', direction=direction))
    model.distiller.set_stage('tfe')
    x, samples = batch(seed=1)
    losses = model.loss(x, samples)
    y = labels(samples)
    t, ta = teacher_logits(model, x)
    p, pa = F.log_softmax(t, 1), F.log_softmax(ta, 1)
    if direction == 'aux_main':
        v = (pa.exp() * (pa - p)).sum(1)
    else:
        v = (p.exp() * (p - pa)).sum(1)
    w = up(torch.exp(-v)[:, None], y.shape[-2:])[:, 0]
    s, sa = student_logits(model)
    for logits, name, lw in ((s, 'decode', 1.0), (sa, 'aux', 0.4)):
        ce = F.cross_entropy(
            up(logits, y.shape[-2:]), y, ignore_index=255, reduction='none')
        expected = lw * (w * ce).mean()  # mean over ALL pixels
        torch.testing.assert_close(
            losses[f'student.{name}.loss_ce'], expected, rtol=1e-5, atol=1e-6)
    assert 0 < float(losses['rdd/tfe_weight']) <= 1


def tse_step(**tse):
    """One TSE step of the sharpened tiny models on a fixed batch.

    Returns:
        tuple: The model, its losses, the labels and, per student head,
        (student logits, teacher logits) at the label size, the head's name
        in the losses and its loss weight.
    """
    model = build(tse=dict(type='RDDTSEDifficulty', **tse))
    sharpen(model)
    model.distiller.set_stage('tse')
    x, samples = batch(n=2, size=(32, 40), seed=2)
    losses = model.loss(x, samples)
    y = labels(samples)
    t, ta = teacher_logits(model, x)
    s, sa = student_logits(model)
    size = y.shape[-2:]
    heads = [(up(sl, size), up(tl, size), name, lw)
             for sl, tl, name, lw in ((s, t, 'decode', 1.0), (sa, ta, 'aux',
                                                              0.4))]
    return model, losses, y, heads


@pytest.mark.parametrize('mode', ['xor', 'or', 'and', 'student'])
@pytest.mark.parametrize('class_weight', [None, CW])
@pytest.mark.parametrize('min_kept', [50, 1500])
def test_tse_task_loss_matches_reference(mode, class_weight, min_kept):
    thresh = 0.7
    _, losses, y, heads = tse_step(
        thresh=thresh, min_kept=min_kept, mode=mode, class_weight=class_weight)
    for sl, tl, name, lw in heads:
        hs = ref_ohem(sl, y, thresh, min_kept)
        ht = ref_ohem(tl, y, thresh, min_kept)
        mask = dict(
            xor=hs ^ ht, student=hs, **{
                'or': hs | ht,
                'and': hs & ht
            })[mode]
        # not vacuous: the two hard sets differ and something is selected
        assert (hs != ht).any() and (hs & ht).any() and mask.any()
        expected = lw * ref_weighted_ce(sl, y, mask, class_weight)
        torch.testing.assert_close(
            losses[f'student.{name}.loss_ce'], expected, rtol=1e-5, atol=1e-6)


def test_tse_min_class_share_task_loss_matches_reference():
    """Our option: XOR plus the pixels hard for both of each class of which
    XOR keeps less than min_class_share (per head, over the batch)."""
    share, thresh, min_kept = 0.2, 0.7, 50
    _, losses, y, heads = tse_step(
        thresh=thresh, min_kept=min_kept, min_class_share=share)
    for sl, tl, name, lw in heads:
        hs = ref_ohem(sl, y, thresh, min_kept)
        ht = ref_ohem(tl, y, thresh, min_kept)
        xor = hs ^ ht
        starved = [
            c for c in range(NUM_CLASSES)
            if (xor & (y == c)).sum() < share * (y == c).sum()
        ]
        mask = xor.clone()
        for c in starved:
            mask |= hs & ht & (y == c)
        # not vacuous: some classes starved, others not, the mask grew
        assert 0 < len(starved) < NUM_CLASSES and (mask != xor).any()
        expected = lw * ref_weighted_ce(sl, y, mask)
        torch.testing.assert_close(
            losses[f'student.{name}.loss_ce'], expected, rtol=1e-5, atol=1e-6)


def test_tse_counts_what_it_keeps_of_each_class():
    """The main head's per-class counts of one step, against the reference
    selection."""
    thresh, min_kept = 0.7, 50
    model, _, y, heads = tse_step(thresh=thresh, min_kept=min_kept)
    steps, counts = model.distiller.pop_class_counts()
    s, t, _, _ = heads[0]
    hs = ref_ohem(s, y, thresh, min_kept)
    ht = ref_ohem(t, y, thresh, min_kept)
    rows = dict(
        valid=y != 255, kept=hs ^ ht, hard_student=hs, hard_both=hs & ht)
    assert steps == 1 and list(counts) == list(rows)
    for key, mask in rows.items():
        assert counts[key].tolist() == [
            int((mask & (y == c)).sum()) for c in range(NUM_CLASSES)
        ], key
    assert counts['kept'].sum() > 0 and counts['hard_both'].sum() > 0


def test_tse_respects_student_loss_class_weight():
    """RDD's weights compose with the student's own CE class weights.

    MMSeg 1.2.2's CrossEntropyLoss with class_weight raises on ignored
    labels, hence a batch without them.
    """
    student = segmentor_cfg(base=4, class_weight=CW)
    model = build(
        student=student,
        tse=dict(type='RDDTSEDifficulty', min_kept=200, mode='student'))
    model.distiller.set_stage('tse')
    x, samples = batch(seed=3, ignore_frac=0)
    losses = model.loss(x, samples)
    y = labels(samples)
    s, _ = student_logits(model)
    mask = ref_ohem(up(s, y.shape[-2:]), y, 0.7, 200)
    expected = ref_weighted_ce(up(s, y.shape[-2:]), y, mask, CW)
    torch.testing.assert_close(
        losses['student.decode.loss_ce'], expected, rtol=1e-5, atol=1e-6)


def test_tse_all_pixels_hard_for_both_gives_exact_zero():
    """min_kept above the valid count: both sets are all valid, XOR empty."""
    model = build(tse=dict(type='RDDTSEDifficulty', min_kept=10**6))
    model.distiller.set_stage('tse')
    x, samples = batch(seed=4)
    losses = model.loss(x, samples)
    total = sum(v for k, v in losses.items() if 'loss_ce' in k)
    assert float(total) == 0.0
    total.backward()
    grads = [p.grad for p in model.student.parameters() if p.grad is not None]
    assert all(torch.isfinite(g).all() and not g.any() for g in grads)


def test_all_ignored_batch_gives_zero_not_nan():
    model = build(tse=dict(type='RDDTSEDifficulty', min_kept=10))
    x, samples = batch(seed=5, ignore_frac=1.1)
    for stage in ('tfe', 'tse'):
        model.distiller.set_stage(stage)
        losses = model.loss(x, samples)
        for k, v in losses.items():
            assert torch.isfinite(v).all(), k
        assert float(losses['student.decode.loss_ce']) == 0.0


def test_teacher_frozen_eval_and_without_gradient():
    model = build()
    model.distiller.set_stage('tfe')
    model.train()
    assert not model.teacher.training
    assert all(not m.training for m in model.teacher.modules())
    assert model.student.training
    x, samples = batch(seed=6)
    before = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    losses = model.loss(x, samples)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.student.parameters())
    for k, v in model.teacher.state_dict().items():  # BN stats untouched
        torch.testing.assert_close(v, before[k])


def test_teacher_logits_are_deterministic_no_dropout():
    model = build()
    x, _ = batch(seed=7)
    a = {k: o.clone() for k, o in model.teacher_forward(x).items()}
    b = model.teacher_forward(x)
    assert set(a) == set(b) == {'decode_head', 'auxiliary_head'}
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_kd_loss_is_per_pixel_mean_of_teacher_student_kl():
    model = build()
    model.distiller.set_stage('tfe')
    x, samples = batch(seed=8)
    losses = model.loss(x, samples)
    t, _ = teacher_logits(model, x)
    s, _ = student_logits(model)
    pt = F.log_softmax(t, 1)
    kl = (pt.exp() * (pt - F.log_softmax(s, 1))).sum(1).mean()
    torch.testing.assert_close(
        losses['distill.loss_kl'], kl, rtol=1e-5, atol=1e-7)


def test_weighted_kd_uses_difficulty_map():
    model = build(
        distill_losses=dict(loss_kl=dict(type='WeightedKLDivergence')),
        weighted_losses=['loss_kl'])
    model.distiller.set_stage('tfe')
    x, samples = batch(seed=9)
    losses = model.loss(x, samples)
    t, ta = teacher_logits(model, x)
    s, _ = student_logits(model)
    p, pa = F.log_softmax(t, 1), F.log_softmax(ta, 1)
    w = torch.exp(-(pa.exp() * (pa - p)).sum(1))
    kl = (p.exp() * (p - F.log_softmax(s, 1))).sum(1)
    torch.testing.assert_close(
        losses['distill.loss_kl'], (w * kl).mean(), rtol=1e-5, atol=1e-7)


def test_stage_must_be_set():
    model = build()
    x, samples = batch()
    with pytest.raises(RuntimeError, match='RDDStageHook'):
        model.loss(x, samples)


def test_student_head_with_sampler_is_rejected():
    student = segmentor_cfg(
        base=4,
        sampler=dict(type='OHEMPixelSampler', thresh=0.7, min_kept=100))
    with pytest.raises(ValueError, match='already has a pixel sampler'):
        build(student=student)


def test_class_count_mismatch_is_rejected():
    with pytest.raises(ValueError, match='same label set'):
        build(teacher=segmentor_cfg(base=8, num_classes=NUM_CLASSES + 1))


def test_teacher_without_aux_head():
    with pytest.raises(ValueError, match='auxiliary head'):
        build(
            teacher=segmentor_cfg(base=8, aux=False),
            student=segmentor_cfg(base=4, aux=False))
    model = build(
        teacher=segmentor_cfg(base=8, aux=False),
        student=segmentor_cfg(base=4, aux=False),
        switch_iter=0)
    model.distiller.set_stage('tse')  # TSE alone works
    x, samples = batch()
    losses = model.loss(x, samples)
    assert torch.isfinite(losses['student.decode.loss_ce'])


def test_teacher_nan_is_an_error():
    model = build()
    model.distiller.set_stage('tfe')
    with torch.no_grad():
        model.teacher.decode_head.conv_seg.bias.fill_(float('nan'))
    x, samples = batch()
    with pytest.raises(FloatingPointError, match='NaN/Inf'):
        model.loss(x, samples)


@pytest.mark.parametrize('bad', [
    dict(tse=dict(type='RDDTSEDifficulty', mode='xand')),
    dict(tse=dict(type='RDDTSEDifficulty', thresh=1.0)),
    dict(tse=dict(type='RDDTSEDifficulty', thresh=0)),
    dict(tse=dict(type='RDDTSEDifficulty', min_kept=0)),
    dict(tfe=dict(type='RDDTFEDifficulty', direction='both')),
    dict(weighted_losses=['loss_nope']),
])
def test_bad_arguments_raise(bad):
    with pytest.raises(ValueError):
        build(**bad)


def test_tse_class_weight_length_is_checked():
    with pytest.raises(ValueError, match='class_weight has 2 entries'):
        build(tse=dict(type='RDDTSEDifficulty', class_weight=[1.0, 2.0]))
