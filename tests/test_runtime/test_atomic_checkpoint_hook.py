# Copyright (c) mmrdd contributors. All rights reserved.
"""AtomicCheckpointHook keeps what MMEngine's CheckpointHook keeps, and a
save that fails halfway leaves the previous checkpoint (MMEngine's hook,
with one checkpoint kept, leaves none)."""
import os

import pytest
import torch
from _toy_models import segmentor_cfg, tiny_runner
from mmengine.fileio.backends import LocalBackend

import mmrdd  # noqa: F401  (registers the hook)
from mmrdd.runtime import checkpoint_problem
from mmrdd.runtime.atomic_checkpoint_hook import replace_text_atomically

HOOKS = ('CheckpointHook', 'AtomicCheckpointHook')


def runner(tmp_path, hook, max_iters, max_keep, name, **kwargs):
    return tiny_runner(
        tmp_path,
        segmentor_cfg(base=4, aux=False),
        name=name,
        custom_hooks=[],
        max_iters=max_iters,
        checkpoint_interval=1,
        checkpoint=dict(type=hook, max_keep_ckpts=max_keep),
        **kwargs)


@pytest.mark.parametrize('max_keep', [1, 2, -1])
def test_keeps_the_checkpoints_mmengine_keeps(tmp_path, max_keep):
    kept = {}
    for hook in HOOKS:
        work_dir = tmp_path / hook
        runner(work_dir, hook, 4, max_keep, f'keep{max_keep}').train()
        names = sorted(n for n in os.listdir(work_dir) if n.endswith('.pth'))
        last = torch.load(work_dir / 'iter_4.pth')
        kept[hook] = (names, (work_dir / 'last_checkpoint').read_text(),
                      last['message_hub']['runtime_info'].get('keep_ckpt_ids'))
        assert not [n for n in os.listdir(work_dir) if n.endswith('.tmp')]
    (names, pointer, ids), (a_names, a_pointer, a_ids) = kept.values()
    assert names == a_names == (['iter_4.pth'] if max_keep == 1 else
                                ['iter_3.pth', 'iter_4.pth'] if max_keep == 2
                                else [f'iter_{i}.pth' for i in range(1, 5)])
    assert pointer.replace('CheckpointHook', 'AtomicCheckpointHook') == \
        a_pointer == str(tmp_path / 'AtomicCheckpointHook' / 'iter_4.pth')
    assert ids == a_ids


@pytest.fixture
def failing_save_at_3(monkeypatch):
    """The save of iteration 3 writes half its bytes, then fails."""
    put = LocalBackend.put

    def half_then_fail(backend, obj, filepath):
        if 'iter_3' in str(filepath):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise OSError('disk gone (test)')
        return put(backend, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', half_then_fail)


def test_mmengine_hook_loses_the_only_checkpoint(tmp_path, failing_save_at_3):
    """What AtomicCheckpointHook fixes."""
    with pytest.raises(OSError, match='disk gone'):
        runner(tmp_path, 'CheckpointHook', 4, 1, 'stock').train()
    assert not (tmp_path / 'iter_2.pth').exists()
    assert 'truncated' in checkpoint_problem(str(tmp_path / 'iter_3.pth'))


def test_failed_save_keeps_the_previous_checkpoint_then_resumes(
        tmp_path, failing_save_at_3, monkeypatch):
    with pytest.raises(OSError, match='disk gone'):
        runner(tmp_path, 'AtomicCheckpointHook', 4, 1, 'atomic').train()
    assert {n
            for n in os.listdir(tmp_path) if n[:2] != '20'
            } == {'.iter_3.pth.tmp', 'iter_2.pth', 'last_checkpoint'}
    assert checkpoint_problem(str(tmp_path / 'iter_2.pth')) is None
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path /
                                                             'iter_2.pth')
    monkeypatch.undo()
    resumed = runner(
        tmp_path, 'AtomicCheckpointHook', 4, 1, 'atomic-resumed', resume=True)
    warnings = []
    monkeypatch.setattr(resumed.logger, 'warning', warnings.append)
    resumed.train()
    assert any(
        w.startswith(f'Deleted {tmp_path}/.iter_3.pth.tmp')
        for w in warnings), warnings
    assert resumed.iter == 4
    assert sorted(n for n in os.listdir(tmp_path)
                  if 'iter' in n) == ['iter_4.pth']


def test_replace_text_atomically(tmp_path):
    path = tmp_path / 'last_checkpoint'
    path.write_text('old')
    replace_text_atomically(str(path), 'new')
    assert path.read_text() == 'new'
    assert os.listdir(tmp_path) == ['last_checkpoint']
