# Copyright (c) mmrdd contributors. All rights reserved.
"""``pip install .`` (not editable) from a clone, used from elsewhere.

The wheel is built from a copy of the clone (what ``git clone`` gives),
installed with ``pip install --target`` into a directory of its own, and
imported from another directory with only that directory on PYTHONPATH; the
stack (torch, mmcv, MMSeg, MMRazor) is the one running this suite. Configs
are not in the wheel: they are used from the clone, by path.
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = [
    'configs/rdd/rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_'
    'toyseg-96x96.py',
    'configs/rdd/rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_'
    'cityscapes-512x1024.py',
]
# what `import mmrdd` registers, and where (README "Using it ...")
EXPECTED = {
    'mmrazor.registry.MODELS': {
        'RDDSingleTeacherDistill', 'RDDDistiller', 'RDDWeightedKLDivergence',
        'RDDWeightedChannelWiseDivergence'
    },
    'mmrazor.registry.TASK_UTILS': {'RDDTFEDifficulty', 'RDDTSEDifficulty'},
    'mmseg.registry.HOOKS': {'RDDStageHook', 'RDDIterSeedHook'},
    'mmseg.registry.DATASETS': {'ToySegDataset'},
}
# run from another directory: which mmrdd, what it registers, configs by
# path (and the toy model built), the toy data generator
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
root, configs, data = sys.argv[1], sys.argv[2:-1], sys.argv[-1]
models = []
for i, name in enumerate(configs):
    cfg = Config.fromfile(os.path.join(root, name))
    models.append(cfg.model.type)
    if i == 0:
        init_default_scope(cfg.default_scope)
        cfg.model.teacher_ckpt = None
        model = MODELS.build(cfg.model)
        built = type(model).__module__
from mmrdd.datasets import generate_toy_dataset
generate_toy_dataset(data, num_train=2, num_val=1, seed=0)
print(json.dumps(dict(file=mmrdd.__file__, registered=registered,
                      models=models, built=built, cwd=os.getcwd())))
'''
SKIP = shutil.ignore_patterns('.git', '.venv*', 'work_dirs', 'data', 'build',
                              'dist', '*.egg-info', '__pycache__',
                              '.pytest_cache', '*.pth')


def run(args, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        args, capture_output=True, text=True, timeout=300, **kwargs)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc


def probe(pythonpath: str, cwd: str, data: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['PYTHONPATH'] = pythonpath
    proc = run([sys.executable, '-c', PROBE, ROOT, *CONFIGS, data],
               cwd=cwd,
               env=env)
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


def test_wheel_holds_the_package_and_nothing_else(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split('/')[0] for name in names}
    assert len([t for t in tops if t.endswith('.dist-info')]) == 1
    assert tops - {t for t in tops if t.endswith('.dist-info')} == {'mmrdd'}
    source = sorted(
        osp.relpath(osp.join(d, f), ROOT).replace(os.sep, '/')
        for d, _, files in os.walk(osp.join(ROOT, 'mmrdd')) for f in files
        if not f.endswith('.pyc'))
    assert len(source) > 20 and 'mmrdd/datasets/toy_generator.py' in source
    assert sorted(n for n in names if n.startswith('mmrdd/')) == source


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
    assert installed['models'] == ['RDDSingleTeacherDistill'] * 2
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
    assert decorated > 10 and aliases == 2
    assert sum(map(len, installed['registered'].values())) == \
        decorated + aliases
    # the same registrations as the source tree
    source = probe(ROOT, str(elsewhere), str(tmp_path / 'toy_src'))
    assert source['file'] == osp.join(ROOT, 'mmrdd', '__init__.py')
    assert installed['registered'] == source['registered']
