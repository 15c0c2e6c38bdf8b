# Copyright (c) mmrdd contributors. All rights reserved.
"""Every toy distillation config trains a few iterations through the stage
switch via tools/train.py (RDD+CWD, RDD with weighted KD, RDD+CutMix, KD)."""
import glob
import math
import os.path as osp

import pytest
from conftest import ROOT, data_options, losses_in_log, run_tool

pytestmark = pytest.mark.slow

VARIANTS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', 'rdd', '*_toyseg-*.py'))
    if not osp.basename(p).startswith('rdd_logits_')  # e2e test has it
    # the KD family: test_toy_kd_family.py
    and not osp.basename(p).startswith(
        tuple(f'rdd+{m}_feat_' for m in
              ('at', 'dsd', 'cirkd', 'skd', 'ifvd', 'cwd', 'fitnet')) +
        ('rdd+dist_logits_', ))
    # MasKD (its token stage and both distillations): test_toy_maskd.py;
    # Af-DCD and KT alone and with RDD: test_toy_afdcd_kt.py
    and not osp.basename(p).startswith(('maskd', 'rdd+maskd_', 'afdcd_',
                                        'rdd+afdcd_', 'kt_', 'rdd+kt_')))


def test_there_are_toy_variants():
    names = ' '.join(VARIANTS)
    for prefix in ('kd_logits_', 'rdd+cwd_', 'rdd-wkd_', 'rdd-cutmix_'):
        assert prefix in names


@pytest.mark.parametrize('config', VARIANTS)
def test_toy_variant_trains(config, toy_data, teacher_run, tmp_path):
    opts = data_options(
        toy_data, iters=2) + [f'model.teacher_ckpt={teacher_run["ckpt"]}']
    is_rdd = not osp.basename(config).startswith('kd_')
    if is_rdd:
        opts += [
            'model.distiller.switch_iter=1', 'model.distiller.tse.thresh=0.13',
            'model.distiller.tse.min_kept=1'
        ]
    log = run_tool('tools/train.py', config, '--work-dir', str(tmp_path),
                   '--cfg-options', *opts)
    losses = losses_in_log(log, 'student.decode.loss_ce') + \
        losses_in_log(log, 'distill.loss_kl')
    assert len(losses) >= 4 and all(math.isfinite(v) for v in losses)
    if 'cwd' in config:  # one value per iteration, not an empty list
        cwd = losses_in_log(log, 'distill.loss_cwd')
        assert len(cwd) >= 2 and all(math.isfinite(v) for v in cwd)
    if is_rdd:
        assert 'RDD stage TSE from iteration 1' in log
