# Copyright (c) mmrdd contributors. All rights reserved.
"""Shared fixtures: a small toy data set and a toy teacher trained on it."""
import json
import math
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PY = sys.executable
TEACHER_CFG = 'configs/toy/deeplabv3_toy-r50-d8_1xb8-4k_toyseg-96x96.py'
STUDENT_CFG = 'configs/toy/deeplabv3_toy-r18-d8_1xb8-2k_toyseg-96x96.py'


def data_options(data_root: str, iters: int = 4) -> list:
    """--cfg-options for a tiny, fast, single-process run."""
    opts = []
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [
            f'{split}.dataset.data_root={data_root}', f'{split}.num_workers=0',
            f'{split}.persistent_workers=False'
        ]
    opts += [
        f'train_cfg.max_iters={iters}',
        f'train_cfg.val_interval={iters}',
        f'param_scheduler.0.end={iters}',
        f'default_hooks.checkpoint.interval={iters}',
        'default_hooks.logger.interval=1',
        'train_dataloader.batch_size=2',
        # the test teachers are trained a few iterations only: log
        # their mIoU, do not stop on it (TeacherCheckHook)
        'teacher_check.min_miou=0'
    ]
    return opts


def tool_options(*extra: str) -> list:
    """``--cfg-options`` for the demo and seeds tools' tiny runs.

    Batches of 2 without worker processes, ``extra`` options, and a teacher
    check that only logs (the tools' teachers train a few iterations).

    Args:
        *extra (str): Options to add before the teacher check.

    Returns:
        list: ``'--cfg-options'`` followed by the options.
    """
    return [
        '--cfg-options', 'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False', *extra,
        'teacher_check.min_miou=0'
    ]


def tse_options(teacher_ckpt: str) -> list:
    """Options of a toy RDD run whose TSE stage selects pixels.

    Args:
        teacher_ckpt (str): The barely trained toy teacher's checkpoint.

    Returns:
        list: The teacher, a low TSE threshold that still gives a non-empty
        XOR selection with that teacher, and no validation.
    """
    return [
        f'model.teacher_ckpt={teacher_ckpt}',
        'model.distiller.tse.thresh=0.13',
        'model.distiller.tse.min_kept=1',
        'val_cfg=None',
        'val_dataloader=None',
        'val_evaluator=None',
    ]


def check_switch_log(log: str, iters: int, switch: int) -> None:
    """Assert a toy RDD run's log went through the TFE -> TSE switch.

    The TSE stage starts at ``switch``, ``rdd/stage`` is logged 0 then 1,
    and the total, task and KD losses are finite at every iteration.

    Args:
        log (str): The run's output.
        iters (int): The run's iterations.
        switch (int): ``model.distiller.switch_iter``.
    """
    assert f'RDD stage TSE from iteration {switch}' in log
    assert losses_in_log(log, 'rdd/stage') == [0.0] * switch + [1.0] * (
        iters - switch)
    for key in ('loss', 'student.decode.loss_ce', 'student.aux.loss_ce',
                'distill.loss_kl'):
        values = losses_in_log(log, key)
        assert len(values) == iters and all(map(math.isfinite, values)), key


def run_tool(*args, timeout=600, env=None) -> str:
    """Run a tools/ script from the repo root; return stdout+stderr."""
    proc = subprocess.run([PY, *args],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=timeout,
                          env=dict(os.environ, **(env or {})))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


def run_check_official(method: str, official_root: str, out: str,
                       passed: bool) -> dict:
    """Run ``tools/analysis_tools/check_official.py`` on a stand-in for the
    official files and read the result file it wrote.

    Args:
        method (str): The method to check (``'maskd'``, ``'at'``, ...).
        official_root (str): The stand-in's root.
        out (str): Where the result file goes.
        passed (bool): Whether the check must pass (exit code 0) or fail (1).

    Returns:
        dict: The result file; its ``official.commit`` is ``'stand-in'``.
    """
    proc = subprocess.run([
        PY, 'tools/analysis_tools/check_official.py', method,
        '--official-root', official_root, '--official-commit', 'stand-in',
        '--out', out
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          env=dict(
                              os.environ, PYTHONPATH=osp.join(ROOT, 'tests')))
    assert proc.returncode == (0 if passed else 1), proc.stderr[-3000:]
    with open(out) as f:
        result = json.load(f)
    assert result['passed'] is passed
    assert result['official']['commit'] == 'stand-in'
    return result


def last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def losses_in_log(log: str, key: str) -> list:
    """Every logged value of ``key`` (e.g. 'distill.loss_kl')."""
    return [float(v) for v in re.findall(rf'{re.escape(key)}: (\S+)', log)]


@pytest.fixture(scope='session')
def toy_data(tmp_path_factory) -> str:
    from mmrdd.datasets import generate_toy_dataset
    root = str(tmp_path_factory.mktemp('toyseg'))
    generate_toy_dataset(root, num_train=8, num_val=4, seed=0)
    return root


@pytest.fixture(scope='session')
def teacher_run(toy_data, tmp_path_factory):
    """MMSeg trains the toy teacher a few iterations via tools/train.py."""
    work_dir = str(tmp_path_factory.mktemp('teacher'))
    log = run_tool('tools/train.py', TEACHER_CFG, '--work-dir', work_dir,
                   '--cfg-options', *data_options(toy_data))
    return dict(log=log, ckpt=last_checkpoint(work_dir), work_dir=work_dir)
