# Copyright (c) mmrdd contributors. All rights reserved.
"""CIRKD's memories in checkpoints: saved by default (a resume continues
with the same memory, bit-exactly), or left out with
``persistent_memory=False`` (small checkpoints; a resumed run starts with a
fresh memory, differs until the memory is refilled)."""
import os.path as osp

import pytest
import torch
from _cirkd import memory_loss_cfg
from mmengine.config import Config
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401  (registers the losses)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY_CIRKD = osp.join(
    ROOT, 'configs', 'rdd', 'rdd+cirkd_feat_deeplabv3_toy-r50_'
    'deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py')


def _batch(step):
    """Two images, every one of the 3 classes in each (so one step writes
    every region slot of a 2-entry memory), a few ignored pixels."""
    g = torch.Generator().manual_seed(100 + step)
    s = torch.randn(2, 4, 3, 4, generator=g)
    t = torch.randn(2, 4, 3, 4, generator=g)
    labels = torch.tensor([[[0, 0, 1, 1], [2, 2, 255, 1], [0, 1, 2, 0]],
                           [[2, 1, 0, 0], [1, 255, 2, 2], [0, 0, 1, 1]]])
    return s, t, labels


def _step(loss, step):
    """One step; the draws (enqueued pixels, contrast slots) seeded."""
    torch.manual_seed(step)
    return loss(*_batch(step)).item()


def _losses(persistent, memory='region', **kwargs):
    # by default 3 // 3 + 1 = 2 contrast entries per class: the whole memory
    kwargs = dict(dict(memory_size=2, contrast_size=3), **kwargs)
    cfg = memory_loss_cfg(
        memory=memory, persistent_memory=persistent, **kwargs)
    torch.manual_seed(0)
    first = MODELS.build(cfg)
    torch.manual_seed(1)  # a fresh build: another random memory
    return first, MODELS.build(cfg)


@pytest.mark.parametrize('memory', ['pixel', 'region'])
def test_saved_memory_resumes_exactly(memory):
    run, resumed = _losses(True, memory, pixels_per_class=1)
    for step in range(3):
        _step(run, step)
    state = run.state_dict()
    assert set(state) == {'queue', 'ptr'}
    assert not torch.equal(resumed.queue, run.queue)
    resumed.load_state_dict(state)  # strict: every key
    for step in range(3, 6):
        assert _step(resumed, step) == _step(run, step)
        assert torch.equal(resumed.queue, run.queue)
        assert torch.equal(resumed.ptr, run.ptr)


def test_unsaved_memory_restarts_and_refills():
    """``persistent_memory=False``: nothing of the memory in the state
    dict; after a resume the memory is the fresh build's (pointers at 0)
    and the losses agree with the uninterrupted run's once the memory is
    refilled: at once where a step writes every slot before the contrast is
    drawn (and the contrast is the whole memory); a larger memory keeps
    random entries and the resumed run differs."""
    run, resumed = _losses(False)
    for step in range(3):
        _step(run, step)
    state = run.state_dict()
    assert state == {}
    resumed.load_state_dict(state)
    assert int(resumed.ptr.sum()) == 0
    assert not torch.equal(resumed.queue, run.queue)
    # this batch's regions fill both memories before the contrast is drawn
    assert _step(resumed, 3) == pytest.approx(_step(run, 3), rel=1e-6)
    for step in range(4, 6):
        assert _step(resumed, step) == pytest.approx(
            _step(run, step), rel=1e-6)
    # with a memory that one step cannot refill, the resumed run differs
    run, resumed = _losses(False, memory_size=4, contrast_size=9)
    for step in range(3):
        _step(run, step)
    resumed.load_state_dict(run.state_dict())
    assert _step(resumed, 3) != pytest.approx(_step(run, 3), rel=1e-3)


def test_option_is_checked_and_saved_by_default():
    loss = MODELS.build(memory_loss_cfg())
    assert loss.persistent_memory is True
    assert set(loss.state_dict()) == {'queue', 'ptr'}
    with pytest.raises(TypeError, match='persistent_memory must be True'):
        MODELS.build(memory_loss_cfg(persistent_memory='no'))


def test_toy_config_option_leaves_the_memories_out_of_the_checkpoint():
    """The config option that keeps checkpoints small (the same keys, on
    the Cityscapes config, take 0.80 GiB): the model's state dict, what a
    checkpoint holds, loses exactly the memories."""
    from mmengine.registry import DefaultScope
    cfg = Config.fromfile(TOY_CIRKD)
    model_cfg = dict(cfg.model.to_dict(), teacher_ckpt=None)
    with DefaultScope.overwrite_default_scope('mmseg'):
        saved = MODELS.build(model_cfg).state_dict()
        for name in ('loss_cirkd_pixel', 'loss_cirkd_region'):
            model_cfg['distiller']['distill_losses'][name][
                'persistent_memory'] = False
        small = MODELS.build(model_cfg).state_dict()
    memories = {
        f'distiller.distill_losses.{name}.{buf}'
        for name in ('loss_cirkd_pixel', 'loss_cirkd_region')
        for buf in ('queue', 'ptr')
    }
    assert memories <= set(saved)
    # (the RDD distiller is also the algorithm's `step`: the same buffers
    # under a second name, one storage)
    gone = set(saved) - set(small)
    assert {k.replace('step.', 'distiller.', 1) for k in gone} == memories
    assert not any(k.endswith(('.queue', '.ptr')) for k in small)
