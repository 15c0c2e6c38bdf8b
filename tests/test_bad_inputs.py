# Copyright (c) mmrdd contributors. All rights reserved.
"""Bad inputs end in a clear error that names the fix (or in a correct 0).

Complements the cases already covered elsewhere (see the matrix in each
test's docstring): ``tests/test_models/test_rdd_distill.py`` (class-count
mismatch, decode-head sampler, teacher NaN, bad ``mode``/``thresh``/
``min_kept``/``direction`` types, all-ignored batch values),
``tests/test_engine/test_rdd_stage_hook.py`` (``switch_iter`` range, TFE
without a teacher auxiliary head, with a stand-in distiller) and
``tests/test_tools/test_train_e2e.py`` (missing teacher checkpoint through
``tools/train.py``).
"""
import logging
import math
import socket
import time
from types import SimpleNamespace
from unittest import mock

import pytest
import torch
from _toy_models import NUM_CLASSES, batch, rdd_cfg, segmentor_cfg
from mmengine.logging import MessageHub, MMLogger
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401
from mmrdd.engine import RDDStageHook


def build(teacher_ckpt=None, download_timeout=None, **kwargs):
    torch.manual_seed(0)
    cfg = rdd_cfg(**kwargs)
    if teacher_ckpt is not None:
        cfg['teacher_ckpt'] = str(teacher_ckpt)
    if download_timeout is not None:
        cfg['download_timeout'] = download_timeout
    model = MODELS.build(cfg)
    model.train()
    return model


def fake_runner(model, max_iters=10):
    return SimpleNamespace(
        model=model,
        iter=0,
        max_iters=max_iters,
        message_hub=MessageHub.get_instance('rdd-bad-inputs'),
        logger=MMLogger.get_instance('rdd-bad-inputs'))


# ------------------------------------------------------------ configuration
def test_tfe_with_teacher_without_aux_head_fails_before_training():
    """The real hook on the real algorithm (the hook test uses a stand-in)."""
    with pytest.raises(ValueError, match='set model.distiller.switch_iter=0'):
        build(
            teacher=segmentor_cfg(base=8, aux=False),
            student=segmentor_cfg(base=4, aux=False),
            switch_iter=4)
    model = build(
        teacher=segmentor_cfg(base=8, aux=False),
        student=segmentor_cfg(base=4, aux=False),
        switch_iter=0)
    RDDStageHook().before_train(fake_runner(model))


@pytest.mark.parametrize('switch_iter', [11, 1000])
def test_switch_iter_after_the_schedule_fails_before_training(switch_iter):
    with pytest.raises(ValueError, match=r'use a value in \[0, 10\]'):
        RDDStageHook().before_train(
            fake_runner(build(switch_iter=switch_iter)))


def test_class_count_mismatch_names_both_counts():
    with pytest.raises(
            ValueError,
            match='teacher predicts 6 classes but '
            'the student 5.*num_classes'):
        build(teacher=segmentor_cfg(base=8, num_classes=6))


def test_student_aux_head_with_sampler_is_rejected():
    student = segmentor_cfg(base=4)
    student['auxiliary_head']['sampler'] = dict(
        type='OHEMPixelSampler', thresh=0.7, min_kept=100)
    with pytest.raises(
            ValueError,
            match="auxiliary_head already has a "
            "pixel sampler.*Remove `sampler=`"):
        build(student=student)


@pytest.mark.parametrize('bad, message', [
    (dict(tse=dict(type='RDDTSEDifficulty', mode='xand')),
     r"mode must be one of \('xor', 'or', 'and', 'student'\), got 'xand'"),
    (dict(tfe=dict(type='RDDTFEDifficulty', direction='both')),
     r"direction must be one of \('aux_main', 'main_aux'\), got 'both'"),
    (dict(tse=dict(type='RDDTSEDifficulty', thresh=-0.1)),
     r'thresh must be in \(0, 1\)'),
    (dict(tse=dict(type='RDDTSEDifficulty', thresh=1.5)),
     r'thresh must be in \(0, 1\)'),
    (dict(tse=dict(type='RDDTSEDifficulty', thresh=float('nan'))),
     r'thresh must be in \(0, 1\)'),
    (dict(tse=dict(type='RDDTSEDifficulty', min_kept=-1)),
     'min_kept must be an int >= 1'),
    (dict(tse=dict(type='RDDTSEDifficulty', min_kept=2.5)),
     'min_kept must be an int >= 1'),
    (dict(tse=dict(type='RDDTSEDifficulty', min_kept=True)),
     'min_kept must be an int >= 1'),
])
def test_bad_difficulty_arguments_name_the_valid_values(bad, message):
    with pytest.raises(ValueError, match=message):
        build(**bad)


# ---------------------------------------------------------------- the batch
@pytest.mark.parametrize('stage, mode', [('tfe', 'xor'), ('tse', 'xor'),
                                         ('tse', 'student')])
def test_all_ignored_batch_trains_with_zero_task_loss(stage, mode):
    """0 task loss, finite KD loss, finite (zero task) gradients."""
    model = build(tse=dict(type='RDDTSEDifficulty', min_kept=10, mode=mode))
    model.distiller.set_stage(stage)
    x, samples = batch(seed=5, ignore_frac=1.1)  # every label is 255
    losses = model.loss(x, samples)
    for key in ('student.decode.loss_ce', 'student.aux.loss_ce'):
        assert float(losses[key]) == 0.0, key
    assert math.isfinite(float(losses['distill.loss_kl']))
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    grads = [p.grad for p in model.student.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    stats = [k for k in losses if k.startswith('rdd/')]
    assert stats
    for name in stats:
        assert torch.isfinite(losses[name]), name


@pytest.mark.parametrize('head, value', [
    ('decode_head', float('inf')),
    ('decode_head', float('-inf')),
    ('auxiliary_head', float('nan')),
    ('auxiliary_head', float('inf')),
])
def test_teacher_nan_or_inf_logits_stop_training(head, value):
    model = build()
    model.distiller.set_stage('tfe')
    with torch.no_grad():
        getattr(model.teacher, head).conv_seg.bias[0] = value
    with pytest.raises(
            FloatingPointError, match='NaN/Inf logits: check teacher_ckpt'):
        model.loss(*batch())


# -------------------------------------------------------- teacher checkpoint
def teacher_state(model):
    return {k: v.clone() for k, v in model.teacher.state_dict().items()}


def test_teacher_checkpoint_that_matches_is_loaded(tmp_path):
    reference = teacher_state(build())
    for key in reference:  # distinguishable from a fresh initialisation
        if reference[key].is_floating_point():
            reference[key] += 0.5
    path = tmp_path / 'teacher.pth'
    # DataParallel-style "module." prefixes are accepted
    torch.save(
        {'state_dict': {'module.' + k: v
                        for k, v in reference.items()}}, path)
    loaded = teacher_state(build(teacher_ckpt=path))
    for key, value in reference.items():
        assert torch.equal(loaded[key], value), key


def test_missing_teacher_checkpoint_names_the_option(tmp_path):
    with pytest.raises(
            FileNotFoundError, match='--cfg-options model.teacher_ckpt=PATH'):
        build(teacher_ckpt=tmp_path / 'nope.pth')


@pytest.mark.parametrize('case', ['shape', 'missing', 'distillation'])
def test_teacher_checkpoint_with_other_keys_is_rejected(tmp_path, case):
    model = build()
    state = teacher_state(model)
    if case == 'shape':  # e.g. the student's weights given as the teacher
        state = {k: v.clone() for k, v in model.student.state_dict().items()}
        match = r'shape mismatch \(\d+\)'
    elif case == 'missing':
        del state['decode_head.conv_seg.weight']
        match = r'missing \(1\): decode_head.conv_seg.weight'
    else:  # a raw distillation checkpoint of MMRazor
        state = {'architecture.' + k: v for k, v in state.items()}
        match = ('convert it with '
                 'tools/model_converters/convert_kd_ckpt_to_student.py')
    path = tmp_path / 'wrong.pth'
    torch.save({'state_dict': state}, path)
    with pytest.raises(RuntimeError, match=match) as info:
        build(teacher_ckpt=path)
    assert 'does not match the teacher model' in str(info.value)


@pytest.mark.parametrize('url', [
    'http://download.openmmlab.com/mmsegmentation/teacher.pth',
    'ftp://127.0.0.1/teacher.pth',
])
def test_non_https_teacher_url_is_rejected(url):
    with pytest.raises(
            ValueError, match=r'only https:// URLs \(or local '
            r'paths\)'):
        build(teacher_ckpt=url)


def test_unreachable_https_teacher_url_fails_quickly(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))  # no stale cached file
    start = time.monotonic()
    with pytest.raises(
            RuntimeError,
            match='could not download the teacher checkpoint '
            r'https://127.0.0.1:9/.*give the local file instead'):
        build(teacher_ckpt='https://127.0.0.1:9/rdd-test-teacher.pth')
    assert time.monotonic() - start < 30


def test_https_server_that_never_answers_times_out(tmp_path, monkeypatch):
    """A host that accepts the connection and then stays silent."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    previous = socket.getdefaulttimeout()
    with socket.socket() as server:
        server.bind(('127.0.0.1', 0))
        server.listen(1)  # the kernel accepts; nobody ever answers
        port = server.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(
                RuntimeError, match='could not download.*timed '
                'out'):
            build(
                teacher_ckpt=f'https://127.0.0.1:{port}/teacher.pth',
                download_timeout=1)
        assert time.monotonic() - start < 30
    assert socket.getdefaulttimeout() == previous  # restored


# ----------------------------------------------- guards against silent runs
def test_min_kept_above_the_valid_pixels_warns_once_with_the_fix():
    """The Cityscapes default on a tiny batch: XOR selects nothing, the task
    loss is 0 -- and the log says why, once, with the scaled value."""
    model = build(tse=dict(type='RDDTSEDifficulty', min_kept=100000))
    model.distiller.set_stage('tse')
    x, samples = batch(seed=4)  # 2 x 32 x 40 = 2560 pixels
    target = 'mmrdd.models.difficulty.rdd_tse_difficulty.print_log'
    with mock.patch(target) as log:
        losses = model.loss(x, samples)
        model.loss(x, samples)
    assert float(losses['student.decode.loss_ce']) == 0.0
    assert float(losses['rdd/tse_selected']) == 0.0
    assert log.call_count == 1  # once per run
    message = log.call_args[0][0]
    assert log.call_args[1]['level'] == logging.WARNING
    assert 'min_kept=100000 >= the 2304 valid label pixels of this batch ' \
        '(2 x 32 x 40)' in message
    # 100000 / (4 * 512 * 1024) * 2560 = 122
    assert 'model.distiller.tse.min_kept=122' in message


def test_min_kept_below_the_valid_pixels_is_silent():
    model = build(tse=dict(type='RDDTSEDifficulty', min_kept=100))
    model.distiller.set_stage('tse')
    target = 'mmrdd.models.difficulty.rdd_tse_difficulty.print_log'
    with mock.patch(target) as log:
        model.loss(*batch(seed=4))
    assert log.call_count == 0


@pytest.mark.parametrize('stage', ['tfe', 'tse'])
@pytest.mark.parametrize('bad', [7, NUM_CLASSES])
def test_labels_outside_the_classes_name_value_and_cause(stage, bad):
    """Cityscapes labelIds or a forgotten reduce_zero_label: a ValueError
    with the value, the class count and the likely causes, before any
    kernel indexes with the label (in both stages)."""
    model = build(switch_iter=0 if stage == 'tse' else 4000)
    model.distiller.set_stage(stage)
    x, samples = batch(seed=6)
    samples[1].gt_sem_seg.data[0, 3, 4] = bad
    with pytest.raises(
            ValueError,
            match=rf'labels \[{bad}\] are outside \[0, '
            rf'{NUM_CLASSES}\).*labelIds.*reduce_zero_label'):
        model.loss(x, samples)


def test_label_check_can_be_switched_off():
    model = build()
    model.check_labels = False
    model.distiller.set_stage('tfe')
    x, samples = batch(seed=6)
    samples[0].gt_sem_seg.data[0, 0, 0] = 7
    with pytest.raises(IndexError):  # torch's own error, as before
        model.loss(x, samples)
