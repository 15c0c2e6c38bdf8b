# Copyright (c) mmrdd contributors. All rights reserved.
"""CandidatePicker inside FrozenTeacherDistill: the kept candidates
are exactly the top-B by an independently computed criterion, and images,
label maps, the teacher records the distillation losses read and RDD's
record stay aligned; no recorder is rewritten."""
import pytest
import torch
from _toy_models import batch, rdd_cfg
from mmrazor.registry import MODELS as RAZOR_MODELS
from mmrazor.registry import TASK_UTILS

import mmrdd  # noqa: F401
from mmrdd.models import CandidatePicker
from mmrdd.models.utils import read_record

POOL, N = 3, 2


def picker_cfg(criterion, seed=7):
    return dict(
        type='CandidatePicker',
        pool=POOL,
        criterion=criterion,
        augments=dict(type='SegCutMix', prob=1.0, seed=seed))


def build(criterion):
    cfg = rdd_cfg()
    # record both teacher heads, so that every record must be cut
    cfg['distiller']['teacher_recorders']['aux_logits'] = dict(
        type='ModuleOutputs', source='auxiliary_head.conv_seg')
    cfg['picker'] = picker_cfg(criterion)
    torch.manual_seed(0)
    model = RAZOR_MODELS.build(cfg)
    model.train()
    return model


def reference(model, criterion, inputs, samples):
    """Candidates, teacher logits and scores computed without the picker's
    scoring code: the same seeded draws, plain softmax formulas."""
    images, cands = TASK_UTILS.build(picker_cfg(criterion)).candidates(
        inputs, samples)
    t = model.teacher
    with torch.no_grad():
        feats = t.extract_feat(images)
        main = t.decode_head(feats)
        aux = t.auxiliary_head(feats)
        p_t = torch.softmax(main, 1)
        if criterion == 'entropy':
            per_pixel = -(p_t * torch.log(p_t)).sum(1)
        else:
            s = model.student
            s.eval()
            s_logits = s.decode_head(s.extract_feat(images))
            s.train()
            p_s = torch.softmax(s_logits, 1)
            per_pixel = (p_t * (torch.log(p_t) - torch.log(p_s))).sum(1)
    scores = per_pixel.mean(dim=(1, 2))
    order = sorted(range(len(cands)), key=lambda i: -scores[i].item())
    return images, cands, main, aux, sorted(order[:N]), scores


@pytest.mark.parametrize('criterion', ['entropy', 'kl'])
@pytest.mark.parametrize('stage', ['tfe', 'tse'])
def test_keeps_the_top_b_and_stays_aligned(criterion, stage):
    model = build(criterion)
    model.distiller.set_stage(stage)
    inputs, samples = batch(n=N)
    images, cands, main, aux, keep, scores = reference(model, criterion,
                                                       inputs, samples)
    assert len(cands) == POOL * N and len(set(scores.tolist())) == POOL * N
    assert keep != list(range(N))  # seeded: not simply the first draw
    seen = {}
    student_loss = model.student.loss

    def spy_loss(x, ds):
        seen['inputs'], seen['labels'] = x, [s.gt_sem_seg.data for s in ds]
        return student_loss(x, ds)

    step_record = model.distiller.step_record

    def spy_record(teacher_logits, *args, **kwargs):
        seen['record'] = dict(teacher_logits)
        return step_record(teacher_logits, *args, **kwargs)

    distill = model.step.compute_distill_losses

    def spy_distill(record, rows):
        seen['rows'] = rows
        return distill(record, rows)

    model.student.loss = spy_loss
    model.distiller.step_record = spy_record
    model.step.compute_distill_losses = spy_distill
    losses = model.loss(inputs, samples)
    assert all(torch.isfinite(v).all() for v in losses.values())
    # the student trained on exactly the top-B candidates, with their labels
    assert torch.equal(seen['inputs'], images[keep])
    for got, i in zip(seen['labels'], keep):
        assert torch.equal(got, cands[i].gt_sem_seg.data)
    # the teacher ran once, on all candidates, and its records keep them
    dist = model.distiller
    assert all(
        len(r.data_buffer) == 1
        for r in dist.teacher_recorders.recorders.values())
    torch.testing.assert_close(
        dist.get_record('logits', from_student=False), main)
    # the distillation losses read the kept rows, RDD's record has them
    rows = seen['rows']
    assert rows.index.tolist() == keep and rows.num == POOL * N
    torch.testing.assert_close(
        read_record(dist, 'logits', False, rows=rows), main[keep])
    torch.testing.assert_close(
        read_record(dist, 'aux_logits', False, rows=rows), aux[keep])
    torch.testing.assert_close(seen['record']['decode_head'], main[keep])
    torch.testing.assert_close(seen['record']['auxiliary_head'], aux[keep])
    kd = dist.distill_losses['loss_kl'](
        preds_S=dist.get_record('logits', from_student=True),
        preds_T=main[keep])
    torch.testing.assert_close(losses['distill.loss_kl'], kd)


def test_arguments_are_checked_once():
    with pytest.raises(ValueError, match='pool'):
        CandidatePicker(pool=1)
    with pytest.raises(ValueError, match='criterion'):
        CandidatePicker(criterion='dissimilarity')
    with pytest.raises(ValueError, match='tau'):
        CandidatePicker(tau=0)
    with pytest.raises(ValueError, match='mixup'):
        CandidatePicker(augments=dict(type='SegMixup'))


def test_off_by_default():
    torch.manual_seed(0)
    model = RAZOR_MODELS.build(rdd_cfg())
    assert model.picker is None


def test_picking_refuses_a_mixup_preprocessor():
    cfg = rdd_cfg()
    cfg['picker'] = picker_cfg('entropy')
    cfg['data_preprocessor'] = dict(
        type='mmseg.BatchAugSegDataPreProcessor',
        mean=[0., 0., 0.],
        std=[1., 1., 1.],
        batch_augments=[dict(type='SegMixup')])
    with pytest.raises(ValueError, match='mixup'):
        RAZOR_MODELS.build(cfg)


def test_picking_refuses_deliveries():
    """MMRazor's deliveries would replay every candidate's teacher output
    into the student's pass of the kept ones: an error that names the fix.
    """
    cfg = rdd_cfg()
    cfg['picker'] = picker_cfg('entropy')
    cfg['distiller']['distill_deliveries'] = dict(
        resize=dict(
            type='FunctionOutputs',
            max_keep_data=1,
            func_path='mmseg.models.utils.wrappers.resize'))
    with pytest.raises(ValueError, match="remove the distiller's deliveries"):
        RAZOR_MODELS.build(cfg)


def test_picking_with_a_plain_distiller():
    """Without RDD (MMRazor's ConfigurableDistiller) the pick uses the
    teacher's prediction head; the KD loss reads the kept candidates'
    teacher logits."""
    cfg = rdd_cfg()
    cfg['distiller']['type'] = 'ConfigurableDistiller'
    cfg['distiller']['distill_losses']['loss_kl']['type'] = \
        'WeightedKLDivergence'
    cfg['picker'] = picker_cfg('entropy')
    torch.manual_seed(0)
    model = RAZOR_MODELS.build(cfg)
    model.train()
    inputs, samples = batch(n=N)
    images, _, main, _, keep, _ = reference(model, 'entropy', inputs, samples)
    losses = model.loss(inputs, samples)
    dist = model.distiller
    kd = dist.distill_losses['loss_kl'](
        preds_S=dist.get_record('logits', from_student=True),
        preds_T=main[keep])
    torch.testing.assert_close(losses['distill.loss_kl'], kd)
