# Copyright (c) mmrdd contributors. All rights reserved.
"""End to end through tools/train.py, tools/test.py and the converter."""
import math
import os.path as osp
import re
import textwrap

import pytest
import torch
from conftest import (ROOT, STUDENT_CFG, data_options, last_checkpoint,
                      losses_in_log, run_tool)

from mmrdd.runtime import state_dict_sha256

pytestmark = pytest.mark.slow

RDD_TOY = 'configs/rdd/rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501

# MMRazor's stock algorithm and loss, only the toy models of ours.
STOCK_CWD = textwrap.dedent('''
    _base_ = [
        '{root}/configs/_base_/datasets/toyseg.py',
        '{root}/configs/_base_/models/toy_deeplabv3.py',
        '{root}/configs/_base_/schedules/toy_schedule.py',
        '{root}/configs/_base_/toy_runtime.py',
    ]
    model = dict(
        _scope_='mmrazor',
        type='SingleTeacherDistill',
        architecture={{{{_base_.toy_student_model}}}},
        teacher={{{{_base_.toy_teacher_model}}}},
        teacher_ckpt='{ckpt}',
        distiller=dict(
            type='ConfigurableDistiller',
            distill_losses=dict(
                loss_cwd=dict(type='ChannelWiseDivergence', tau=1,
                              loss_weight=3)),
            student_recorders=dict(logits=dict(
                type='ModuleOutputs', source='decode_head.conv_seg')),
            teacher_recorders=dict(logits=dict(
                type='ModuleOutputs', source='decode_head.conv_seg')),
            loss_forward_mappings=dict(loss_cwd=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')))))
    find_unused_parameters = True
''')


def finite(values):
    return values and all(math.isfinite(v) for v in values)


def test_mmseg_trains_the_toy_teacher(teacher_run):
    log = teacher_run['log']
    assert finite(losses_in_log(log, 'decode.loss_ce'))
    assert finite(losses_in_log(log, 'aux.loss_ce'))
    assert re.search(r'mIoU: \d', log)
    assert osp.isfile(teacher_run['ckpt'])


def test_stock_mmrazor_cwd_distils_from_the_toy_teacher(
        toy_data, teacher_run, tmp_path):
    cfg = tmp_path / 'stock_cwd.py'
    cfg.write_text(STOCK_CWD.format(root=ROOT, ckpt=teacher_run['ckpt']))
    work_dir = str(tmp_path / 'cwd')
    log = run_tool('tools/train.py', str(cfg), '--work-dir', work_dir,
                   '--cfg-options', *data_options(toy_data))
    assert finite(losses_in_log(log, 'distill.loss_cwd'))
    assert finite(losses_in_log(log, 'student.decode.loss_ce'))
    ckpt = last_checkpoint(work_dir)

    # the converter output loads into plain MMSeg and is evaluated
    run_tool('tools/model_converters/convert_kd_ckpt_to_student.py', ckpt)
    student = ckpt[:-len('.pth')] + '_student.pth'
    state = torch.load(student)['state_dict']
    assert state and not any(
        k.startswith(('architecture.', 'teacher.')) for k in state)
    test_log = run_tool('tools/test.py', STUDENT_CFG, student, '--work-dir',
                        str(tmp_path / 'test'), '--cfg-options',
                        *data_options(toy_data))
    assert re.search(r'mIoU: \d', test_log)


def test_rdd_toy_config_trains_through_the_stage_switch(
        toy_data, teacher_run, tmp_path):
    work_dir = str(tmp_path / 'rdd')
    log = run_tool('tools/train.py', RDD_TOY, '--work-dir', work_dir,
                   '--cfg-options', *data_options(toy_data, iters=6),
                   f'model.teacher_ckpt={teacher_run["ckpt"]}',
                   'model.distiller.switch_iter=3',
                   'model.distiller.tse.min_kept=500')
    assert 'RDD stage TFE from iteration 0' in log
    assert 'RDD stage TSE from iteration 3' in log
    stages = losses_in_log(log, 'rdd/stage')
    assert stages == [0.0] * 3 + [1.0] * 3
    assert finite(losses_in_log(log, 'student.decode.loss_ce'))
    assert finite(losses_in_log(log, 'distill.loss_kl'))
    tfe = losses_in_log(log, 'rdd/tfe_weight')
    assert tfe and all(0 < v <= 1 for v in tfe)
    selected = losses_in_log(log, 'rdd/tse_selected')
    assert len(selected) == 3 and all(0 <= v <= 1 for v in selected)
    ckpt = torch.load(last_checkpoint(work_dir))
    teacher = torch.load(teacher_run['ckpt'])['state_dict']
    # the teacher is frozen: the sha256 of its weights at the last save is
    # the file's (the checkpoint leaves the teacher out, docs/guards.md)
    assert ckpt['meta']['mmrdd_run']['teacher']['sha256'] == \
        state_dict_sha256(teacher)
    assert not any(k.startswith('teacher.') for k in ckpt['state_dict'])


def test_missing_teacher_checkpoint_is_a_clear_error(toy_data, tmp_path):
    import subprocess
    import sys
    proc = subprocess.run([
        sys.executable, 'tools/train.py', RDD_TOY, '--work-dir',
        str(tmp_path), '--cfg-options', *data_options(toy_data),
        'model.teacher_ckpt=/nonexistent/teacher.pth'
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode != 0
    assert 'teacher checkpoint "/nonexistent/teacher.pth" does not exist' \
        in proc.stderr
