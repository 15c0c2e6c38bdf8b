# Copyright (c) mmrdd contributors. All rights reserved.
"""The one-stage (plain KD) form of each KD family config: the same losses
as RDD + the method under MMRazor's plain ConfigurableDistiller, and on the
toy models one step whose gradients reach the student and the connectors,
never the teacher."""
import os.path as osp

import pytest
import torch
from _toy_models import batch, distillation_step
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METHODS = ('at_feat', 'dsd_feat', 'cirkd_feat', 'skd_feat', 'ifvd_feat',
           'cwd_feat', 'fitnet_feat', 'dist_logits')
CITY = '_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_cityscapes-512x1024.py'
TOY = '_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'
KEYS = ('student_recorders', 'connectors', 'distill_losses',
        'loss_forward_mappings')


def _cfg(name: str) -> Config:
    return Config.fromfile(osp.join(ROOT, 'configs', 'rdd', name))


@pytest.mark.parametrize('method', METHODS)
def test_one_stage_config_is_the_rdd_config_without_rdd(method):
    one = _cfg(method + CITY)
    rdd = _cfg('rdd+' + method + CITY)
    assert one.model.distiller.type == 'ConfigurableDistiller'
    assert rdd.model.distiller.type == 'RDDDistiller'
    assert one.custom_hooks == []
    for key in KEYS:
        assert one.model.distiller[key] == rdd.model.distiller[key], key
    teacher = one.model.distiller.teacher_recorders
    assert teacher.items() <= rdd.model.distiller.teacher_recorders.items()
    has_kd = 'loss_kl' in one.model.distiller.distill_losses
    assert has_kd == (method not in ('dsd_feat', 'dist_logits'))


@pytest.mark.parametrize('method', METHODS)
def test_one_stage_toy_step_trains_student_and_connectors_only(method):
    cfg = _cfg('rdd+' + method + TOY)
    distiller = dict(cfg.model.distiller)
    for key in ('tfe', 'tse', 'switch_iter'):
        distiller.pop(key, None)
    distiller['type'] = 'ConfigurableDistiller'
    model_cfg = dict(cfg.model, distiller=distiller, teacher_ckpt=None)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(model_cfg)
    model.train()
    torch.manual_seed(0)
    x, samples = batch(n=2, size=(96, 96))
    distillation_step(model,
                      [f'distill.{n}' for n in distiller['distill_losses']], x,
                      samples)
    connectors = list(model.distiller.connectors.parameters())
    if method in ('cirkd_feat', 'cwd_feat', 'fitnet_feat'):
        assert connectors
        assert all(p.grad is not None and p.grad.abs().sum() > 0
                   for p in connectors)
    else:
        assert not connectors
