# Copyright (c) mmrdd contributors. All rights reserved.
"""RDD on pairs other than the paper's: teachers without an auxiliary head
(flip-TFE), cascade teachers, several auxiliary heads, students without one,
logits of different sizes and explicit head pairs -- each against a plain
reference computation."""
import copy

import pytest
import torch
import torch.nn.functional as F
from _toy_models import (batch, fcn_head_cfg, head_cfg, rdd_cfg, segmentor_cfg,
                         sharpen, stride4_segmentor_cfg)
from mmrazor.registry import MODELS
from test_rdd_distill import labels, ref_ohem, ref_weighted_ce, up

import mmrdd  # noqa: F401


def build(**kwargs):
    torch.manual_seed(0)
    model = MODELS.build(rdd_cfg(**kwargs))
    model.train()
    return model


def kl_map(p_logits, q_logits):
    """KL(P(p) || P(q)) per pixel."""
    lp, lq = F.log_softmax(p_logits, 1), F.log_softmax(q_logits, 1)
    return (lp.exp() * (lp - lq)).sum(1)


def ce(logits, y):
    return F.cross_entropy(
        up(logits, y.shape[-2:]), y, ignore_index=255, reduction='none')


def student_heads(model):
    """The student's logits of the last step, as recorded (train mode)."""
    get = model.distiller.get_record
    heads = [get('logits', from_student=True)]
    if 'aux_logits' in model.distiller.student_recorders.recorders:
        heads.append(get('aux_logits', from_student=True))
    return heads


def no_dropout(model):
    for m in model.student.modules():
        if isinstance(m, torch.nn.Dropout2d):
            m.p = 0.0


def step(model, stage, seed):
    """One training step without dropout at ``stage`` on ``batch(seed)``.

    Args:
        model: The RDD algorithm.
        stage (str): ``'tfe'`` or ``'tse'``.
        seed (int): The seed of :func:`batch`.

    Returns:
        tuple: The images, the loss dict and the labels, (N, H, W).
    """
    no_dropout(model)
    model.distiller.set_stage(stage)
    x, samples = batch(seed=seed)
    return x, model.loss(x, samples), labels(samples)


CASCADE_RECORDERS = dict(
    logits=dict(type='ModuleOutputs', source='decode_head.1.conv_seg'))


def cascade_teacher(base=8):
    """A tiny CascadeEncoderDecoder: [FCNHead, OCRHead], as OCRNet."""
    cfg = segmentor_cfg(base=base, aux=False)
    cfg['type'] = 'CascadeEncoderDecoder'
    cfg['num_stages'] = 2
    loss = cfg['decode_head']['loss_decode']
    cfg['decode_head'] = [
        fcn_head_cfg(base * 8, 3, dict(loss, loss_weight=0.4)),
        head_cfg('OCRHead', base * 8, 3, loss, ocr_channels=8)
    ]
    return cfg


def test_flip_tfe_for_a_teacher_without_aux_head():
    """w = exp(-KL(P(T(flip x)) flipped back || P(T(x)))): the flipped view
    plays the auxiliary head; every student head gets the same w."""
    model = build(
        teacher=segmentor_cfg(base=8, aux=False),
        tfe=dict(type='RDDTFEDifficulty', second_view='flip'))
    sharpen(model.teacher, 40.0)
    x, losses, y = step(model, 'tfe', 11)
    t = copy.deepcopy(model.teacher).eval()
    with torch.no_grad():
        main = t.decode_head(t.extract_feat(x))
        flipped = t.decode_head(t.extract_feat(x.flip(-1))).flip(-1)
    v = kl_map(flipped, main)
    assert v.max() > 1e-3  # not vacuous: the views differ
    w = up(torch.exp(-v)[:, None], y.shape[-2:])[:, 0]
    s, sa = student_heads(model)
    for logits, name, lw in ((s, 'decode', 1.0), (sa, 'aux', 0.4)):
        expected = lw * (w * ce(logits, y)).mean()
        torch.testing.assert_close(
            losses[f'student.{name}.loss_ce'], expected, rtol=1e-5, atol=1e-6)
    valid = y != 255
    torch.testing.assert_close(losses['rdd/tfe_weight'],
                               (w * valid).sum() / valid.sum())


def test_plain_tfe_without_aux_head_names_both_fixes():
    with pytest.raises(ValueError, match=r"switch_iter=0.*second_view='flip'"):
        build(teacher=segmentor_cfg(base=8, aux=False))


def cascade_logits(model, x):
    """The two stages' logits of the cascade teacher, recomputed."""
    t = copy.deepcopy(model.teacher).eval()
    with torch.no_grad():
        feats = t.extract_feat(x)
        t0 = t.decode_head[0](feats)
        return t0, t.decode_head[1](feats, t0)


def test_cascade_teacher_tfe_uses_its_two_stages():
    """OCRNet-like teacher: the final stage is the main head, the first
    (FCN) stage the auxiliary view, the OCR stage runs on its output."""
    model = build(
        teacher=cascade_teacher(), teacher_recorders=CASCADE_RECORDERS)
    sharpen(model.teacher, 20.0)
    assert model.distiller.teacher_main == 'decode_head.1'
    assert model.distiller.teacher_aux == 'decode_head.0'
    x, losses, y = step(model, 'tfe', 12)
    t0, t1 = cascade_logits(model, x)
    w = up(torch.exp(-kl_map(t0, t1))[:, None], y.shape[-2:])[:, 0]
    s, sa = student_heads(model)
    for logits, name, lw in ((s, 'decode', 1.0), (sa, 'aux', 0.4)):
        torch.testing.assert_close(
            losses[f'student.{name}.loss_ce'],
            lw * (w * ce(logits, y)).mean(),
            rtol=1e-5,
            atol=1e-6)
    # the KD target is the teacher's prediction, the OCR stage
    kd = kl_map(t1, s).mean()
    torch.testing.assert_close(
        losses['distill.loss_kl'], kd, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('pairs', [None, {'auxiliary_head': 'decode_head.1'}])
def test_cascade_teacher_tse_pairs(pairs):
    """TSE: student decode <-> OCR stage, student aux <-> FCN stage by
    default; head_pairs overrides a pair."""
    model = build(
        teacher=cascade_teacher(),
        head_pairs=pairs,
        teacher_recorders=CASCADE_RECORDERS,
        tse=dict(type='RDDTSEDifficulty', thresh=0.7, min_kept=50))
    sharpen(model.teacher, 40.0)
    sharpen(model.student, 15.0)
    x, losses, y = step(model, 'tse', 13)
    t0, t1 = cascade_logits(model, x)
    s, sa = student_heads(model)
    aux_partner = t1 if pairs else t0
    size = y.shape[-2:]
    for sl, tl, name, lw in ((s, t1, 'decode', 1.0), (sa, aux_partner, 'aux',
                                                      0.4)):
        hs = ref_ohem(up(sl, size), y, 0.7, 50)
        ht = ref_ohem(up(tl, size), y, 0.7, 50)
        assert (hs != ht).any()
        expected = lw * ref_weighted_ce(up(sl, size), y, hs ^ ht)
        torch.testing.assert_close(
            losses[f'student.{name}.loss_ce'], expected, rtol=1e-5, atol=1e-6)


def test_several_teacher_aux_heads_and_a_student_without_aux():
    """The first auxiliary head is TFE's second view; the second one is not
    run (nothing needs it); the student's only head is weighted."""
    teacher = segmentor_cfg(base=8)
    aux = teacher['auxiliary_head']
    teacher['auxiliary_head'] = [aux, dict(aux, in_index=1, in_channels=8 * 2)]
    model = build(teacher=teacher, student=segmentor_cfg(base=4, aux=False))
    assert model.distiller.teacher_aux == 'auxiliary_head.0'
    assert model.distiller.teacher_heads == ('decode_head', 'auxiliary_head.0')
    x, losses, y = step(model, 'tfe', 14)
    assert 'student.aux.loss_ce' not in losses
    t = copy.deepcopy(model.teacher).eval()
    with torch.no_grad():
        feats = t.extract_feat(x)
        main, first = t.decode_head(feats), t.auxiliary_head[0](feats)
    w = up(torch.exp(-kl_map(first, main))[:, None], y.shape[-2:])[:, 0]
    (s, ) = student_heads(model)
    torch.testing.assert_close(
        losses['student.decode.loss_ce'], (w * ce(s, y)).mean(),
        rtol=1e-5,
        atol=1e-6)


def test_logits_of_different_sizes_kd_and_tse():
    """Teacher at 1/4, student at 1/8: pixel KD resizes the teacher to the
    student's size; TSE upsamples each to the label size."""
    model = build(
        teacher=stride4_segmentor_cfg(),
        switch_iter=0,
        tse=dict(type='RDDTSEDifficulty', min_kept=50))
    no_dropout(model)
    model.distiller.set_stage('tse')
    x, samples = batch(seed=15)
    t = copy.deepcopy(model.teacher).eval()
    with torch.no_grad():
        tl = t.decode_head(t.extract_feat(x))
    losses = model.loss(x, samples)
    s, sa = student_heads(model)
    assert tl.shape[-2:] == (2 * s.shape[-2], 2 * s.shape[-1])
    kd = kl_map(up(tl, s.shape[-2:]), s).mean()
    torch.testing.assert_close(
        losses['distill.loss_kl'], kd, rtol=1e-5, atol=1e-7)
    y = labels(samples)
    size = y.shape[-2:]
    hs = ref_ohem(up(s, size), y, 0.7, 50)
    ht = ref_ohem(up(tl, size), y, 0.7, 50)
    torch.testing.assert_close(
        losses['student.decode.loss_ce'],
        ref_weighted_ce(up(s, size), y, hs ^ ht),
        rtol=1e-5,
        atol=1e-6)


@pytest.mark.parametrize('bad, message', [
    (dict(head_pairs={'auxiliary_head': 'auxiliary_head.3'}), 'head_pairs'),
    (dict(head_pairs={'neck': 'decode_head'}), 'head_pairs'),
    (dict(teacher_main='decode_head.2'), 'teacher_main'),
    (dict(teacher_aux='auxiliary_head.1'), 'teacher_aux'),
])
def test_bad_head_names_are_rejected(bad, message):
    with pytest.raises(ValueError, match=message):
        build(**bad)


def test_tfe_needs_two_different_teacher_views():
    with pytest.raises(ValueError, match='both .decode_head.'):
        build(teacher_aux='decode_head')


def test_heads_without_conv_seg_are_refused():
    """E.g. PointRend's PointHead: no dense logits to weight or compare."""
    model_cfg = rdd_cfg()
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    del model.student.auxiliary_head.conv_seg
    from mmrdd.models.utils import check_heads
    with pytest.raises(
            ValueError, match=r'auxiliary_head \(FCNHead\) has '
            'no conv_seg'):
        check_heads({'auxiliary_head': model.student.auxiliary_head},
                    'student')
