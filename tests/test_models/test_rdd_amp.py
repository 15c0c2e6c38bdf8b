# Copyright (c) mmrdd contributors. All rights reserved.
"""RDD under CPU mixed precision (bfloat16 autocast), as ``--amp`` runs it.

Under autocast the teacher's and the student's logits are bfloat16; RDD's
difficulty maps, pixel weights and losses must still be float32
computations, and the losses must match the float32 run within bfloat16's
precision.
"""
import pytest
import torch
from _toy_models import batch, rdd_cfg
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401
from mmrdd.runtime import CPUAmpOptimWrapper

# bfloat16 keeps 8 significant bits (relative spacing 2**-8 ~ 0.4%); a few
# layers of the tiny models compound it to ~1% on these losses.
LOSS_RTOL, LOSS_ATOL = 2e-2, 1e-3
# TSE selections may flip for pixels whose q lies within rounding of the
# threshold: fractions of the valid pixels may move by this much.
STAT_ATOL = 2e-2


def build(**kwargs):
    torch.manual_seed(0)
    model = MODELS.build(rdd_cfg(**kwargs))
    model.train()
    with torch.no_grad():  # sharpen, so that q spreads over (0, 1)
        for net, k in ((model.teacher, 40.0), (model.student, 15.0)):
            for head in (net.decode_head, net.auxiliary_head):
                head.conv_seg.weight.mul_(k)
                head.conv_seg.bias.normal_(0, 2)
    for head in (model.student.decode_head, model.student.auxiliary_head):
        head.dropout.p = 0.0  # same forward in both precisions
    return model


def amp_wrapper(model):
    return OPTIM_WRAPPERS.build(
        dict(
            type='CPUAmpOptimWrapper',
            optimizer=torch.optim.SGD(model.student.parameters(), lr=0.01)))


class Spy:
    """Wrap a callable; keep its last arguments and result."""

    def __init__(self, fn):
        self.fn, self.args, self.out = fn, None, None

    def __getattr__(self, name):  # e.g. RDDTSEDifficulty.mode
        return getattr(self.fn, name)

    def __call__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.out = self.fn(*args, **kwargs)
        return self.out


@pytest.mark.parametrize('stage', ['tfe', 'tse'])
def test_bf16_losses_match_float32(stage):
    model = build(tse=dict(type='RDDTSEDifficulty', min_kept=50))
    model.distiller.set_stage(stage)
    x, samples = batch(n=2, size=(32, 40), seed=2)
    ref = model.loss(x, samples)
    ref_stats = {k: v for k, v in ref.items() if k.startswith('rdd/')}
    with amp_wrapper(model).optim_context(model):
        amp = model.loss(x, samples)
        # not vacuous: the networks really ran in bfloat16
        for from_student in (True, False):
            assert model.distiller.get_record(
                'logits', from_student=from_student).dtype == torch.bfloat16
    amp_stats = {k: v for k, v in amp.items() if k.startswith('rdd/')}
    assert len(ref_stats) == (2 if stage == 'tfe' else 4)
    assert ref.keys() == amp.keys()
    for key in ref:
        if 'loss' not in key:
            continue
        assert amp[key].dtype == torch.float32, key
        assert torch.isfinite(amp[key]), key
        torch.testing.assert_close(
            amp[key], ref[key], rtol=LOSS_RTOL, atol=LOSS_ATOL, msg=key)
    for key, value in ref_stats.items():
        assert amp_stats[key].dtype == torch.float32
        assert abs(float(amp_stats[key]) - float(value)) <= STAT_ATOL, key
    if stage == 'tse':
        assert 0 < float(ref_stats['rdd/tse_selected']) < 1


@pytest.mark.parametrize('stage', ['tfe', 'tse'])
def test_masks_and_losses_are_float32_computations_under_autocast(stage):
    """Given the bf16 logits they received, RDD's difficulty estimators, the
    pixel weights and the KD loss give exactly what they give on float32
    copies outside autocast: nothing inside them runs in bfloat16."""
    model = build(
        tse=dict(type='RDDTSEDifficulty', min_kept=50),
        distill_losses=dict(loss_kl=dict(type='WeightedKLDivergence')),
        weighted_losses=['loss_kl'])
    model.distiller.set_stage(stage)
    dist = model.distiller
    # TFE's work is teacher-only (prepare, once per step); TSE's per head
    # (forward, called by each head's sampler)
    estimator = dist.tfe if stage == 'tfe' else dist.tse
    name = 'prepare' if stage == 'tfe' else 'forward'
    difficulty = Spy(getattr(estimator, name))
    setattr(estimator, name, difficulty)
    sampler = dist.samplers['decode_head']
    weights = Spy(sampler.sample)
    sampler.sample = weights
    kl = Spy(dist.distill_losses['loss_kl'].forward)
    dist.distill_losses['loss_kl'].forward = kl
    x, samples = batch(n=2, size=(32, 40), seed=2)
    with amp_wrapper(model).optim_context(model):
        model.loss(x, samples)
    assert weights.out.dtype == torch.float32

    # the last call (the auxiliary head's in TSE) got bfloat16 logits (TFE:
    # the teacher's logits by head name)
    def tensors(a):
        return [t for v in a.values() for t in tensors(v)] if isinstance(
            a, dict) else [a] if torch.is_tensor(a) else []

    def upcast(a):
        if isinstance(a, dict):
            return {k: upcast(v) for k, v in a.items()}
        return a.float() if torch.is_tensor(a) and a.is_floating_point() \
            else a

    assert any(t.dtype == torch.bfloat16 for a in difficulty.args
               for t in tensors(a))
    expected = difficulty.fn(*map(upcast, difficulty.args))  # float32
    if stage == 'tfe':
        pairs = [(expected[k], difficulty.out[k]) for k in expected]
    else:
        pairs = list(zip(expected[:2], difficulty.out[:2])) + [
            (expected.stats[k], difficulty.out.stats[k])
            for k in expected.stats
        ]
    assert pairs
    for e, g in pairs:
        assert g.dtype in (torch.float32, torch.bool)
        assert torch.equal(e, g)
    if stage == 'tse':  # not vacuous: a partial selection
        mask = difficulty.out.distill_map
        assert mask.any() and not mask.all()
    kwargs = {
        k: (v.float() if v.is_floating_point() else v)
        for k, v in kl.kwargs.items()
    }
    assert kl.kwargs['preds_S'].dtype == torch.bfloat16
    assert torch.equal(kl.fn(**kwargs), kl.out)
    assert kl.out.dtype == torch.float32


def test_cpu_amp_wrapper_rejects_float16_and_uses_bf16_autocast():
    model = torch.nn.Linear(4, 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match='bfloat16 only'):
        CPUAmpOptimWrapper(optimizer=optimizer, dtype='float16')
    wrapper = CPUAmpOptimWrapper(optimizer=optimizer, dtype='bfloat16')
    assert isinstance(wrapper, OptimWrapper)
    with wrapper.optim_context(model):
        out = model(torch.randn(2, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().square().mean())
    assert model.weight.dtype == torch.float32
