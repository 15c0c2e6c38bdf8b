# Copyright (c) mmrdd contributors. All rights reserved.
"""The resume and checkpoint guards, run through tools/train.py as a user
runs it (issue 22, part A), on the deterministic toy setting of
``test_resume.py`` (6 iterations, TSE from iteration 3, a checkpoint at
every iteration).

1. ``--resume`` after a config change is refused, naming each difference
   and the ways out; ``resume_allow_changes`` lets it through, and the
   teacher used is then the one the run reports and records.
3. A SIGKILL halfway through writing a checkpoint, with one checkpoint
   kept, leaves the previous one to resume from.
5. A second run in a work dir that a live run holds stops; a lock left by a
   killed run is taken over with a warning.
7. Checkpoints leave the frozen teacher out (its sha256 is recorded and
   checked on resume); old checkpoints that hold it still resume.
9. A checkpoint converted to the student in place gives an error that says
   so, not ``KeyError: 'message_hub'``.
"""
import json
import os
import os.path as osp
import shutil
import signal
import subprocess
import time

import pytest
import torch
from conftest import PY, ROOT, losses_in_log, run_tool
from test_resume import (ITERS, RDD_TOY, SWITCH, assert_same_weights, options,
                         train, weights)

from mmrdd.runtime import state_dict_sha256

pytestmark = pytest.mark.slow

HERE = osp.dirname(osp.abspath(__file__))
CWD_TOY = 'configs/rdd/rdd+cwd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501
CIRKD_TOY = 'configs/rdd/rdd+cirkd_feat_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501
K = SWITCH + 1  # the resumed checkpoint: iteration 4, in TSE
ENV = dict(
    os.environ,
    OMP_NUM_THREADS='1',
    PYTHONPATH=os.pathsep.join([HERE, os.environ.get('PYTHONPATH', '')]))
FAULT_CFG = """_base_ = ['{root}/{rdd}']
custom_imports = dict(imports=['mmrdd', '_fault_hooks'],
                      allow_failed_imports=False)
custom_hooks = _base_.custom_hooks + [{hook}]
"""


def command(config, work_dir, opts, resume=False):
    args = [PY, 'tools/train.py', str(config), '--work-dir', str(work_dir)]
    return args + (['--resume'] if resume else []) + ['--cfg-options', *opts]


def attempt(config, work_dir, opts, resume=True):
    """Run tools/train.py; the exit code and the output (no assertion)."""
    proc = subprocess.run(
        command(config, work_dir, opts, resume),
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def fault_config(tmp_path, hook: str):
    config = tmp_path / 'rdd_toy_fault.py'
    config.write_text(FAULT_CFG.format(root=ROOT, rdd=RDD_TOY, hook=hook))
    return config


def resume_dir(base, path, k=K):
    """A work dir holding only the base run's ``iter_k.pth``."""
    path.mkdir(exist_ok=True)
    shutil.copy(osp.join(base['work_dir'], f'iter_{k}.pth'), path)
    (path / 'last_checkpoint').write_text(str(path / f'iter_{k}.pth'))
    return path / f'iter_{k}.pth'


def teacher_sha(path) -> str:
    return state_dict_sha256(torch.load(path)['state_dict'])


@pytest.fixture(scope='module')
def base(toy_data, teacher_run, tmp_path_factory):
    """The uninterrupted run, a checkpoint at every iteration."""
    work_dir = tmp_path_factory.mktemp('base')
    opts = options(toy_data, teacher_run['ckpt'])
    log = train(work_dir, opts)
    return dict(work_dir=str(work_dir), log=log, opts=opts)


@pytest.fixture(scope='module')
def other_teacher(teacher_run, tmp_path_factory):
    """The toy teacher with other classifier weights (same shapes)."""
    checkpoint = torch.load(teacher_run['ckpt'])
    g = torch.Generator().manual_seed(1)
    for key, value in checkpoint['state_dict'].items():
        if 'conv_seg' in key:
            checkpoint['state_dict'][key] = value + 0.5 * torch.randn(
                value.shape, generator=g)
    path = tmp_path_factory.mktemp('teacher_b') / 'teacher_b.pth'
    torch.save(checkpoint, path)
    return str(path)


def assert_refused(code, out, ckpt, names):
    assert code == 1, out[-3000:]
    assert f'cannot resume from {ckpt} (iteration {K})' in out, out[-3000:]
    for name in names:
        assert f'  - {name}: ' in out, (name, out[-3000:])
    allowed = ','.join(f"'{n}'" for n in names)
    assert f'"resume_allow_changes=[{allowed}]"' in out
    assert f'--cfg-options load_from={ckpt} without --resume' in out
    assert 'Traceback' not in out
    assert not osp.exists(osp.join(osp.dirname(ckpt), f'iter_{K + 1}.pth'))


# 1. --resume after a config change


def test_another_teacher_is_refused_then_allowed_and_recorded(
        base, toy_data, teacher_run, other_teacher, tmp_path):
    ckpt = resume_dir(base, tmp_path / 'b')
    opts = options(toy_data, other_teacher)
    code, out = attempt(RDD_TOY, ckpt.parent, opts)
    assert_refused(code, out, ckpt, ['teacher_ckpt'])
    assert f"the teacher {teacher_run['ckpt']}, weights sha256 " \
           f"{teacher_sha(teacher_run['ckpt'])[:16]}" in out
    assert f"this run's teacher is {other_teacher}, weights sha256 " \
           f'{teacher_sha(other_teacher)[:16]}' in out

    log = train(
        ckpt.parent, [*opts, "resume_allow_changes=['teacher_ckpt']"],
        resume=True)
    assert '--resume with an allowed change (teacher_ckpt' in log
    run = torch.load(ckpt.parent / f'iter_{ITERS}.pth')['meta']['mmrdd_run']
    # the teacher used is the one the run reports and records
    assert f'Teacher weights sha256 {teacher_sha(other_teacher)}' in log
    assert run['teacher']['sha256'] == teacher_sha(other_teacher)
    assert run['teacher']['ckpt'] == other_teacher
    assert [c['iter'] for c in run['changes']] == [K]
    assert list(run['changes'][0]['changes']) == ['teacher_ckpt']
    # ...and it is what trains: the KD loss differs from the base run's
    kl = losses_in_log(log, 'distill.loss_kl')
    assert kl[0] != losses_in_log(base['log'], 'distill.loss_kl')[K]


def test_same_teacher_weights_from_another_path_resume_exactly(
        base, toy_data, teacher_run, tmp_path):
    """The teacher is compared by content: a copy of the file elsewhere
    resumes, reloads the teacher the checkpoint leaves out, and ends on
    the uninterrupted run's weights."""
    copy = tmp_path / 'moved' / 'teacher.pth'
    copy.parent.mkdir()
    shutil.copy(teacher_run['ckpt'], copy)
    ckpt = resume_dir(base, tmp_path / 'w')
    log = train(ckpt.parent, options(toy_data, str(copy)), resume=True)
    assert f'resumed epoch: 0, iter: {K}' in log
    assert 'allowed change' not in log
    assert_same_weights(
        weights(osp.join(base['work_dir'], f'iter_{ITERS}.pth')),
        weights(ckpt.parent / f'iter_{ITERS}.pth'))


def test_switch_iter_change_is_refused_with_the_stages(base, toy_data,
                                                       teacher_run, tmp_path):
    ckpt = resume_dir(base, tmp_path / 'w')
    opts = [
        *options(toy_data, teacher_run['ckpt']),
        'model.distiller.switch_iter=6'
    ]
    code, out = attempt(RDD_TOY, ckpt.parent, opts)
    assert_refused(code, out, ckpt, ['switch_iter'])
    assert (f'switch_iter: {SWITCH} -> 6: iteration {K} is in TSE with the '
            "checkpoint's switch_iter and in TFE with this run's (the "
            'stages would go TSE -> TFE)') in out


@pytest.mark.parametrize('config, extra, expected', [
    (RDD_TOY, ['model.distiller.distill_losses.loss_kl.loss_weight=5.0'],
     'model.distiller.distill_losses.loss_kl.loss_weight: 1.0 -> 5.0'),
    (RDD_TOY, ['model.distiller.tse.mode=or'
               ], "model.distiller.tse.mode: 'xor' -> 'or'"),
    (CWD_TOY, [], "model.distiller.distill_losses.loss_cwd.type="
     "'WeightedChannelWiseDivergence' added"),
])
def test_loss_changes_are_refused(base, toy_data, teacher_run, tmp_path,
                                  config, extra, expected):
    ckpt = resume_dir(base, tmp_path / 'w')
    opts = [*options(toy_data, teacher_run['ckpt']), *extra]
    code, out = attempt(config, ckpt.parent, opts)
    assert_refused(code, out, ckpt, ['distiller'])
    assert expected in out


def test_added_connectors_are_refused_then_resume_without_momentum(
        base, toy_data, teacher_run, tmp_path):
    ckpt = resume_dir(base, tmp_path / 'w')
    opts = options(toy_data, teacher_run['ckpt'])
    code, out = attempt(CIRKD_TOY, ckpt.parent, opts)
    assert_refused(code, out, ckpt, ['distiller', 'trainable_parameters'])
    assert ('distiller.connectors.cirkd_proj.0.conv_module.conv.weight '
            '(64, 32, 1, 1) added') in out
    assert "doesn't match the size of optimizer's group" not in out

    log = run_tool(
        *command(
            CIRKD_TOY,
            ckpt.parent, [
                *opts,
                "resume_allow_changes=['distiller','trainable_parameters']"
            ],
            resume=True)[1:],
        env=dict(OMP_NUM_THREADS='1'))
    assert 'per-parameter state (momentum) is not restored' in log
    # the schedule continues where it was
    assert losses_in_log(log, 'lr') == losses_in_log(base['log'], 'lr')[K:]


# 3. a kill during a save


def test_sigkill_while_writing_the_only_kept_checkpoint_then_resume(
        base, toy_data, teacher_run, tmp_path):
    config = fault_config(tmp_path,
                          "dict(type='KillDuringSaveHook', at_iter=4)")
    work_dir = tmp_path / 'w'
    # the toy configs keep one checkpoint
    opts = [*base['opts'], 'default_hooks.checkpoint.max_keep_ckpts=1']
    proc = subprocess.run(
        command(config, work_dir, opts),
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    names = sorted(os.listdir(work_dir))
    assert 'iter_3.pth' in names and '.iter_4.pth.tmp' in names, names
    assert 'iter_4.pth' not in names and 'iter_2.pth' not in names, names
    assert (work_dir / 'last_checkpoint').read_text() == str(work_dir /
                                                             'iter_3.pth')
    log = train(work_dir, opts, resume=True)
    assert f'Deleted {work_dir}/.iter_4.pth.tmp' in log
    assert 'resumed epoch: 0, iter: 3' in log
    assert_same_weights(
        weights(osp.join(base['work_dir'], f'iter_{ITERS}.pth')),
        weights(work_dir / f'iter_{ITERS}.pth'))
    assert sorted(n for n in os.listdir(work_dir)
                  if 'iter_' in n) == [f'iter_{ITERS}.pth']


# 5. one run per work dir


def start_holding(config, work_dir, opts):
    """Start a run in the background; return it once it holds the lock."""
    proc = subprocess.Popen(
        command(config, work_dir, opts),
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    lock = work_dir / 'train.lock'
    deadline = time.time() + 300
    try:
        while True:
            assert proc.poll() is None, 'the run ended early'
            assert time.time() < deadline, 'no lock after 300 s'
            try:
                if json.loads(lock.read_text())['pid'] == proc.pid:
                    return proc
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.1)
    except BaseException:
        proc.kill()
        proc.wait()
        raise


def test_second_run_in_a_held_work_dir_stops_and_a_killed_holder_is_taken_over(  # noqa: E501
        base, tmp_path):
    go = tmp_path / 'go'
    config = fault_config(tmp_path,
                          f"dict(type='PauseBeforeTrainHook', go='{go}')")
    work_dir = tmp_path / 'w'
    opts = [*base['opts'], f'train_cfg.max_iters={SWITCH}']
    first = start_holding(config, work_dir, opts)
    try:
        code, out = attempt(RDD_TOY, work_dir, opts, resume=False)
        assert code == 1, out[-3000:]
        assert (f'the work dir {work_dir} is in use by another training '
                f'run: pid {first.pid} on host ') in out
        assert 'give this run another --work-dir' in out
        go.touch()
        assert first.wait(timeout=600) == 0
    finally:
        if first.poll() is None:
            first.kill()
    # the first run's files are its own; the lock is gone
    runs = [n for n in os.listdir(work_dir) if n[:2] == '20']
    assert len(runs) == 1, runs
    assert (work_dir / 'last_checkpoint').read_text() == str(
        work_dir / f'iter_{SWITCH}.pth')
    assert not (work_dir / 'train.lock').exists()

    # killed while holding the lock: the next run takes it over
    go.unlink()
    killed = start_holding(config, work_dir, opts)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    log = train(work_dir, opts, resume=True)
    assert (f'Took over {work_dir}/train.lock: the run that held it, pid '
            f'{killed.pid} on host ') in log
    assert not (work_dir / 'train.lock').exists()


# 7. checkpoints hold what was trained


def test_checkpoints_leave_the_frozen_teacher_out_unless_asked(
        base, toy_data, teacher_run, tmp_path):
    teacher = torch.load(teacher_run['ckpt'])['state_dict']
    checkpoint = torch.load(osp.join(base['work_dir'], f'iter_{ITERS}.pth'))
    state = checkpoint['state_dict']
    assert not any(k.startswith('teacher.') for k in state)
    assert any(k.startswith('architecture.') for k in state)
    run = checkpoint['meta']['mmrdd_run']
    # the teacher at the end is the file's (it stayed frozen)
    assert run['teacher'] == dict(
        sha256=state_dict_sha256(teacher),
        ckpt=teacher_run['ckpt'],
        in_checkpoint=False)
    assert run['changes'] == []
    assert run['config']['model.distiller.switch_iter'] == SWITCH

    log = train(tmp_path, [
        *base['opts'], f'train_cfg.max_iters={SWITCH}',
        'save_self_contained=True'
    ])
    assert 'checkpoints are saved with the teacher' in log
    full = torch.load(tmp_path / 'iter_1.pth')
    for key, value in teacher.items():  # the teacher is frozen
        torch.testing.assert_close(full['state_dict']['teacher.' + key], value)
    assert full['meta']['mmrdd_run']['teacher']['in_checkpoint'] is True
    teacher_bytes = sum(v.numel() * v.element_size() for v in teacher.values())
    assert os.path.getsize(tmp_path / 'iter_1.pth') - os.path.getsize(
        osp.join(base['work_dir'], 'iter_1.pth')) >= teacher_bytes


def legacy_checkpoint(base, path, teacher_state):
    """``iter_K.pth`` as mmrdd saved it before the fingerprint: the teacher
    inside, no ``meta['mmrdd_run']``."""
    checkpoint = torch.load(osp.join(base['work_dir'], f'iter_{K}.pth'))
    del checkpoint['meta']['mmrdd_run']
    checkpoint['state_dict'].update(
        {'teacher.' + k: v
         for k, v in teacher_state.items()})
    path.mkdir()
    torch.save(checkpoint, path / f'iter_{K}.pth')
    (path / 'last_checkpoint').write_text(str(path / f'iter_{K}.pth'))
    return path / f'iter_{K}.pth'


def test_old_checkpoints_with_the_teacher_still_resume_and_are_checked(
        base, toy_data, teacher_run, other_teacher, tmp_path):
    opts = options(toy_data, teacher_run['ckpt'])
    ckpt = legacy_checkpoint(base, tmp_path / 'old',
                             torch.load(teacher_run['ckpt'])['state_dict'])
    log = train(ckpt.parent, opts, resume=True)
    assert 'The checkpoint has no run fingerprint' in log
    assert_same_weights(
        weights(osp.join(base['work_dir'], f'iter_{ITERS}.pth')),
        weights(ckpt.parent / f'iter_{ITERS}.pth'))
    # an old checkpoint trained with another teacher: its teacher would
    # have replaced model.teacher_ckpt's silently
    ckpt = legacy_checkpoint(base, tmp_path / 'other',
                             torch.load(other_teacher)['state_dict'])
    code, out = attempt(RDD_TOY, ckpt.parent, opts)
    assert_refused(code, out, ckpt, ['teacher_ckpt'])


# 9. a converted checkpoint


def test_resume_from_a_checkpoint_converted_in_place_names_it(
        base, toy_data, teacher_run, tmp_path):
    ckpt = resume_dir(base, tmp_path / 'w')
    run_tool('tools/model_converters/convert_kd_ckpt_to_student.py', str(ckpt),
             '--inplace')
    code, out = attempt(RDD_TOY, ckpt.parent,
                        options(toy_data, teacher_run['ckpt']))
    assert code == 1, out[-3000:]
    assert (f'cannot resume: the checkpoint {ckpt} (from '
            f'{ckpt.parent}/last_checkpoint) is a converted student '
            'checkpoint') in out
    assert 'Convert without --inplace' in out
    assert 'KeyError' not in out and 'Traceback' not in out
