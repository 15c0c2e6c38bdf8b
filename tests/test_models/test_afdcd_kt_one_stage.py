# Copyright (c) mmrdd contributors. All rights reserved.
"""Af-DCD and KT configs: the one-stage form is the RDD + form without
RDD, for every student; on the toy models one step whose gradients reach
the student and Af-DCD's learned modules, never the teacher nor KT's
frozen tailoring modules."""
import os.path as osp

import pytest
import torch
from _toy_models import batch, distillation_step
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STUDENTS = {
    'afdcd_feat': ('deeplabv3_r18-d8', 'deeplabv3_mbv2-d8'),
    'kt_feat': ('deeplabv3_r18-d8', 'pspnet_r18-d8', 'deeplabv3_mbv2-d8'),
}
CITY = '_deeplabv3_r101-d8_{}_4xb4-40k_cityscapes-512x1024.py'
TOY = '_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'
KEYS = ('student_recorders', 'teacher_recorders', 'connectors',
        'distill_losses', 'loss_forward_mappings')


def _cfg(name: str) -> Config:
    return Config.fromfile(osp.join(ROOT, 'configs', 'rdd', name))


@pytest.mark.parametrize('method,student',
                         [(m, s) for m, ss in STUDENTS.items() for s in ss])
def test_one_stage_config_is_the_rdd_config_without_rdd(method, student):
    one = _cfg(method + CITY.format(student))
    rdd = _cfg('rdd+' + method + CITY.format(student))
    assert one.model.distiller.type == 'ConfigurableDistiller'
    assert rdd.model.distiller.type == 'RDDDistiller'
    assert one.custom_hooks == []
    assert one.model.architecture == rdd.model.architecture
    assert one.optim_wrapper == rdd.optim_wrapper
    for key in KEYS:
        assert one.model.distiller[key] == rdd.model.distiller[key], key
    has_kl = 'loss_kl' in one.model.distiller.distill_losses
    assert has_kl == (method == 'afdcd_feat')


@pytest.mark.parametrize('method', list(STUDENTS))
@pytest.mark.parametrize('rdd', [False, True])
def test_toy_step_trains_student_and_afdcd_modules_only(method, rdd):
    cfg = _cfg(('rdd+' if rdd else '') + method + TOY)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(dict(cfg.model, teacher_ckpt=None))
    if rdd:
        model.distiller.set_stage('tse')
    MessageHub.get_current_instance().update_info('iter', 0)
    model.train()
    torch.manual_seed(0)
    x, samples = batch(n=2, size=(96, 96))
    distillation_step(
        model, [f'distill.{n}' for n in cfg.model.distiller.distill_losses], x,
        samples)
    learned = list(model.distiller.distill_losses.parameters())
    assert learned
    if method == 'afdcd_feat':
        assert all(p.requires_grad and p.grad.abs().sum() > 0 for p in learned)
    else:  # frozen, as the official optimizer never holds them
        assert all(not p.requires_grad and p.grad is None for p in learned)
