# Copyright (c) mmrdd contributors. All rights reserved.
"""A training process killed with SIGKILL at a random point, then resumed
with --resume, ends on the uninterrupted run's weights in the right stage
(with IterSeedHook, dropout on); a truncated last checkpoint gives an
error that names it and the previous good checkpoint."""
import os
import os.path as osp
import random
import re
import shutil
import signal
import subprocess
import time

import pytest
from conftest import PY, ROOT, run_tool
from test_resume import (ITERS, RDD_TOY, SWITCH, assert_same_weights, options,
                         weights, with_dropout)

pytestmark = pytest.mark.slow

ENV = dict(os.environ, OMP_NUM_THREADS='1')


def args(config, work_dir, opts, resume=False):
    cmd = ['tools/train.py', str(config), '--work-dir', str(work_dir)]
    return cmd + (['--resume'] if resume else []) + ['--cfg-options', *opts]


@pytest.fixture(scope='module')
def setting(toy_data, teacher_run, tmp_path_factory):
    """Config with IterSeedHook, options, and the uninterrupted run."""
    folder = tmp_path_factory.mktemp('faults')
    config = folder / 'rdd_toy_seeded.py'
    config.write_text(f"_base_ = ['{osp.join(ROOT, RDD_TOY)}']\n"
                      "custom_hooks = [dict(type='RDDStageHook'), "
                      "dict(type='IterSeedHook')]\n")
    opts = with_dropout(options(toy_data, teacher_run['ckpt']))
    full = folder / 'full'
    run_tool(*args(config, full, opts), env=dict(OMP_NUM_THREADS='1'))
    return dict(config=config, opts=opts, full=full)


def stage_line(k: int) -> str:
    stage = 'TFE' if k < SWITCH else 'TSE'
    return f'RDD stage {stage} from iteration {k}'


def test_sigkill_at_a_random_point_then_resume(setting, tmp_path):
    rng = random.Random()
    after, delay = rng.randint(1, ITERS - 2), rng.uniform(0.0, 0.5)
    where = f'(killed {delay:.2f} s after iter_{after}.pth was saved)'
    work_dir = tmp_path / 'killed'
    pointer = work_dir / 'last_checkpoint'
    proc = subprocess.Popen(
        [PY, *args(setting['config'], work_dir, setting['opts'])],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    # MMEngine writes last_checkpoint once the checkpoint file is complete
    while not (pointer.exists()
               and pointer.read_text().strip().endswith(f'iter_{after}.pth')):
        assert proc.poll() is None, f'training ended early {where}'
        assert time.time() < deadline, 'no checkpoint after 300 s'
        time.sleep(0.02)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, f'not killed {where}'
    resumed_from = pointer.read_text().strip()
    opts = setting['opts']
    if not resumed_from:  # killed while it rewrote last_checkpoint itself
        out = subprocess.run(
            [PY, *args(setting['config'], work_dir, opts, resume=True)],
            cwd=ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=300)
        assert out.returncode == 1, where
        resumed_from = re.search(r'previous good checkpoint is (\S+):',
                                 out.stderr).group(1)
        opts = [*opts, f'load_from={resumed_from}']
    done = int(re.search(r'iter_(\d+)\.pth$', resumed_from).group(1))
    assert after <= done < ITERS, (resumed_from, where)
    log = run_tool(
        *args(setting['config'], work_dir, opts, resume=True),
        env=dict(OMP_NUM_THREADS='1'))
    assert f'resumed epoch: 0, iter: {done}' in log, where
    assert stage_line(done) in log, where  # the stage of iteration `done`
    assert_same_weights(
        weights(setting['full'] / f'iter_{ITERS}.pth'),
        weights(work_dir / f'iter_{ITERS}.pth'))


def test_truncated_last_checkpoint_names_it_and_the_previous_one(
        setting, tmp_path):
    k = SWITCH + 1
    for it in (k - 1, k):
        shutil.copy(setting['full'] / f'iter_{it}.pth', tmp_path)
    bad, good = tmp_path / f'iter_{k}.pth', tmp_path / f'iter_{k - 1}.pth'
    data = bad.read_bytes()
    bad.write_bytes(data[:len(data) // 2])  # a half-written file
    (tmp_path / 'last_checkpoint').write_text(str(bad))
    proc = subprocess.run(
        [PY, *args(setting['config'], tmp_path, setting['opts'], resume=True)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert f'cannot resume: the checkpoint {bad}' in out
    assert f'the previous good checkpoint is {good}' in out
    assert 'Traceback' not in out and 'pickle' not in out.lower()
    # the fix the message gives resumes from the previous checkpoint and
    # ends on the uninterrupted run's weights
    log = run_tool(
        *args(
            setting['config'],
            tmp_path, [*setting['opts'], f'load_from={good}'],
            resume=True),
        env=dict(OMP_NUM_THREADS='1'))
    assert f'resumed epoch: 0, iter: {k - 1}' in log
    assert stage_line(k - 1) in log
    assert_same_weights(
        weights(setting['full'] / f'iter_{ITERS}.pth'),
        weights(tmp_path / f'iter_{ITERS}.pth'))
