# Copyright (c) mmrdd contributors. All rights reserved.
"""What tools/train.py adds to every config, and who takes the lock."""
import json
import os

import pytest
from mmengine.config import Config

from mmrdd.runtime import WorkDirInUseError, WorkDirLock
from mmrdd.runtime.train_guards import (add_train_guards, global_rank,
                                        work_dir_held)


@pytest.mark.parametrize('scope, prefix', [('mmseg', ''), (None, 'mmseg.')])
def test_stock_checkpoint_hook_becomes_atomic_and_the_hook_is_added(
        scope, prefix):
    cfg = Config(
        dict(
            default_scope=scope,
            default_hooks=dict(
                checkpoint=dict(
                    type='CheckpointHook', interval=5, max_keep_ckpts=1)),
            custom_hooks=[dict(type='RDDStageHook')]))
    add_train_guards(cfg)
    assert cfg.default_hooks.checkpoint == dict(
        type=prefix + 'AtomicCheckpointHook', interval=5, max_keep_ckpts=1)
    assert cfg.custom_hooks == [
        dict(type='RDDStageHook'),
        dict(type=prefix + 'RunFingerprintHook')
    ]
    add_train_guards(cfg)  # idempotent
    assert len(cfg.custom_hooks) == 2


def test_other_hooks_are_left_alone():
    cfg = Config(
        dict(
            default_scope='mmseg',
            default_hooks=dict(checkpoint=dict(type='MyCheckpointHook')),
            custom_hooks=[dict(type='mmseg.RunFingerprintHook')]))
    add_train_guards(cfg)
    assert cfg.default_hooks.checkpoint.type == 'MyCheckpointHook'
    assert cfg.custom_hooks == [dict(type='mmseg.RunFingerprintHook')]
    bare = Config(dict())  # no hooks at all
    add_train_guards(bare)
    assert bare.custom_hooks == [dict(type='mmseg.RunFingerprintHook')]


@pytest.mark.parametrize('env, rank', [
    ({}, 0),
    (dict(RANK='3'), 3),
    (dict(SLURM_PROCID='2'), 2),
    (dict(RANK='1', SLURM_PROCID='2'), 1),
    (dict(RANK=''), 0),
])
def test_global_rank_from_the_launcher(monkeypatch, env, rank):
    for name in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert global_rank() == rank


def test_rank_0_holds_the_work_dir_others_do_not(tmp_path, monkeypatch):
    monkeypatch.setenv('RANK', '0')
    lock = tmp_path / 'train.lock'
    with work_dir_held(str(tmp_path)):
        assert json.loads(lock.read_text())['pid'] == os.getpid()
        with pytest.raises(WorkDirInUseError):
            with work_dir_held(str(tmp_path)):
                pass
        monkeypatch.setenv('RANK', '1')
        with work_dir_held(str(tmp_path)):  # rank 1: no lock taken
            pass
        assert lock.exists()
    assert not lock.exists()
    # an error inside still releases it
    monkeypatch.setenv('RANK', '0')
    with pytest.raises(KeyError):
        with work_dir_held(str(tmp_path)):
            raise KeyError('x')
    assert not lock.exists()
    again = WorkDirLock(str(tmp_path))
    assert again.acquire() is None  # not stale: released cleanly
    again.release()
