# Copyright (c) mmrdd contributors. All rights reserved.
"""``pip install .`` (not editable) from a clone, used from elsewhere.

The wheel is built from a copy of the clone (what ``git clone`` gives),
installed with ``pip install --target`` into a directory of its own, and
used from another directory with only that directory on PYTHONPATH; the
stack (torch, mmcv, MMSeg, MMRazor) is the one running this suite. The
wheel is the plugin and its configs (``mmrdd::``), with the command lines
``mmrdd-train``, ``mmrdd-test`` and ``mmrdd-convert``: no clone is needed.
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest

pytestmark = pytest.mark.slow

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_RDD = 'rdd/rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_' \
    'toyseg-96x96.py'
CITYSCAPES_RDD = 'rdd/rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-' \
    '40k_cityscapes-512x1024.py'
# what `import mmrdd` registers, and where (docs/method.md, "Components")
EXPECTED = {
    'mmrazor.registry.MODELS': {
        'FrozenTeacherDistill', 'RDDSingleTeacherDistill', 'RDDDistiller',
        'WeightedKLDivergence', 'WeightedChannelWiseDivergence'
    },
    'mmrazor.registry.TASK_UTILS': {'RDDTFEDifficulty', 'RDDTSEDifficulty'},
    'mmseg.registry.HOOKS': {'RDDStageHook', 'RDDIterSeedHook'},
    'mmseg.registry.DATASETS': {'ToySegDataset'},
}
# A user's configs, anywhere on disk, that inherit ours by package scope.
USER_CONFIGS = {
    'my_toy_rdd.py':
    f"_base_ = ['mmrdd::{TOY_RDD}']\n"
    'model = dict(distiller=dict(switch_iter=1))\n',
    'my_cityscapes_rdd.py':
    f"_base_ = ['mmrdd::{CITYSCAPES_RDD}']\n"
    'model = dict(distiller=dict(switch_iter=2000))\n',
}
# run from another directory: which mmrdd, what it registers, the user's
# configs (and the toy model built), the toy data generator
PROBE = '''
import importlib, json, os, sys
import mmrdd
from mmengine.config import Config
from mmengine.registry import MODELS, Registry, init_default_scope
registered = {}
for mod in ('mmengine.registry', 'mmseg.registry', 'mmrazor.registry'):
    for attr, reg in vars(importlib.import_module(mod)).items():
        if isinstance(reg, Registry):
            names = sorted(k for k, v in reg.module_dict.items()
                           if getattr(v, '__module__', '').startswith('mmrdd'))
            if names:
                registered[mod + '.' + attr] = names
configs, data = sys.argv[1:-1], sys.argv[-1]
models, switch = [], []
for i, name in enumerate(configs):
    cfg = Config.fromfile(name)
    models.append(cfg.model.type)
    switch.append(cfg.model.distiller.switch_iter)
    if i == 0:
        init_default_scope(cfg.default_scope)
        cfg.model.teacher_ckpt = None
        model = MODELS.build(cfg.model)
        built = type(model).__module__
from mmrdd.datasets import generate_toy_dataset
generate_toy_dataset(data, num_train=4, num_val=2, seed=0)
print(json.dumps(dict(file=mmrdd.__file__, registered=registered,
                      models=models, switch=switch, built=built,
                      cwd=os.getcwd())))
'''
SKIP = shutil.ignore_patterns('.git', '.venv*', 'work_dirs', 'data', 'build',
                              'dist', '*.egg-info', '__pycache__',
                              '.pytest_cache', '*.pth')


def run(args, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        args, capture_output=True, text=True, timeout=300, **kwargs)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc


def user_env(pythonpath: str) -> dict:
    """This environment, with only ``pythonpath`` on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['PYTHONPATH'] = pythonpath
    return env


def probe(pythonpath: str, cwd: str, data: str) -> dict:
    for name, text in USER_CONFIGS.items():
        with open(osp.join(cwd, name), 'w') as f:
            f.write(text)
    proc = run([sys.executable, '-c', PROBE, *USER_CONFIGS, data],
               cwd=cwd,
               env=user_env(pythonpath))
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> str:
    clone = tmp_path_factory.mktemp('clone') / 'mmrdd'
    shutil.copytree(ROOT, clone, ignore=SKIP)
    dist = tmp_path_factory.mktemp('dist')
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check']
    run([
        *pip, 'wheel', '--no-deps', '--no-index', '--no-build-isolation',
        str(clone), '-w',
        str(dist)
    ])
    wheels = os.listdir(dist)
    assert len(wheels) == 1 and wheels[0].startswith('mmrdd-'), wheels
    return str(dist / wheels[0])


def tree(top: str, under: str) -> list:
    """The files below ``top`` (links followed), as ``under/<relative>``."""
    return sorted(
        under + '/' + osp.relpath(osp.join(d, f), top).replace(os.sep, '/')
        for d, _, files in os.walk(top, followlinks=True) for f in files
        if not f.endswith('.pyc'))


def test_wheel_holds_the_plugin_and_its_configs(wheel):
    """The package, every config under ``.mim/configs`` (as MMSeg ships
    its own) and the three command lines; no lab, tools or tests."""
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    tops = {name.split('/')[0] for name in names}
    info = [t for t in tops if t.endswith('.dist-info')]
    assert len(info) == 1 and tops - set(info) == {'mmrdd'}
    code = [
        n for n in tree(osp.join(ROOT, 'mmrdd'), 'mmrdd')
        if not n.startswith('mmrdd/.mim/')
    ]
    assert len(code) > 20 and 'mmrdd/datasets/toy_generator.py' in code
    assert 'mmrdd/cli/train.py' in code
    configs = tree(osp.join(ROOT, 'configs'), 'mmrdd/.mim/configs')
    assert len(configs) > 80 and f'mmrdd/.mim/configs/{TOY_RDD}' in configs
    assert sorted(
        n for n in names
        if n.startswith('mmrdd/')) == sorted(code + configs +
                                             ['mmrdd/.mim/model-index.yml'])
    assert not any('mmrdd_lab' in n or 'benchmark' in n for n in names)
    entry_points = archive.read(f'{info[0]}/entry_points.txt').decode()
    for tool in ('train', 'test', 'convert'):
        assert f'mmrdd-{tool} = mmrdd.cli.{tool}:main' in entry_points


def test_pip_install_needs_nothing_beyond_the_stack(tmp_path):
    """In the environment running this suite, `pip install .` of a clone
    would add mmrdd alone: every requirement is already met (no index)."""
    clone = tmp_path / 'mmrdd'
    shutil.copytree(ROOT, clone, ignore=SKIP)
    report = tmp_path / 'report.json'
    run([
        sys.executable, '-m', 'pip', '--disable-pip-version-check', 'install',
        '--dry-run', '--no-index', '--no-build-isolation', '--report',
        str(report),
        str(clone)
    ])
    install = json.loads(report.read_text())['install']
    assert [item['metadata']['name'] for item in install] == ['mmrdd']


def test_installed_wheel_works_from_another_directory(wheel, tmp_path):
    target = tmp_path / 'site'
    run([
        sys.executable, '-m', 'pip', '--disable-pip-version-check', 'install',
        '--no-deps', '--no-index', '--target',
        str(target), wheel
    ])
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    installed = probe(str(target), str(elsewhere), str(tmp_path / 'toy'))
    assert installed['file'] == str(target / 'mmrdd' / '__init__.py')
    assert installed['cwd'] == str(elsewhere)
    for registry, names in EXPECTED.items():
        assert names <= set(installed['registered'].get(
            registry, [])), (registry, installed['registered'])
    # the user's configs inherit ours by package scope, and override them
    assert installed['models'] == ['FrozenTeacherDistill'] * 2
    assert installed['switch'] == [1, 2000]
    assert installed['built'].startswith('mmrdd.models.')
    for split in ('train', 'val'):
        assert os.listdir(tmp_path / 'toy' / 'img_dir' / split)
    # every class the source decorates is registered, once, and every alias
    # the source registers by name (the 0.1 names of renamed classes)
    decorated = aliases = 0
    for d, _, files in os.walk(osp.join(ROOT, 'mmrdd')):
        for f in files:
            if f.endswith('.py'):
                with open(osp.join(d, f), encoding='utf-8') as src:
                    for line in src:
                        line = line.lstrip()
                        decorated += line.startswith('@') and \
                            '.register_module(' in line
                        aliases += not line.startswith(('@', '#')) and \
                            '.register_module(' in line
    assert decorated > 10 and aliases == 11
    assert sum(map(len, installed['registered'].values())) == \
        decorated + aliases
    # the same registrations as the source tree
    source = probe(ROOT, str(elsewhere), str(tmp_path / 'toy_src'))
    assert source['file'] == osp.join(ROOT, 'mmrdd', '__init__.py')
    assert installed['registered'] == source['registered']


def test_installed_command_lines_train_convert_and_test(wheel, tmp_path):
    """A user without a clone: ``mmrdd-train`` on their config that inherits
    ``mmrdd::`` (through both RDD stages), ``mmrdd-convert`` to the
    student, ``mmrdd-test`` with our student config by package scope."""
    target = tmp_path / 'site'
    run([
        sys.executable, '-m', 'pip', '--disable-pip-version-check', 'install',
        '--no-deps', '--no-index', '--target',
        str(target), wheel
    ])
    user = tmp_path / 'user'
    user.mkdir()
    probe(str(target), str(user), str(user / 'toy'))
    env = user_env(str(target))
    data = [
        f'{split}.{key}'
        for split in ('train_dataloader', 'val_dataloader', 'test_dataloader')
        for key in ('dataset.data_root=toy', 'num_workers=0',
                    'persistent_workers=False')
    ]
    run([
        sys.executable,
        str(target / 'bin' / 'mmrdd-train'), 'my_toy_rdd.py', '--work-dir',
        'run', '--cfg-options', *data, 'model.teacher_ckpt=None',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'param_scheduler.0.end=2', 'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2',
        'teacher_check.min_miou=0'
    ],
        cwd=user,
        env=env)
    log = open(user / 'run' / 'last_checkpoint').read().strip()
    assert log.endswith('iter_2.pth')
    out = run([
        sys.executable,
        str(target / 'bin' / 'mmrdd-convert'), 'run/iter_2.pth'
    ],
              cwd=user,
              env=env).stdout
    assert 'run/iter_2_student.pth' in out
    test = run([
        sys.executable,
        str(target / 'bin' / 'mmrdd-test'),
        'mmrdd::toy/deeplabv3_toy-r18-d8_1xb8-2k_toyseg-96x96.py',
        'run/iter_2_student.pth', '--work-dir', 'score', '--cfg-options', *data
    ],
               cwd=user,
               env=env)
    assert 'mIoU' in test.stdout + test.stderr
