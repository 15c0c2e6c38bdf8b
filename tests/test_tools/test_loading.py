# Copyright (c) mmrdd contributors. All rights reserved.
"""Issue 22's fault matrix, run as a user runs the tools, on tiny toy runs.

2. the wrong weights scored or trained from: a raw distillation checkpoint
   given to ``tools/test.py`` with the student's config, a converted student
   as ``load_from`` of a distillation run, the teacher's weights scored with
   the student's config;
6. overrides of a ``cfg_path`` model that did nothing (the offline recipe),
   the SyncBN check after the runner was built;
9. a teacher file that is not a checkpoint, a batch of one.

The same guards in-process, value by value: ``tests/test_runtime/
test_weights.py`` and ``tests/test_runtime/test_model_config.py``.
"""
import os
import os.path as osp
import re
import subprocess

import pytest
import torch
from _dist_worker import free_port
from conftest import (PY, ROOT, STUDENT_CFG, data_options, last_checkpoint,
                      run_tool)

pytestmark = pytest.mark.slow

RDD_TOY = 'configs/rdd/rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501
CITYSCAPES = 'configs/rdd/rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_cityscapes-512x1024.py'  # noqa: E501
# what torch and MMSeg said before these guards
TORCH_ADVICE = 'weights_only'


def failing(command: list, env=None) -> str:
    """Run a command from the repo root that must fail; return its
    stdout+stderr."""
    proc = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, **(env or {})))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    return out


def failing_tool(*args) -> str:
    """A tools/ script that must fail; its stdout+stderr."""
    return failing([PY, *args])


def tiny_options(toy_data) -> list:
    """Tiny runs; tools/test.py scores the 4 validation images."""
    return [
        *data_options(toy_data, iters=2),
        'test_dataloader.dataset.data_prefix.img_path=img_dir/val',
        'test_dataloader.dataset.data_prefix.seg_map_path=ann_dir/val',
    ]


def miou(log: str) -> float:
    return float(re.findall(r'mIoU: (\S+)', log)[-1])


@pytest.fixture(scope='module')
def rdd_run(toy_data, teacher_run, tmp_path_factory):
    """A 2-iteration RDD run, and its student converted for MMSeg."""
    work_dir = str(tmp_path_factory.mktemp('rdd'))
    run_tool('tools/train.py', RDD_TOY, '--work-dir', work_dir,
             '--cfg-options', *tiny_options(toy_data),
             f'model.teacher_ckpt={teacher_run["ckpt"]}',
             'model.distiller.switch_iter=1',
             'model.distiller.tse.min_kept=100')
    raw = last_checkpoint(work_dir)
    run_tool('tools/model_converters/convert_kd_ckpt_to_student.py', raw)
    student = raw[:-len('.pth')] + '_student.pth'
    assert not osp.exists(student + '.partial')
    return dict(raw=raw, student=student)


# ------------------------------------------------------------- case 2
def test_test_py_scores_the_student_of_a_raw_distillation_checkpoint(
        toy_data, rdd_run, tmp_path):
    """Before: exit 0 with the mIoU of a random student (the keys did not
    match, MMEngine only logged them). Now the student is loaded, and says
    so; it scores exactly what the converted student scores."""
    logs = {
        kind: run_tool('tools/test.py', STUDENT_CFG, rdd_run[kind],
                       '--work-dir', str(tmp_path / kind), '--cfg-options',
                       *tiny_options(toy_data))
        for kind in ('raw', 'student')
    }
    count = len(torch.load(rdd_run['student'])['state_dict'])
    assert f'tools/test.py scored: test: loaded {count} tensors from ' \
        f'{rdd_run["raw"]} (a distillation checkpoint; its student ' \
        '(architecture.*)) into the model' in logs['raw']
    assert f'tools/test.py scored: test: loaded {count} tensors from ' \
        f'{rdd_run["student"]} (a distilled student (converted); all of ' \
        'it) into the model' in logs['student']
    assert miou(logs['raw']) == miou(logs['student'])


def test_test_py_never_scores_weights_that_did_not_load(
        toy_data, teacher_run, tmp_path):
    """The teacher's checkpoint with the student's config: a stop, no
    mIoU."""
    out = failing_tool('tools/test.py', STUDENT_CFG, teacher_run['ckpt'],
                       '--work-dir', str(tmp_path), '--cfg-options',
                       *tiny_options(toy_data))
    assert f'test checkpoint {teacher_run["ckpt"]} does not match the ' \
        'model: ' in out
    assert not re.search(r'mIoU: \d', out)


def test_load_from_a_student_checkpoint_starts_the_distillation_student(
        toy_data, teacher_run, rdd_run, tmp_path):
    """Before: not loaded (keys without ``architecture.``), warnings only;
    the run started from scratch. With lr 0 the trained student's
    parameters must be the checkpoint's."""
    work_dir = str(tmp_path / 'warm')
    log = run_tool(
        'tools/train.py', RDD_TOY, '--work-dir', work_dir, '--cfg-options',
        *data_options(toy_data,
                      iters=1), f'model.teacher_ckpt={teacher_run["ckpt"]}',
        f'load_from={rdd_run["student"]}', 'model.distiller.switch_iter=1',
        'optim_wrapper.optimizer.lr=0', 'param_scheduler.0.eta_min=0',
        'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None')
    student = torch.load(rdd_run['student'])['state_dict']
    assert f'load_from: loaded {len(student)} tensors from ' \
        f'{rdd_run["student"]} (a distilled student (converted); all of ' \
        'it) into the student (model.architecture)' in log
    trained = torch.load(last_checkpoint(work_dir))['state_dict']
    for key, value in student.items():
        if 'running_' not in key and 'num_batches' not in key:
            assert torch.equal(trained['architecture.' + key], value), key


# ------------------------------------------------------------- case 6
def test_offline_recipe_and_overrides_reach_a_cfg_path_student(
        toy_data, teacher_run, tmp_path):
    """A student config that downloads ImageNet weights (as MMSeg's do),
    used through cfg_path: ``pretrained=None`` turns the download off (it
    was ignored), the teacher is a local file, and any other key reaches
    the model."""
    student = tmp_path / 'student_with_imagenet.py'
    student.write_text(
        f"_base_ = ['{ROOT}/{STUDENT_CFG}']\n"
        "model = dict(pretrained='https://127.0.0.1:9/resnet18_v1c.pth')\n")
    cfg = tmp_path / 'rdd_cfg_path.py'
    cfg.write_text(
        f"_base_ = ['{ROOT}/{RDD_TOY}']\n"
        'model = dict(\n'
        f"    architecture=dict(_delete_=True, cfg_path='{student}',\n"
        '                      pretrained=False),\n'
        '    teacher=dict(_delete_=True, pretrained=False, cfg_path='
        "'mmrdd::toy/deeplabv3_toy-r50-d8_1xb8-4k_toyseg-96x96.py'),\n"
        '    distiller=dict(switch_iter=1))\n')
    work_dir = str(tmp_path / 'work')
    log = run_tool('tools/train.py', str(cfg), '--work-dir', work_dir,
                   '--cfg-options', *data_options(toy_data, iters=1),
                   'model.architecture.pretrained=None',
                   f'model.teacher_ckpt={teacher_run["ckpt"]}',
                   'model.architecture.decode_head.channels=24',
                   'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None')
    assert '127.0.0.1:9' not in log
    assert f'teacher: loaded 376 tensors from {teacher_run["ckpt"]}' in log
    state = torch.load(last_checkpoint(work_dir))['state_dict']
    assert state['architecture.decode_head.bottleneck.conv.weight'].shape[
        0] == 24


def test_syncbn_on_cpu_processes_stops_before_the_runner_with_the_fix(
        tmp_path):
    """Before: PyTorch's 'SyncBatchNorm layers only work with GPU modules'
    once the runner wrapped the model (after building it)."""
    command = [
        'bash', 'tools/dist_train.sh', CITYSCAPES, '2', '--work-dir',
        str(tmp_path), '--cfg-options', 'model.teacher_ckpt=None'
    ]
    env = dict(PYTHON=PY, PORT=str(free_port()), OMP_NUM_THREADS='1')
    out = failing(command, env)
    assert '6 SyncBN setting(s) cannot run in CPU processes' in out
    assert '--cfg-options model.teacher.backbone.norm_cfg.type=BN' in out
    assert 'only work with GPU modules' not in out


# ------------------------------------------------------------- case 9
@pytest.mark.parametrize('name, content, problem', [
    ('teacher.png', b'\x89PNG\r\n\x1a\n' + b'\0' * 64, 'is a PNG image'),
    ('teacher.pth', b'loss: 0.25\n',
     'is a text file (it starts with "loss: 0.25")'),
    ('teacher.pth', b'', 'is empty (0 bytes)'),
])
def test_a_teacher_file_that_is_not_a_checkpoint_is_named(
        toy_data, tmp_path, name, content, problem):
    """Before: torch's 'Weights only load failed ... set weights_only to
    False' (PNG, text) or a bare EOFError (empty file)."""
    path = tmp_path / name
    path.write_bytes(content)
    out = failing_tool('tools/train.py', RDD_TOY, '--work-dir',
                       str(tmp_path / 'w'), '--cfg-options',
                       *data_options(toy_data), f'model.teacher_ckpt={path}')
    assert f'teacher checkpoint {path} {problem}, not a PyTorch ' \
        'checkpoint' in out
    assert TORCH_ADVICE not in out and 'EOFError' not in out


def test_a_batch_of_one_stops_with_the_fix(toy_data, teacher_run, tmp_path):
    """Before: MMSeg's 'Expected more than 1 value per channel when
    training' in the first step."""
    out = failing_tool('tools/train.py', RDD_TOY, '--work-dir', str(tmp_path),
                       '--cfg-options', *data_options(toy_data),
                       f'model.teacher_ckpt={teacher_run["ckpt"]}',
                       'model.distiller.switch_iter=1',
                       'train_dataloader.batch_size=1')
    assert 'train_dataloader.batch_size=1 per process, but BN follows a ' \
        'global pooling in architecture.decode_head.image_pool: ' in out
    assert 'Use --cfg-options train_dataloader.batch_size=2' in out
