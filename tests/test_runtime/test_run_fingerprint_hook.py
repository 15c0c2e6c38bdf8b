# Copyright (c) mmrdd contributors. All rights reserved.
"""RunFingerprintHook on a real tiny runner: checkpoints without the frozen
teacher but with its sha256, a resume with another teacher refused or
allowed, ``load_from`` keeping this run's teacher, bad options."""
import copy

import pytest
import torch
from _toy_models import rdd_cfg, segmentor_cfg, tiny_runner
from mmengine.config import Config
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401  (registers the hook and the algorithm)
from mmrdd.runtime import ResumeMismatchError, state_dict_sha256
from mmrdd.runtime.run_fingerprint import trainable_parameters


@pytest.fixture(scope='module')
def teachers(tmp_path_factory):
    """Two teacher checkpoint files of the tiny teacher, other weights."""
    folder = tmp_path_factory.mktemp('teachers')
    paths = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        teacher = MODELS.build(segmentor_cfg(base=8))
        path = folder / f'teacher{seed}.pth'
        torch.save(dict(state_dict=teacher.state_dict()), path)
        paths.append(str(path))
    return paths


def file_sha(path):
    return state_dict_sha256(torch.load(path)['state_dict'])


def runner(work_dir,
           teacher_ckpt,
           name,
           iters=2,
           resume=False,
           load_from=None,
           **top):
    """A tiny RDD run with the hook; ``top``: top-level config keys."""
    model = rdd_cfg(switch_iter=1)
    model['teacher_ckpt'] = teacher_ckpt
    cfg = Config(dict(model=copy.deepcopy(model), **top))
    return tiny_runner(
        work_dir,
        model,
        name=name,
        custom_hooks=[
            dict(type='RDDStageHook'),
            dict(type='RunFingerprintHook')
        ],
        max_iters=iters,
        checkpoint_interval=1,
        cfg=cfg,
        resume=resume,
        load_from=load_from)


def assert_teacher_is(run, path):
    expected = torch.load(path)['state_dict']
    actual = run.model.teacher.state_dict()
    assert expected.keys() == actual.keys()
    for key in expected:
        assert torch.equal(expected[key], actual[key]), key


def test_checkpoints_record_the_teacher_and_leave_it_out(tmp_path, teachers):
    run = runner(tmp_path, teachers[0], 'out')
    run.train()
    checkpoint = torch.load(tmp_path / 'iter_2.pth')
    assert not [k for k in checkpoint['state_dict'] if k.startswith('teacher')]
    fingerprint = checkpoint['meta']['mmrdd_run']
    assert fingerprint['teacher'] == dict(
        sha256=file_sha(teachers[0]), ckpt=teachers[0], in_checkpoint=False)
    assert fingerprint['trainable'] == trainable_parameters(run.model)
    assert fingerprint['trainable'] and not [
        k for k in fingerprint['trainable'] if k.startswith('teacher.')
    ]
    assert fingerprint['config']['model.distiller.switch_iter'] == 1
    assert 'model.teacher_ckpt' not in fingerprint['config']
    # the algorithm's own state dict is untouched (only the saved copy)
    assert any(k.startswith('teacher.') for k in run.model.state_dict())


def test_self_contained_checkpoints_keep_the_teacher(tmp_path, teachers):
    runner(tmp_path, teachers[0], 'full', save_self_contained=True).train()
    checkpoint = torch.load(tmp_path / 'iter_2.pth')
    teacher = torch.load(teachers[0])['state_dict']
    for key, value in teacher.items():
        assert torch.equal(checkpoint['state_dict']['teacher.' + key], value)
    assert checkpoint['meta']['mmrdd_run']['teacher']['in_checkpoint']


def test_resume_with_another_teacher_refused_or_allowed(tmp_path, teachers):
    runner(tmp_path, teachers[0], 'first').train()
    with pytest.raises(ResumeMismatchError) as err:
        runner(tmp_path, teachers[1], 'refused', iters=3, resume=True).train()
    assert f'cannot resume from {tmp_path}/iter_2.pth (iteration 2)' in str(
        err.value)
    assert '  - teacher_ckpt: ' in str(err.value)
    assert not (tmp_path / 'iter_3.pth').exists()

    run = runner(
        tmp_path,
        teachers[1],
        'allowed',
        iters=3,
        resume=True,
        resume_allow_changes=['teacher_ckpt'])
    run.train()
    assert_teacher_is(run, teachers[1])
    fingerprint = torch.load(tmp_path / 'iter_3.pth')['meta']['mmrdd_run']
    assert fingerprint['teacher']['sha256'] == file_sha(teachers[1])
    assert [c['iter'] for c in fingerprint['changes']] == [2]


def test_load_from_keeps_this_runs_teacher(tmp_path, teachers, monkeypatch):
    first = tmp_path / 'first'
    runner(first, teachers[0], 'src', save_self_contained=True).train()
    run = runner(
        tmp_path / 'second',
        teachers[1],
        'load',
        load_from=str(first / 'iter_2.pth'))
    warnings = []
    monkeypatch.setattr(run.logger, 'warning', warnings.append)
    run.train()
    assert_teacher_is(run, teachers[1])
    assert any(
        w.startswith('load_from: the checkpoint was trained with '
                     'other teacher weights') for w in warnings)


def test_teacher_that_changes_is_kept_in_the_checkpoint(
        tmp_path, teachers, monkeypatch):
    run = runner(tmp_path, teachers[0], 'drift', iters=1)
    run.train()
    warnings = []
    monkeypatch.setattr(run.logger, 'log',
                        lambda level, msg: warnings.append(msg))
    with torch.no_grad():
        next(run.model.teacher.parameters()).add_(1.0)
    run.save_checkpoint(str(tmp_path), 'drifted.pth', by_epoch=False)
    checkpoint = torch.load(tmp_path / 'drifted.pth')
    assert any(k.startswith('teacher.') for k in checkpoint['state_dict'])
    teacher = checkpoint['meta']['mmrdd_run']['teacher']
    assert teacher['in_checkpoint'] is True
    assert teacher['sha256'] == state_dict_sha256(
        run.model.teacher.state_dict())
    assert warnings and 'changed during training' in warnings[0]


@pytest.mark.parametrize('top, message', [
    (dict(resume_allow_changes='teacher_ckpt'), 'must be a list of names'),
    (dict(resume_allow_changes=['teacher']),
     "unknown ['teacher']; the names are ['teacher_ckpt', 'switch_iter', "
     "'distiller', 'model', 'trainable_parameters']"),
    (dict(save_self_contained='yes'), 'must be True or False'),
])
def test_bad_options_are_named(tmp_path, teachers, top, message):
    with pytest.raises(ValueError) as err:
        runner(tmp_path, teachers[0], 'bad', **top).train()
    assert message in str(err.value)
