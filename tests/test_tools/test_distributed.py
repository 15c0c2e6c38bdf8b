# Copyright (c) mmrdd contributors. All rights reserved.
"""tools/dist_train.sh with 2 CPU processes (torchrun, gloo) across the switch.

Rank 0 writes the log and the checkpoints; a test-only hook
(``_rank_state_hook.RankStateDumpHook``) makes every rank save its student
and per-iteration losses, so the test also sees what rank 1 did.
"""
import math
import os
import os.path as osp
import subprocess
import textwrap

import pytest
import torch
from _dist_worker import free_port
from conftest import (PY, ROOT, check_switch_log, data_options,
                      last_checkpoint, tse_options)

import mmrdd  # noqa: F401  (loads mmengine checkpoints on torch>=2.6)

pytestmark = pytest.mark.slow

RDD_TOY = 'configs/rdd/rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501
HERE = osp.dirname(osp.abspath(__file__))

# SyncBuffersHook averages the plain-BN running statistics across ranks at
# the end of training (SyncBN, which the GPU configs use, has no CPU
# implementation). Without it each rank keeps the statistics of its own last
# batch (DDP broadcasts rank 0's buffers only at the start of each forward),
# while the parameters match anyway.
DIST_CFG = textwrap.dedent('''
    _base_ = ['{root}/{rdd}']
    model = dict(distiller=dict(switch_iter={switch}))
    custom_imports = dict(imports=['mmrdd', '_rank_state_hook'],
                          allow_failed_imports=False)
    custom_hooks = [
        dict(type='RDDStageHook'),
        dict(type='SyncBuffersHook'),
        dict(type='RankStateDumpHook'),
    ]
''')


def test_dist_train_two_cpu_processes_across_the_stage_switch(
        toy_data, teacher_run, tmp_path):
    iters, switch = 4, 2
    cfg = tmp_path / 'dist_rdd.py'
    cfg.write_text(DIST_CFG.format(root=ROOT, rdd=RDD_TOY, switch=switch))
    work_dir = str(tmp_path / 'work')
    env = dict(
        os.environ,
        PYTHON=PY,
        PORT=str(free_port()),
        OMP_NUM_THREADS='1',
        PYTHONPATH=os.pathsep.join([HERE,
                                    os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run([
        'bash', 'tools/dist_train.sh',
        str(cfg), '2', '--work-dir', work_dir, '--cfg-options',
        *data_options(toy_data, iters=iters), *tse_options(teacher_run['ckpt'])
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=400,
                          env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]

    # rank 0 logs: both stages, finite losses at every iteration
    assert f'RDD stage TFE from iteration 0 (switch_iter={switch})' in out
    check_switch_log(out, iters, switch)

    states = [
        torch.load(osp.join(work_dir, f'rank{r}_state.pth')) for r in (0, 1)
    ]
    for state in states:
        assert state['world_size'] == 2
        assert state['wrapper'] == 'MMDistributedDataParallel'
        records = state['records']
        assert [r['iter'] for r in records] == list(range(iters))
        assert [r['stage'] for r in records] == ['tfe'] * switch + ['tse'] * (
            iters - switch)
        for r in records:
            assert all(math.isfinite(v) for v in r['losses'].values())
            assert r['losses']['student.decode.loss_ce'] > 0
    # each rank trained on its own half of the batch...
    assert any(a['losses']['loss'] != b['losses']['loss']
               for a, b in zip(states[0]['records'], states[1]['records']))
    # ...and the all-reduced gradients kept the students identical
    s0, s1 = states[0]['student'], states[1]['student']
    assert s0.keys() == s1.keys()
    for key in s0:
        assert torch.equal(s0[key], s1[key]), key
    # rank 0's checkpoint (saved before the buffers were averaged) holds the
    # same student parameters
    ckpt = torch.load(last_checkpoint(work_dir))
    for key, value in ckpt['state_dict'].items():
        if key.startswith('architecture.') and 'running_' not in key:
            assert torch.equal(value, s0[key[len('architecture.'):]]), key
