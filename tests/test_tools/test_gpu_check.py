# Copyright (c) mmrdd contributors. All rights reserved.
"""The prepared GPU check (tools/misc/gpu_check.sh, mmrdd_lab.gpu_check).

The carried-wheel check as a truth table on fake archives; the synthetic
Cityscapes data read by MMSeg; the generated training config; the
summaries computed from hand-made logs; the verdict. Slow: ``--prepare``
from PyPI and the set-up into a fresh CPython 3.12 (without torch, so
without the mmcv build); the benchmark's parallel memory processes. The
whole sequence runs in CI as ``gpu_check.sh --cpu-dry-run`` (.ci/run).
"""
import io
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

from mmrdd_lab import gpu_check

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RDD_CITYSCAPES = osp.join(
    ROOT, 'configs', 'rdd', 'rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_'
    '4xb4-40k_cityscapes-512x1024.py')


# ------------------------------------------------------------------ wheels
def fake_wheel(folder, name, version, requires=(), tag='py3-none-any'):
    path = osp.join(folder, f'{name}-{version}-{tag}.whl')
    meta = f'Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n'
    meta += ''.join(f'Requires-Dist: {r}\n' for r in requires)
    with zipfile.ZipFile(path, 'w') as zf:
        zf.writestr(f'{name}-{version}.dist-info/METADATA', meta)
    return path


def fake_mmcv_sdist(folder, requires_txt):
    path = osp.join(folder, gpu_check.MMCV_SDIST)
    with tarfile.open(path, 'w:gz') as tf:
        for name, text in (
            ('mmcv-2.1.0/PKG-INFO', 'Name: mmcv\nVersion: 2.1.0\n'),
            ('mmcv-2.1.0/mmcv.egg-info/PKG-INFO',
             'Name: mmcv\nVersion: 2.1.0\n'),
            ('mmcv-2.1.0/mmcv.egg-info/requires.txt', requires_txt),
        ):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


CARRIED = ['alpha==1.0', 'beta==2.0']
MACHINE = ['numpy', 'opencv-python-headless', 'torch']
#: mmcv's real requires.txt shape: unconditional lines, a platform section,
#: extras (left out).
MMCV_REQUIRES = ('alpha\nnumpy\nopencv-python>=3\n\n'
                 '[:sys_platform == "win32"]\nregex\n\n'
                 '[tests]\npytest-runner\n')


def complete_folder(folder, alpha_requires=None):
    fake_wheel(
        folder, 'alpha', '1.0', alpha_requires or [
            'beta>=1.5', 'numpy', 'opencv-python>=3', 'gamma; extra == "x"',
            'winonly; sys_platform == "win32"'
        ])
    fake_wheel(folder, 'beta', '2.0', ['numpy'],
               'cp310-abi3-manylinux2014_x86_64')
    fake_mmcv_sdist(folder, MMCV_REQUIRES)


def problems(folder, machine=MACHINE):
    return gpu_check.check_wheels(str(folder), CARRIED, machine)


def test_a_complete_folder_has_no_problem(tmp_path):
    complete_folder(tmp_path)
    assert problems(tmp_path) == []
    name, version, requires = gpu_check.archive_metadata(
        str(tmp_path / gpu_check.MMCV_SDIST))
    assert (name, version) == ('mmcv', '2.1.0')
    assert requires == [
        'alpha', 'numpy', 'opencv-python>=3', 'regex; sys_platform == "win32"'
    ]


@pytest.mark.parametrize('change, expected', [
    (lambda d: os.remove(d / 'beta-2.0-cp310-abi3-manylinux2014_x86_64.whl'),
     'beta==2.0 is missing'),
    (lambda d: os.remove(d / gpu_check.MMCV_SDIST), 'mmcv-2.1.0.tar.gz is '
     'missing'),
    (lambda d: fake_wheel(d, 'alpha', '0.9'), 'two versions'),
    (lambda d: fake_wheel(d, 'delta', '1.0'), 'delta-1.0-py3-none-any.whl '
     'is not in requirements/gpu_check.txt'),
    (lambda d: (d / 'notes.txt').write_text('x'), 'not a carried archive'),
    (lambda d: fake_wheel(d, 'beta', '2.0', tag='cp311-cp311-linux_x86_64'),
     'does not install on CPython 3.12'),
])
def test_each_problem_is_named_with_its_fix(tmp_path, change, expected):
    complete_folder(tmp_path)
    change(tmp_path)
    found = problems(tmp_path)
    assert len(found) >= 1 and any(expected in p for p in found), found


def test_requirements_are_met_by_versions_and_machine_names(tmp_path):
    complete_folder(tmp_path, alpha_requires=['beta>=3', 'zeta'])
    found = problems(tmp_path)
    assert any('needs beta>=3, the folder has beta 2.0' in p for p in found)
    assert any('needs zeta, which is neither carried' in p for p in found)
    # opencv-python is met by the headless build only where it is there
    other = tmp_path / 'other'
    other.mkdir()
    complete_folder(other)
    assert any('needs opencv-python>=3' in p
               for p in problems(other, machine=['numpy', 'torch']))


def test_the_repository_lists_are_pins_and_names():
    from packaging.requirements import Requirement
    carried = gpu_check.read_lines(gpu_check.CARRIED)
    assert 'mmsegmentation==1.2.2' in carried
    for line in carried:
        spec = Requirement(line).specifier
        assert len(spec) == 1 and next(iter(spec)).operator == '==', line
    machine = gpu_check.read_lines(gpu_check.MACHINE)
    assert {'torch', 'numpy', 'opencv-python-headless', 'pytest'
            } <= set(machine)


# -------------------------------------------------------------------- data
def test_synthetic_cityscapes_is_read_by_mmseg(tmp_path):
    import numpy as np
    from mmengine.registry import DefaultScope
    from mmseg.datasets import CityscapesDataset
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    paths = gpu_check.make_cityscapes(str(tmp_path), 3, (64, 128))
    assert len(paths) == 3
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = CityscapesDataset(
            data_root=str(tmp_path),
            data_prefix=dict(
                img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations')
            ])
        assert len(dataset) == 3
        sample = dataset[0]
    assert sample['img'].shape == (64, 128, 3)
    label = sample['gt_seg_map']
    values = set(np.unique(label).tolist())
    assert values <= set(range(19)) | {255} and len(values) > 5
    assert 0.01 < float((label == 255).mean()) < 0.15


# ------------------------------------------------------------------ config
def test_tiny_training_config(tmp_path):
    from mmengine.config import Config
    dst = str(tmp_path / 'cfg.py')
    schedule = gpu_check.train_config(RDD_CITYSCAPES, dst, '/data/synth',
                                      'tiny')
    assert schedule == dict(
        scale='tiny',
        iters=4,
        switch_iter=2,
        batch_size=2,
        crop=[32, 64],
        source=dict(max_iters=40000, switch_iter=4000))
    cfg = Config.fromfile(dst)
    model = cfg.model
    assert 'cfg_path' not in model.architecture and \
        'cfg_path' not in model.teacher
    for net in (model.architecture, model.teacher):
        assert net.pretrained is None and net._scope_ == 'mmseg'
        assert tuple(net.data_preprocessor.size) == (32, 64)
    assert model.architecture.backbone.depth == 18
    assert model.teacher.backbone.depth == 101
    assert model.teacher_ckpt is None
    assert model.distiller.switch_iter == 2
    # 100000 of 4 x 512 x 1024 pixels -> 2 x 32 x 64
    assert model.distiller.tse.min_kept == round(100000 * 4096 / 2097152)
    assert cfg.train_cfg.max_iters == 4 and cfg.train_cfg.val_interval == 5
    assert cfg.val_dataloader is None and cfg.val_cfg is None
    assert cfg.default_hooks.checkpoint is None
    assert cfg.default_hooks.logger.interval == 1
    assert cfg.log_processor.window_size == 1
    assert cfg.teacher_check == dict(num_batches=0)
    loader = cfg.train_dataloader
    assert loader.batch_size == 2 and loader.num_workers == 0
    assert loader.persistent_workers is False
    assert loader.dataset.data_root == '/data/synth'
    steps = {s['type']: s for s in loader.dataset.pipeline}
    assert tuple(steps['RandomResize']['scale']) == (128, 64)
    assert tuple(steps['RandomCrop']['crop_size']) == (32, 64)


def test_full_training_config_keeps_the_reference_sizes(tmp_path):
    from mmengine.config import Config
    dst = str(tmp_path / 'cfg.py')
    schedule = gpu_check.train_config(RDD_CITYSCAPES, dst, '/d', 'full')
    assert (schedule['iters'], schedule['switch_iter'], schedule['batch_size'],
            schedule['crop']) == (100, 50, 4, [512, 1024])
    cfg = Config.fromfile(dst)
    src = Config.fromfile(RDD_CITYSCAPES)
    assert cfg.model.distiller.tse == src.model.distiller.tse
    assert cfg.train_dataloader.dataset.pipeline == \
        src.train_dataloader.dataset.pipeline
    assert cfg.train_dataloader.num_workers == \
        src.train_dataloader.num_workers
    assert cfg.log_processor.window_size == 10


def test_expanded_student_is_the_model_mmrazor_builds():
    """The plain config builds the same network as MMRazor's cfg_path (the
    same parameter names and shapes), without the ImageNet download."""
    import torch
    from mmengine.config import Config
    from mmrazor.registry import MODELS

    import mmrdd  # noqa: F401
    arch = Config.fromfile(RDD_CITYSCAPES).model.architecture.to_dict()
    expanded = gpu_check.expand_segmentor(arch, (32, 64))
    assert expanded['pretrained'] is None
    torch.manual_seed(0)
    ours = MODELS.build(expanded)
    theirs = MODELS.build(arch)
    shapes = {k: v.shape for k, v in ours.state_dict().items()}
    assert shapes == {k: v.shape for k, v in theirs.state_dict().items()}

    def pretrained(model):
        cfgs = model.backbone.init_cfg
        cfgs = [cfgs] if isinstance(cfgs, dict) else cfgs or []
        return [c['checkpoint'] for c in cfgs if c['type'] == 'Pretrained']

    assert pretrained(ours) == []
    assert pretrained(theirs) == ['open-mmlab://resnet18_v1c']
    assert tuple(ours.data_preprocessor.size) == (32, 64)


# --------------------------------------------------------------- summaries
def write_run(work, scale, records):
    run = osp.join(work, 'run', '20260101_000000')
    os.makedirs(osp.join(run, 'vis_data'))
    with open(osp.join(run, 'vis_data', 'scalars.json'), 'w') as f:
        f.write(''.join(json.dumps(r) + '\n' for r in records))
    with open(osp.join(run, '20260101_000000.log'), 'w') as f:
        f.write('log\n')
    with open(osp.join(work, 'schedule.json'), 'w') as f:
        json.dump(
            dict(
                scale=scale,
                iters=100,
                switch_iter=50,
                source=dict(max_iters=40000, switch_iter=4000)), f)


def full_records():
    """Windows of 10 iterations: stage 0 up to 50, a mixed one, stage 1."""
    records = []
    for it in range(10, 101, 10):
        stage = 0.0 if it <= 50 else 1.0
        if it == 60:
            stage = 0.5  # a window across the switch: left out
        records.append({
            'iter': it,
            'time': 0.1 * it / 10,
            'data_time': 0.01,
            'rdd/stage': stage,
            'memory': 1000 + it
        })
        if stage == 1.0:
            records[-1]['rdd/tse_selected'] = it / 1000
    return records


def test_train_summary_per_stage_and_estimate(tmp_path):
    write_run(str(tmp_path), 'full', full_records())
    got = gpu_check.train_summary(str(tmp_path))
    # first window (iteration 10) left out; TFE 20..50, TSE 70..100
    tfe = (0.2 + 0.3 + 0.4 + 0.5) / 4
    tse = (0.7 + 0.8 + 0.9 + 1.0) / 4
    assert got['intervals_used'] == dict(tfe=4, tse=4)
    assert got['s_per_iter']['tfe'] == pytest.approx(tfe)
    assert got['s_per_iter']['tse'] == pytest.approx(tse)
    assert got['data_s_per_iter'] == dict(tfe=0.01, tse=0.01)
    assert got['peak_memory_mib'] == 1100
    assert got['logged_iters'] == 100
    assert got['tse_selected'] == pytest.approx(0.085)  # 70..100 / 1000
    est = got['estimate']
    assert est['hours_per_gpu'] == pytest.approx(
        (4000 * tfe + 36000 * tse) / 3600)
    assert est['paper_hours_4x3090'] == pytest.approx(4 + 1 / 3)


def test_train_summary_tiny_and_unstarted(tmp_path):
    assert gpu_check.train_summary(str(tmp_path)) is None
    write_run(
        str(tmp_path), 'tiny', [
            dict(
                iter=i, time=1.0, data_time=0.1, **{'rdd/stage': float(i > 2)})
            for i in (1, 2, 3, 4)
        ])
    got = gpu_check.train_summary(str(tmp_path))
    assert got['intervals_used'] == dict(tfe=1, tse=2)
    assert 'estimate' not in got  # a CPU dry run estimates nothing
    assert got['peak_memory_mib'] is None


JUNIT = '''<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite
 name="pytest" tests="3" time="1.5"><testcase classname="t" name="a"/>
<testcase classname="t" name="b"><failure message="assert 1 == 2"/>
</testcase><testcase classname="t" name="c"><skipped message="no GPU"/>
</testcase></testsuite></testsuites>'''


def test_junit_summary(tmp_path):
    path = tmp_path / 'x.xml'
    path.write_text(JUNIT)
    got = gpu_check.junit_summary(str(path))
    assert got == dict(
        tests=3,
        passed=1,
        failed=[dict(test='t::b', message='assert 1 == 2')],
        skipped=[dict(test='t::c', reason='no GPU')],
        seconds=1.5)
    assert gpu_check.junit_summary(str(tmp_path / 'missing.xml')) is None


def test_write_summary_gathers_every_phase(tmp_path):
    work, out = tmp_path / 'work', tmp_path / 'out'
    work.mkdir()
    out.mkdir()
    (work / 'phases.tsv').write_text('install\tok\t95\t0\n'
                                     'cuda_tests\tok\t30\t0\n'
                                     'benchmark\ttimeout\t240\t124\n'
                                     'train\tok\t80\t0\n')
    (work / 'environment.json').write_text(json.dumps(dict(gpu='H100')))
    (out / 'cuda_tests.xml').write_text(JUNIT)
    (out / 'benchmark.json').write_text(
        json.dumps(
            dict(
                args=dict(
                    device='cuda',
                    amp=True,
                    batch_size=4,
                    crop=[512, 1024],
                    iters=20),
                memory_method='one process per variant',
                results={
                    'pixel-kd':
                    dict(
                        time=dict(median_ms=100.0, iqr_ms=2.0),
                        ratio_to_baseline=1.0,
                        paired_ratio_to_baseline=1.0,
                        memory=dict(peak_mib=9000.0, step_mib=7000.0))
                })))
    write_run(str(work / 'train'), 'full', full_records())
    summary = gpu_check.write_summary(str(out), str(work), 'gpu', 0.0)
    assert json.loads((out / 'summary.json').read_text()) == summary
    assert summary['setup_s'] == 95
    assert summary['phases']['benchmark'] == dict(
        status='timeout', seconds=240, rc=124)
    assert summary['environment'] == dict(gpu='H100')
    assert summary['cuda_tests']['passed'] == 1
    assert summary['benchmark']['variants']['pixel-kd']['peak_mib'] == 9000
    assert summary['train']['intervals_used'] == dict(tfe=4, tse=4)
    assert (out / 'train.log').read_text() == 'log\n'
    assert (out / 'train_scalars.json').exists()
    ok, lines = gpu_check.verdict(summary)
    assert not ok  # a benchmark timeout and a failed CUDA test
    assert 'benchmark   timeout 240s' in lines


def verdict_of(mode, statuses, skipped=0, failed=0):
    phases = {
        name: dict(status=status, seconds=1, rc=0)
        for name, status in statuses.items()
    }
    tests = dict(
        tests=3,
        passed=3 - skipped - failed,
        failed=[{}] * failed,
        skipped=[{}] * skipped)
    return gpu_check.verdict(dict(mode=mode, phases=phases,
                                  cuda_tests=tests))[0]


ALL_OK = dict(install='ok', cuda_tests='ok', benchmark='ok', train='ok')


@pytest.mark.parametrize('mode, change, skipped, failed, ok', [
    ('gpu', {}, 0, 0, True),
    ('gpu', dict(install='skipped'), 0, 0, False),
    ('cpu-dry-run', dict(install='skipped'), 0, 0, True),
    ('gpu', {}, 1, 0, False),
    ('cpu-dry-run', dict(install='skipped'), 1, 0, True),
    ('cpu-dry-run', dict(install='skipped'), 0, 1, False),
    ('gpu', dict(train='timeout'), 0, 0, False),
    ('gpu', dict(benchmark='failed'), 0, 0, False),
])
def test_verdict_truth_table(mode, change, skipped, failed, ok):
    assert verdict_of(mode, dict(ALL_OK, **change), skipped, failed) is ok


def test_verdict_lines_are_not_test_run_closing_lines():
    """CI reads 'N passed, N failed' lines as a test run's result."""
    import re
    _, lines = gpu_check.verdict(
        dict(
            mode='gpu',
            phases={},
            cuda_tests=dict(tests=2, passed=2, failed=[], skipped=[])))
    assert not any(re.search(r'\d+ passed', line) for line in lines)


# -------------------------------------------------------------------- slow
def python312():
    """A CPython 3.12 that runs (pyenv's, or python3.12 on PATH), or
    None."""
    import glob
    candidates = sorted(
        glob.glob(osp.expanduser('~/.pyenv/versions/3.12*/bin/python3.12')))
    for path in candidates + [shutil.which('python3.12')]:
        if path and subprocess.run([
                path, '-c', 'import sys, venv; '
                'sys.exit(sys.version_info[:2] != (3, 12))'
        ],
                                   capture_output=True).returncode == 0:
            return path
    return None


@pytest.mark.slow  # downloads from PyPI, makes a venv, installs
def test_prepare_and_set_up_on_a_fresh_python_312(tmp_path):
    """``--prepare`` downloads a complete folder (well under the 64 MiB a
    device run carries); the set-up installs it with ``--no-index`` into a
    fresh CPython 3.12 holding what the GPU image holds of the torch-free
    part of the stack; there MMEngine resolves the Cityscapes RDD config
    (``mmseg::`` bases through the carried mmsegmentation and setuptools'
    pkg_resources) and formats it (yapf) on 3.12 and numpy 2."""
    py312 = python312()
    if py312 is None:
        pytest.skip('no CPython 3.12 on this machine')
    wheels = tmp_path / 'wheels'
    env = dict(os.environ, PYTHON=sys.executable)
    subprocess.run(
        ['bash', 'tools/misc/gpu_check.sh', '--prepare',
         str(wheels)],
        cwd=ROOT,
        env=env,
        check=True)
    assert gpu_check.check_wheels(str(wheels)) == []
    size = sum(f.stat().st_size for f in wheels.iterdir())
    assert size < 16 * 2**20
    venv = tmp_path / 'py312'
    subprocess.run([py312, '-m', 'venv', str(venv)], check=True)
    vpy = str(venv / 'bin' / 'python')
    # what the GPU image has of the torch-free stack (names in
    # requirements/gpu_machine.txt; numpy 2 as there)
    subprocess.run([
        vpy, '-m', 'pip', 'install', '-q', 'numpy>=2', 'pyyaml', 'rich',
        'packaging'
    ],
                   check=True)
    env = dict(
        os.environ,
        PYTHON=vpy,
        GPU_CHECK_WHEELS=str(wheels),
        GPU_CHECK_BUILD_MMCV='0')
    proc = subprocess.run(
        ['bash', 'tools/misc/gpu_check.sh', '--install-only'],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'set-up took' in proc.stdout
    code = ('from mmengine.config import Config; import numpy, sys; '
            f'cfg = Config.fromfile({RDD_CITYSCAPES!r}, '
            'import_custom_modules=False); '
            'assert "RDDDistiller" in cfg.pretty_text; '
            'assert cfg.model.distiller.tse.min_kept == 100000; '
            'print(sys.version_info[:2], numpy.__version__)')
    out = subprocess.run([vpy, '-c', code],
                         capture_output=True,
                         text=True,
                         cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith('(3, 12) 2.')


@pytest.mark.slow  # two fresh interpreters
def test_benchmark_memory_processes_run_side_by_side(tmp_path):
    from mmrdd_lab import benchmark
    from mmrdd_lab.benchmark import StepBenchmarkSettings
    toy = osp.join(
        ROOT, 'configs', 'rdd', 'rdd_logits_deeplabv3_toy-r50_deeplabv3_'
        'toy-r18_1xb8-2k_toyseg-96x96.py')
    report = benchmark.run_step_benchmark(
        StepBenchmarkSettings(
            configs=[toy],
            synthetic=True,
            batch_size=2,
            crop=(32, 32),
            iters=1,
            warmup=1,
            memory_steps=1,
            memory_jobs=2,
            variants=['pixel-kd', 'rdd-tse']),
        log=lambda _: None)
    for name in ('pixel-kd', 'rdd-tse'):
        mem = report['results'][name]['memory']
        assert mem['peak_mib'] > mem['step_mib'] > 0
        assert mem['kind'] in (benchmark.VMHWM_KIND, benchmark.MAXRSS_KIND)
