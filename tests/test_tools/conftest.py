# Copyright (c) mmrdd contributors. All rights reserved.
"""Shared fixtures: a small toy data set and a toy teacher trained on it."""
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
        # their mIoU, do not stop on it (RDDTeacherCheckHook)
        'teacher_check.min_miou=0'
    ]
    return opts


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
