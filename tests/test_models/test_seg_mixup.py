# Copyright (c) mmrdd contributors. All rights reserved.
"""SegMixup and MixedLabelLoss: the blend, both label maps, and the
task loss as the mixing-weighted sum of the losses on the two maps."""
import copy

import pytest
import torch
import torch.nn.functional as F
from _toy_models import augmented_rdd, batch, segmentor_cfg
from mmseg.registry import MODELS

import mmrdd  # noqa: F401
from mmrdd.functional.mixup import mixup_params
from mmrdd.models import MixedLabelLoss, SegMixup

N = 3


def mixer(**kwargs):
    aug = SegMixup(**kwargs)
    aug.enable_label_maps()
    return aug


def test_blend_and_label_maps_match_a_plain_computation():
    inputs, samples = batch(n=4)
    labels = [s.gt_sem_seg.data.clone() for s in samples]
    mixed, out = mixer(prob=1.0, seed=3)(inputs.clone(), samples)
    params = mixup_params(4, 1.0, 1.0, torch.Generator().manual_seed(3))
    lam, partner = params.lam, params.partner.tolist()
    assert 0 < lam < 1 and all(j != i for i, j in enumerate(partner))
    for i, j in enumerate(partner):
        torch.testing.assert_close(mixed[i],
                                   lam * inputs[i] + (1 - lam) * inputs[j])
        assert torch.equal(out[i].gt_sem_seg.data, labels[i])
        assert torch.equal(out[i].gt_sem_seg_mix.data, labels[j])
        assert out[i].metainfo['mix_lambda'] == lam


def test_unmixed_samples_stay_exact_and_arguments_are_checked():
    inputs, samples = batch(n=4)
    mixed, out = mixer(prob=0.0, seed=0)(inputs, samples)
    assert torch.equal(mixed, inputs)
    assert all(
        torch.equal(s.gt_sem_seg_mix.data, s.gt_sem_seg.data) for s in out)
    with pytest.raises(ValueError, match='already mixed'):
        mixer()(inputs, out)
    with pytest.raises(RuntimeError, match='FrozenTeacherDistill'):
        SegMixup()(*batch(n=2))
    for bad in (dict(prob=1.5), dict(alpha=0), dict(seed=1.5)):
        with pytest.raises((ValueError, TypeError)):
            SegMixup(**bad)


def test_task_loss_is_the_weighted_sum_of_the_two_ces():
    """A plain MMSeg student and the mixed-label loss: loss = lam*CE(y) +
    (1-lam)*CE(y'), CE a mean over all pixels (ignored ones count 0)."""
    torch.manual_seed(0)
    student = MODELS.build(segmentor_cfg(base=4))
    mix = MixedLabelLoss(student)
    assert list(mix.heads) == ['decode_head', 'auxiliary_head']
    student.eval()  # no dropout, fixed BN: the reference sees the same
    inputs, samples = batch(n=N)
    x, samples = mixer(prob=1.0, seed=1)(inputs, samples)
    lam = samples[0].metainfo['mix_lambda']
    assert MixedLabelLoss.is_mixed(samples)
    with mix.recorders:
        own = student.loss(x, samples)
    losses = mix(own, samples)
    with torch.no_grad():
        feats = student.extract_feat(x)
    for name, head, weight in (('decode', student.decode_head, 1.0),
                               ('aux', student.auxiliary_head, 0.4)):
        with torch.no_grad():
            logit = F.interpolate(
                head(feats),
                size=x.shape[-2:],
                mode='bilinear',
                align_corners=False)
        y1 = torch.stack([s.gt_sem_seg.data[0] for s in samples])
        y2 = torch.stack([s.gt_sem_seg_mix.data[0] for s in samples])
        ce = [
            F.cross_entropy(logit, y, ignore_index=255,
                            reduction='none').mean() for y in (y1, y2)
        ]
        assert not torch.equal(y1, y2)
        torch.testing.assert_close(losses[f'{name}.loss_ce'].detach(),
                                   weight * (lam * ce[0] + (1 - lam) * ce[1]))
    # a batch without the second map is not mixed, and the recorders
    # change nothing of the student's own loss
    plain = MODELS.build(segmentor_cfg(base=4))
    plain.load_state_dict(student.state_dict())
    plain.eval()
    _, unmixed = batch(n=N)
    assert not MixedLabelLoss.is_mixed(unmixed)
    ref = plain.loss(x, copy.deepcopy(unmixed))
    with mix.recorders:
        got = student.loss(x, unmixed)
    for k in ref:
        torch.testing.assert_close(got[k], ref[k])


@pytest.mark.parametrize('stage', ['tfe', 'tse'])
def test_rdd_weights_apply_to_each_label_map(stage):
    """In RDD: mixed loss = lam * RDD loss on y + (1-lam) * RDD loss on y',
    each computed by the same algorithm on a one-map batch; the logged
    statistics are those of the own maps y."""
    model = augmented_rdd(
        dict(type='SegMixup', prob=1.0, seed=2),
        stage,
        tse=dict(type='RDDTSEDifficulty', thresh=0.2, min_kept=1))
    inputs, samples = batch(n=N)
    data = model.data_preprocessor(
        dict(inputs=list(inputs), data_samples=samples), training=True)
    x, mixed = data['inputs'], data['data_samples']
    lam = mixed[0].metainfo['mix_lambda']

    def one_map(key):
        out = copy.deepcopy(mixed)
        for s in out:
            s.gt_sem_seg = s.get(key)
            del s.gt_sem_seg_mix
        return out

    def run(ds):
        torch.manual_seed(5)  # the same dropout masks in every call
        return model.loss(x, ds)

    got, own, other = run(mixed), run(one_map('gt_sem_seg')), run(
        one_map('gt_sem_seg_mix'))
    for key in ('student.decode.loss_ce', 'student.aux.loss_ce'):
        torch.testing.assert_close(got[key],
                                   lam * own[key] + (1 - lam) * other[key])
        assert not torch.allclose(own[key], other[key])
    for key in got:
        if key.startswith('rdd/'):
            torch.testing.assert_close(got[key], own[key])
    torch.testing.assert_close(got['distill.loss_kl'], own['distill.loss_kl'])
