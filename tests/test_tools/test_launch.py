# Copyright (c) mmrdd contributors. All rights reserved.
"""The launch commands of docs/usage.md, as written, from a shell without
the venv.

A new user runs ``make demo`` and then ``tools/dist_train.sh CONFIG 2`` in a
shell whose ``python`` is not the project's: the launchers must find
``.venv`` themselves (``tools/launch_common.sh``), and the page's ``python
tools/...`` commands run after ``source .venv/bin/activate``.

The commands run in a stand-in clone: ``tools/`` copied (the scripts find
the repository from their own path), ``mmrdd/`` and ``configs/`` linked,
``.venv`` linked to the environment running this suite (``make test``'s
``.venv``, ``make test-compat``'s ``.venv-compat``, or any other), and what
``make demo`` leaves (``data/toyseg``, ``work_dirs/demo/teacher.pth``)
linked to this suite's toy data and toy teacher. ``python`` on PATH is an
interpreter without site-packages, so it has no torch.
"""
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest
from _dist_worker import free_port
from conftest import ROOT

pytestmark = pytest.mark.slow

USAGE = osp.join(ROOT, 'docs', 'usage.md')
TOY_LAUNCH = 'tools/dist_train.sh configs/rdd/rdd_logits_deeplabv3_toy'
# shortens the page's 2k-iteration toy run to 4 iterations of 2 crops
SHORT = [
    'train_cfg.max_iters=4',
    'train_cfg.val_interval=4',
    'param_scheduler.0.end=4',
    'default_hooks.checkpoint.interval=4',
    'default_hooks.logger.interval=1',
    'train_dataloader.batch_size=2',
    'teacher_check.min_miou=0'  # a 4-iteration teacher
]
for _split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
    SHORT += [f'{_split}.num_workers=0', f'{_split}.persistent_workers=False']


def usage_block(first: str) -> list:
    """The command lines of the bash block of docs/usage.md that contains
    ``first``.

    Comments and blank lines are dropped; continued lines are joined.
    """
    with open(USAGE, encoding='utf-8') as f:
        blocks = re.findall(r'```bash\n(.*?)```', f.read(), flags=re.S)
    found = [b for b in blocks if first in b]
    assert len(found) == 1, f'{len(found)} usage.md bash blocks with {first!r}'
    lines = found[0].replace('\\\n', ' ').splitlines()
    lines = [re.sub(r'\s+#.*$', '', line).strip() for line in lines]
    return [line for line in lines if line and not line.startswith('#')]


def switch_option(config: str, switch: int) -> str:
    """The --cfg-options item that sets the TFE -> TSE switch of ``config``."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, config))
    if 'switch_iter' in cfg.model.get('distiller', {}):
        return f'model.distiller.switch_iter={switch}'
    index = [h['type'] for h in cfg.custom_hooks].index('RDDStageHook')
    return f'custom_hooks.{index}.switch_iter={switch}'


def fake_clone(tmp_path, venv: bool = True) -> str:
    """A repository laid out as after ``make demo`` (see the module doc)."""
    repo = tmp_path / 'repo'
    shutil.copytree(
        osp.join(ROOT, 'tools'),
        repo / 'tools',
        ignore=shutil.ignore_patterns('__pycache__'))
    for name in ('mmrdd', 'configs'):
        os.symlink(osp.join(ROOT, name), repo / name)
    if venv:
        os.symlink(sys.prefix, repo / '.venv')
    return str(repo)


def shell_env(tmp_path, activated: bool = False) -> dict:
    """A user's shell: ``python`` on PATH has no torch, no PYTHON(PATH).

    With ``activated``, the environment of this suite comes first on PATH,
    as after ``source VENV/bin/activate``.
    """
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    bare = bin_dir / 'python'
    bare.write_text(f'#!/bin/sh\nexec {sys._base_executable} -S "$@"\n')
    bare.chmod(0o755)
    path = [
        p for p in os.environ['PATH'].split(os.pathsep)
        if p and not osp.realpath(p).startswith(osp.realpath(sys.prefix))
    ]
    path.insert(0, str(bin_dir))
    if activated:
        path.insert(0, osp.join(sys.prefix, 'bin'))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ('PYTHON', 'PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV')
    }
    env.update(
        PATH=os.pathsep.join(path), OMP_NUM_THREADS='1', PORT=str(free_port()))
    return env


def bash(script: str, cwd: str, env: dict, timeout: int = 60):
    return subprocess.run(['bash', '-c', script],
                          cwd=cwd,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=timeout)


def test_python_on_path_has_no_torch(tmp_path):
    """The premise: the page's ``python`` alone would fail."""
    proc = bash('python -c "import torch"', str(tmp_path), shell_env(tmp_path))
    assert proc.returncode != 0
    assert "No module named 'torch'" in proc.stderr


def test_usage_toy_launch_and_python_tools_as_written(toy_data, teacher_run,
                                                      tmp_path):
    repo = fake_clone(tmp_path)
    os.makedirs(osp.join(repo, 'data'))
    os.symlink(toy_data, osp.join(repo, 'data', 'toyseg'))
    os.makedirs(osp.join(repo, 'work_dirs', 'demo'))
    os.symlink(teacher_run['ckpt'],
               osp.join(repo, 'work_dirs', 'demo', 'teacher.pth'))
    lines = usage_block(TOY_LAUNCH)
    assert lines[0].startswith(TOY_LAUNCH), lines
    assert any(line.startswith('python tools/') for line in lines), lines
    env = shell_env(tmp_path)
    # the page's run is 2k iterations; this one stops after 4, with the
    # TFE -> TSE switch at 2
    proc = bash(
        lines[0] + ' --cfg-options ' + ' '.join(SHORT) + ' ' +
        switch_option(lines[0].split()[1], 2),
        repo,
        env,
        timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    venv_python = osp.join(repo, '.venv', 'bin', 'python')
    assert f'[mmrdd] using {venv_python}' in out
    assert 'Distributed training: True' in out
    assert re.search(r'GPU number: 2\b', out), out[-4000:]
    assert 'RDD stage TFE from iteration 0 (switch_iter=2)' in out
    assert 'RDD stage TSE from iteration 2' in out
    assert 'Saving checkpoint at 4 iterations' in out
    work = osp.join(
        repo, 'work_dirs', 'rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_'
        '1xb8-2k_toyseg-96x96')
    assert osp.isfile(osp.join(work, 'iter_4.pth'))

    # the converter and MMSeg's test of the student, after `activate`
    script = ['set -e']
    script += [line.replace('iter_2000', 'iter_4') for line in lines[1:]]
    proc = bash('\n'.join(script), repo, env, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.search(
        r'student checkpoint \(\d+ tensors\): .*'
        r'iter_4_student\.pth', out), out[-4000:]
    assert osp.isfile(osp.join(work, 'iter_4_student.pth'))
    # tools/test.py, then tools/dist_test.sh on 2 processes: the same mIoU
    miou = re.findall(r'mIoU: (\d+\.\d+)', out)
    assert len(miou) == 2 and 0 <= float(miou[0]) <= 100, out[-4000:]
    assert miou[0] == miou[1], miou
    assert re.search(r'GPU number: 2\b', out), out[-4000:]


@pytest.mark.parametrize('activated', [False, True])
def test_slurm_scripts_pick_the_environment(tmp_path, activated):
    """``slurm_*.sh`` hand srun the same interpreter (srun is faked)."""
    repo = fake_clone(tmp_path)
    env = shell_env(tmp_path, activated=activated)
    srun = tmp_path / 'bin' / 'srun'
    srun.write_text('#!/bin/sh\necho "srun $*"\n')
    srun.chmod(0o755)
    expected = 'python' if activated else osp.join(repo, '.venv', 'bin',
                                                   'python')
    # (command, the tool, what follows the launcher: the user's arguments)
    cases = [
        ('GPUS=4 tools/slurm_train.sh PARTITION rdd CONFIG --amp',
         'tools/train.py', ['CONFIG', '--amp']),
        ('GPUS=4 SRUN_ARGS="--qos=high --time=1" '
         'tools/slurm_test.sh PARTITION rdd CONFIG CKPT', 'tools/test.py',
         ['CONFIG', 'CKPT']),
    ]
    for cmd, tool, user_args in cases:
        proc = bash(cmd, repo, env)
        assert proc.returncode == 0, proc.stderr
        srun_line = [
            line for line in proc.stdout.splitlines()
            if line.startswith('srun ')
        ]
        assert len(srun_line) == 1, proc.stdout
        srun_args = ['--qos=high', '--time=1'] if 'SRUN_ARGS' in cmd else []
        assert srun_line[0].split() == [
            'srun', '-p', 'PARTITION', '--job-name=rdd', '--gres=gpu:4',
            '--ntasks=4', '--ntasks-per-node=4', '--cpus-per-task=5',
            '--kill-on-bad-exit=1', *srun_args, expected, '-u', tool,
            '--launcher=slurm', *user_args
        ]
        assert ('[mmrdd] using' in proc.stderr) == (not activated)


def test_dist_scripts_hand_torchrun_the_tool_and_the_node_settings(tmp_path):
    """``dist_*.sh`` run ``python -m torch.distributed.run`` with the
    multi-node variables (PYTHON is a fake that prints its arguments)."""
    repo = fake_clone(tmp_path)
    fake = tmp_path / 'bin' / 'fake-python'
    env = shell_env(tmp_path)
    fake.write_text('#!/bin/sh\necho "python $*"\n')
    fake.chmod(0o755)
    env['PYTHON'] = str(fake)
    env.pop('PORT', None)  # the default, 29500
    # (command, processes, the tool, the user's arguments)
    cases = [
        ('NNODES=2 NODE_RANK=1 MASTER_ADDR=10.0.0.1 PORT=29600 '
         'tools/dist_train.sh CONFIG 4 --amp', '4', 'tools/train.py',
         ['CONFIG', '--amp']),
        ('tools/dist_test.sh CONFIG CKPT 2', '2', 'tools/test.py',
         ['CONFIG', 'CKPT']),
    ]
    for cmd, procs, tool, user_args in cases:
        proc = bash(cmd, repo, env)
        assert proc.returncode == 0, proc.stderr
        nodes = (['2', '1', '10.0.0.1', '29600']
                 if 'NNODES' in cmd else ['1', '0', '127.0.0.1', '29500'])
        assert proc.stdout.split() == [
            'python', '-m', 'torch.distributed.run', f'--nnodes={nodes[0]}',
            f'--node_rank={nodes[1]}', f'--master_addr={nodes[2]}',
            f'--nproc_per_node={procs}', f'--master_port={nodes[3]}', tool,
            '--launcher', 'pytorch', *user_args
        ]


def test_launcher_without_any_environment_says_how_to_make_one(tmp_path):
    repo = fake_clone(tmp_path, venv=False)
    for cmd in ('tools/dist_train.sh CONFIG 2',
                'tools/dist_test.sh CONFIG CKPT 2',
                'tools/slurm_train.sh PARTITION rdd CONFIG'):
        proc = bash(cmd, repo, shell_env(tmp_path))
        assert proc.returncode == 1, (cmd, proc.stdout, proc.stderr)
        assert 'no python with torch' in proc.stderr
        assert "Run 'make test'" in proc.stderr
        assert 'PYTHON=' in proc.stderr
