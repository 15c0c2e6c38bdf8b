# Copyright (c) mmrdd contributors. All rights reserved.
"""Reading a checkpoint safely, its kind, and the part loaded into a model.

The end-to-end cases (``tools/test.py`` and ``load_from`` through
``tools/train.py``) are in ``tests/test_tools/test_loading.py``.
"""
import collections
import zipfile

import pytest
import torch
from _toy_models import rdd_cfg, segmentor_cfg
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401
from mmrdd.runtime import (checkpoint_kind, kd_to_student_checkpoint,
                           load_weights, read_checkpoint)
from mmrdd.runtime.weights import file_problem


class NotAllowed:
    """A class that a weights-only load must refuse."""


def build(cfg):
    torch.manual_seed(0)
    return MODELS.build(cfg)


def distinct(state, offset):
    """``state`` with every float tensor moved by ``offset``."""
    return {
        k: v + offset if v.is_floating_point() else v.clone()
        for k, v in state.items()
    }


# ------------------------------------------------------------- reading
@pytest.mark.parametrize('content, problem', [
    (b'', 'empty (0 bytes)'),
    (b'\x89PNG\r\n\x1a\n' + b'\0' * 32, 'a PNG image'),
    (b'\xff\xd8\xff\xe0' + b'\0' * 32, 'a JPEG image'),
    (b'version https://git-lfs.github.com/spec/v1\noid sha256:ab\n',
     'a Git LFS pointer'),
    (b'<!DOCTYPE html><html><body>Not found</body></html>', 'an HTML page'),
    (b'epoch 1 loss 0.3\n', 'a text file (it starts with "epoch 1 loss'),
    (b'PK\x03\x04' + b'\0' * 40, 'truncated'),
    (b'\x00\x01\x02\x03' * 4, "of unknown content (it starts with bytes "
     "b'\\x00\\x01"),
])
def test_files_that_are_not_checkpoints_name_what_they_are(
        tmp_path, content, problem):
    path = tmp_path / 'teacher.pth'
    path.write_bytes(content)
    assert problem in file_problem(str(path))
    with pytest.raises(ValueError) as info:
        read_checkpoint(str(path), 'teacher')
    message = str(info.value)
    assert message.startswith(f'teacher checkpoint {path} is ')
    assert problem in message and 'not a PyTorch checkpoint' in message
    assert 'weights_only' not in message


def test_a_truncated_checkpoint_is_named_as_such(tmp_path):
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.ones(64, 64)}}, good)
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(good.read_bytes()[:len(good.read_bytes()) // 2])
    with pytest.raises(ValueError, match=r'is truncated \(\d+ bytes'):
        read_checkpoint(str(cut), 'load_from')


def test_a_damaged_zip_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / 'odd.pth'
    with zipfile.ZipFile(path, 'w') as zf:
        zf.writestr('odd/data.pkl', b'not a pickle')
    with pytest.raises(RuntimeError) as info:
        read_checkpoint(str(path), 'teacher')
    assert 'cannot be read: it is damaged' in str(info.value)
    assert 'weights_only' not in str(info.value)


def test_other_python_objects_are_refused_without_advising_unsafe_loading(
        tmp_path):
    path = tmp_path / 'pickled.pth'
    torch.save({
        'state_dict': {
            'w': torch.ones(2)
        },
        'extra': NotAllowed()
    }, path)
    with pytest.raises(RuntimeError) as info:
        read_checkpoint(str(path), 'teacher')
    message = str(info.value)
    assert 'holds Python objects of type test_weights.NotAllowed' in message
    assert "torch.save({'state_dict': model.state_dict()}" in message
    assert 'weights_only' not in message
    assert 'will likely succeed' not in message


@pytest.mark.parametrize('content, match', [
    ([torch.ones(2)], 'holds a list, not a dict of weights'),
    ({
        'model': {
            'w': torch.ones(2)
        },
        'epoch': 3
    }, r'has no "state_dict" \(its keys: model, epoch\)'),
    ({
        'state_dict': {}
    }, 'holds no weights'),
])
def test_checkpoints_without_weights_are_rejected(tmp_path, content, match):
    path = tmp_path / 'x.pth'
    torch.save(content, path)
    with pytest.raises(ValueError, match=match):
        read_checkpoint(str(path))


def test_missing_empty_and_folder_names_say_so(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        read_checkpoint(str(tmp_path / 'nope.pth'), 'load_from')
    with pytest.raises(ValueError, match='is an empty string'):
        read_checkpoint('', 'load_from')
    with pytest.raises(
            IsADirectoryError, match='is a folder: give the .pth '
            'file in it'):
        read_checkpoint(str(tmp_path), 'test')


def test_mmengine_and_bare_state_dicts_are_read(tmp_path):
    state = collections.OrderedDict(w=torch.arange(3.))
    path = tmp_path / 'bare.pth'
    torch.save(state, path)
    checkpoint = read_checkpoint(str(path))
    assert torch.equal(checkpoint['state_dict']['w'], torch.arange(3.))
    import numpy as np
    from mmengine.logging import HistoryBuffer
    path = tmp_path / 'mmengine.pth'
    torch.save(
        dict(
            meta=dict(seed=np.int64(3)),
            message_hub=dict(log=HistoryBuffer([1.0, 2.0], [1, 1])),
            state_dict=state), path)
    assert read_checkpoint(str(path))['meta']['seed'] == 3


# ---------------------------------------------------------------- kinds
def test_checkpoint_kind_truth_table():
    seg = {'state_dict': {'backbone.w': torch.ones(1)}}
    distill = {
        'state_dict': {
            'architecture.backbone.w': torch.ones(1),
            'teacher.backbone.w': torch.ones(1)
        }
    }
    student = kd_to_student_checkpoint(distill)
    assert checkpoint_kind(seg) == 'segmentor'
    assert checkpoint_kind(distill) == 'distillation'
    assert checkpoint_kind(student) == 'student'
    # a teacher-free distillation save is still one
    del distill['state_dict']['teacher.backbone.w']
    assert checkpoint_kind(distill) == 'distillation'
    # DataParallel's prefix does not hide the kind
    assert checkpoint_kind(
        {'state_dict': {
            'module.architecture.backbone.w': torch.ones(1)
        }}) == 'distillation'


# -------------------------------------------------------------- loading
@pytest.fixture(scope='module')
def models():
    """A distillation model, its student's and teacher's trained weights."""
    rdd = build(rdd_cfg())
    student = distinct(rdd.student.state_dict(), 0.25)
    teacher = distinct(rdd.teacher.state_dict(), 0.5)
    raw = {f'architecture.{k}': v for k, v in student.items()}
    raw.update({f'teacher.{k}': v for k, v in teacher.items()})
    return dict(student=student, teacher=teacher, raw=raw)


def assert_state(module, expected):
    state = module.state_dict()
    assert set(state) == set(expected)
    for key, value in expected.items():
        assert torch.equal(state[key], value), key


@pytest.mark.parametrize('kind', ['distillation', 'student', 'segmentor'])
def test_a_segmentor_gets_the_student_of_any_kind(models, kind):
    raw = {'state_dict': models['raw']}
    checkpoint = {
        'distillation': raw,
        'student': kd_to_student_checkpoint(raw),
        'segmentor': {
            'state_dict': models['student']
        },
    }[kind]
    segmentor = build(segmentor_cfg(base=4))
    report = load_weights(segmentor, checkpoint, 'ck.pth', what='test')
    assert_state(segmentor, models['student'])
    count = len(models['student'])
    assert report.startswith(f'test: loaded {count} tensors from ck.pth (')
    assert {
        'distillation': 'a distillation checkpoint; its student',
        'student': 'a distilled student (converted); all of it',
        'segmentor': 'a segmentor checkpoint; all of it'
    }[kind] in report


@pytest.mark.parametrize('kind', ['distillation', 'student'])
def test_a_distillation_model_gets_the_student_and_keeps_its_teacher(
        models, kind):
    raw = {'state_dict': models['raw']}
    checkpoint = raw if kind == 'distillation' else \
        kd_to_student_checkpoint(raw)
    rdd = build(rdd_cfg())
    teacher_before = {
        k: v.clone()
        for k, v in rdd.teacher.state_dict().items()
    }
    report = load_weights(rdd, checkpoint, 'ck.pth')
    assert_state(rdd.student, models['student'])
    assert_state(rdd.teacher, teacher_before)  # from teacher_ckpt only
    assert f'loaded {len(models["student"])} tensors' in report


def test_a_teacher_free_distillation_checkpoint_loads(models):
    no_teacher = {
        k: v
        for k, v in models['raw'].items() if not k.startswith('teacher.')
    }
    rdd = build(rdd_cfg())
    load_weights(rdd, {'state_dict': no_teacher}, 'ck.pth')
    assert_state(rdd.student, models['student'])


def test_the_teachers_weights_as_load_from_are_named(models):
    rdd = build(rdd_cfg())
    before = {k: v.clone() for k, v in rdd.state_dict().items()}
    with pytest.raises(RuntimeError) as info:
        load_weights(rdd, {'state_dict': models['teacher']}, 't.pth')
    message = str(info.value)
    assert message.startswith('load_from checkpoint t.pth does not match the '
                              'student (model.architecture): ')
    assert 'shape mismatch' in message
    assert 'give the file as model.teacher_ckpt instead' in message
    assert_state(rdd, before)  # nothing was loaded


def test_another_models_distillation_checkpoint_names_the_converter(models):
    wider = build(segmentor_cfg(base=8))  # not the student of `raw`
    with pytest.raises(RuntimeError) as info:
        load_weights(wider, {'state_dict': models['raw']}, 'r.pth', 'test')
    message = str(info.value)
    assert 'test checkpoint r.pth does not match the model' in message
    assert 'convert it with ' \
        'tools/model_converters/convert_kd_ckpt_to_student.py' in message


def test_a_partial_checkpoint_is_refused_and_loads_nothing(models):
    segmentor = build(segmentor_cfg(base=4))
    before = {k: v.clone() for k, v in segmentor.state_dict().items()}
    partial = dict(models['student'])
    partial.pop('decode_head.conv_seg.weight')
    with pytest.raises(
            RuntimeError, match=r'missing \(1\): '
            r'decode_head.conv_seg.weight'):
        load_weights(segmentor, {'state_dict': partial}, 'p.pth')
    assert_state(segmentor, before)
