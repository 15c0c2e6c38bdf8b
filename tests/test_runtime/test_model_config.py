# Copyright (c) mmrdd contributors. All rights reserved.
"""Every key of the student and the teacher reachable, or an error.

``cfg_path`` models resolved into model dicts (MMRazor passes the other keys
as defaults only, so ``--cfg-options model.architecture.pretrained=None``
was accepted and ignored), the SyncBN check on the config, the batch-of-one
check, the teacher's normalisation. Through the tools:
``tests/test_tools/test_loading.py``.
"""
import argparse
import copy
import os.path as osp

import pytest
import torch
from _toy_models import rdd_cfg, segmentor_cfg
from mmengine.config import Config
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401
from mmrdd.runtime import (add_launch_arguments, check_config_runs_here,
                           check_model_runs_here, load_tool_config,
                           resolve_cfg_path)
from mmrdd.runtime.launch import single_value_bn

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
R18 = 'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py'
CITYSCAPES = osp.join(
    ROOT, 'configs/rdd/rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_'
    '4xb4-40k_cityscapes-512x1024.py')
SEGFORMER = osp.join(
    ROOT, 'configs/rdd/rdd_logits_segformer_mit-b5_segformer_mit-b0_'
    '8xb1-160k_cityscapes-1024x1024.py')


def downloads(model):
    """Every checkpoint ``init_weights`` would fetch, by module."""
    found = {}
    for name, module in model.named_modules():
        init_cfgs = getattr(module, 'init_cfg', None) or []
        for init_cfg in [init_cfgs] if isinstance(init_cfgs,
                                                  dict) else init_cfgs:
            if init_cfg.get('checkpoint'):
                found[name] = init_cfg['checkpoint']
    return found


def tool_config(path, *options, launcher='none'):
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    add_launch_arguments(parser)
    argv = [path, '--launcher', launcher]
    if options:
        argv += ['--cfg-options', *options]
    return load_tool_config(parser.parse_args(argv))


# ------------------------------------------------------------- resolution
def test_resolved_model_is_the_one_mmrazor_builds():
    """No override: the same modules, weights' shapes and init_cfgs."""
    razor = MODELS.build(dict(cfg_path=R18, pretrained=False))
    ours = MODELS.build(resolve_cfg_path(dict(cfg_path=R18, pretrained=False)))
    assert type(ours) is type(razor)
    assert str(ours) == str(razor)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: v.shape for k, v in razor.state_dict().items()}
    assert downloads(ours) == downloads(razor) == {
        'backbone': 'open-mmlab://resnet18_v1c'
    }


def test_nested_overrides_reach_the_model():
    """What MMRazor's get_model ignored: nested keys, keys the referenced
    config sets, the segmentor's own pretrained."""
    cfg = resolve_cfg_path(
        dict(
            cfg_path=R18,
            pretrained=None,
            backbone=dict(norm_cfg=dict(type='BN')),
            decode_head=dict(channels=32, norm_cfg=dict(type='BN')),
            auxiliary_head=dict(
                _delete_=True, **segmentor_cfg()['auxiliary_head'])),
        'model.architecture')
    assert cfg.backbone.norm_cfg == dict(type='BN', requires_grad=True)
    model = MODELS.build(cfg)
    assert downloads(model) == {}
    assert model.decode_head.channels == 32
    assert not any(
        isinstance(m, torch.nn.SyncBatchNorm)
        for m in model.backbone.modules())
    assert isinstance(model.decode_head.bottleneck.bn, torch.nn.BatchNorm2d)
    assert model.auxiliary_head.channels == 8  # replaced by _delete_
    assert model.decode_head.num_classes == 19  # the rest stays


@pytest.mark.parametrize('override, message', [
    (dict(backbone=dict(init_cfgg=None)),
     'model.architecture.backbone.init_cfgg: ResNetV1c has no argument '
     '"init_cfgg" (did you mean init_cfg?)'),
    (dict(decod_head=dict(channels=3)),
     'model.architecture.decod_head: EncoderDecoder has no argument '
     '"decod_head" (did you mean decode_head?)'),
    (dict(decode_head=dict(chanels=3)),
     'model.architecture.decode_head.chanels: ASPPHead has no argument '
     '"chanels" (did you mean channels or in_channels?)'),
])
def test_an_override_that_cannot_take_effect_stops(override, message):
    with pytest.raises(ValueError) as info:
        resolve_cfg_path(dict(cfg_path=R18, **override), 'model.architecture')
    assert str(info.value).startswith(
        '1 key(s) set over the model of model.architecture.cfg_path would '
        'have no effect: ')
    assert message in str(info.value)


def test_keys_the_class_takes_are_accepted_though_absent():
    # ResNetV1c takes init_cfg; the R18 config does not set it
    cfg = resolve_cfg_path(
        dict(cfg_path=R18, backbone=dict(init_cfg=None, frozen_stages=1)))
    assert cfg.backbone.frozen_stages == 1 and cfg.backbone.init_cfg is None


def test_cfg_path_with_a_type_is_ambiguous():
    with pytest.raises(ValueError, match='add _delete_=True'):
        resolve_cfg_path(
            dict(cfg_path=R18, type='EncoderDecoder'), 'model.teacher')


def test_pretrained_keeps_mmrazors_bool_and_the_segmentors_other_values():
    assert resolve_cfg_path(dict(cfg_path=R18, pretrained=False)) \
        .pretrained == 'open-mmlab://resnet18_v1c'
    assert resolve_cfg_path(dict(cfg_path=R18, pretrained=None)) \
        .pretrained is None
    local = resolve_cfg_path(dict(cfg_path=R18, pretrained='/data/r18.pth'))
    assert local.pretrained == '/data/r18.pth'
    published = resolve_cfg_path(dict(cfg_path=R18, pretrained=True))
    assert published.init_cfg == dict(
        type='Pretrained',
        checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/'
        'deeplabv3/deeplabv3_r18-d8_512x1024_80k_cityscapes/'
        'deeplabv3_r18-d8_512x1024_80k_cityscapes_20201225_021506-23dffbe2'
        '.pth')


def test_a_config_file_path_works_as_cfg_path(tmp_path):
    path = tmp_path / 'student.py'
    path.write_text(f"_base_ = ['{ROOT}/configs/toy/"
                    "deeplabv3_toy-r18-d8_1xb8-2k_toyseg-96x96.py']\n"
                    "model = dict(pretrained='https://127.0.0.1:9/r18.pth')\n")
    cfg = resolve_cfg_path(dict(cfg_path=str(path), pretrained=None))
    assert cfg.pretrained is None and cfg.type == 'EncoderDecoder'
    assert cfg._scope_ == 'mmseg'


# ------------------------------------------------- the tools' config, offline
@pytest.mark.slow  # builds the real students
@pytest.mark.parametrize('path, key', [
    (CITYSCAPES, 'model.architecture.pretrained'),
    (SEGFORMER, 'model.architecture.backbone.init_cfg.checkpoint'),
])
def test_offline_recipe_leaves_nothing_to_download(path, key):
    """The offline recipe of docs/offline.md: the student's ImageNet weights
    from a local file (or none), the teacher from a local file."""
    as_shipped = tool_config(path)
    student = MODELS.build(copy.deepcopy(as_shipped.model.architecture))
    assert list(downloads(student).values())[0].startswith(
        ('open-mmlab://', 'https://'))
    local = tool_config(path, f'{key}=/data/imagenet.pth',
                        'model.teacher_ckpt=/data/teacher.pth')
    assert local.model.teacher_ckpt == '/data/teacher.pth'
    assert list(downloads(MODELS.build(
        local.model.architecture)).values()) == ['/data/imagenet.pth']
    off = key.rsplit('.checkpoint', 1)[0]  # init_cfg=None, pretrained=None
    none = tool_config(path, f'{off}=None')
    assert downloads(MODELS.build(none.model.architecture)) == {}
    # the dumped config shows the resolved models
    assert 'cfg_path' not in local.model.architecture
    assert 'cfg_path' not in local.model.teacher


# ------------------------------------------------------------------ SyncBN
@pytest.mark.slow  # builds the real student
def test_syncbn_check_names_the_options_that_fix_it():
    cfg = tool_config(CITYSCAPES)
    check_config_runs_here(cfg, 'none')  # one process: SyncBN acts as BN
    with pytest.raises(RuntimeError) as info:
        check_config_runs_here(cfg, 'pytorch')
    message = str(info.value)
    options = message.split('--cfg-options ')[1].split()
    assert options == [
        f'model.{who}.{part}.norm_cfg.type=BN'
        for who in ('teacher', 'architecture')
        for part in ('backbone', 'decode_head', 'auxiliary_head')
    ]
    assert message.startswith('6 SyncBN setting(s) cannot run in CPU '
                              'processes')
    fixed = tool_config(CITYSCAPES, *options)
    check_config_runs_here(fixed, 'pytorch')
    student = MODELS.build(fixed.model.architecture)
    assert not any(
        isinstance(m, torch.nn.SyncBatchNorm) for m in student.modules())


# ---------------------------------------------------------- batch of one
@pytest.mark.parametrize('model_cfg, expected', [
    (segmentor_cfg(), ['decode_head.image_pool']),
    (dict(
        segmentor_cfg(),
        decode_head=dict(
            segmentor_cfg()['decode_head'],
            type='PSPHead',
            pool_scales=(1, 2, 3, 6),
            dilations=None)), ['decode_head.psp_modules.0']),
])
def test_batch_of_one_with_bn_after_global_pooling_stops(model_cfg, expected):
    model_cfg = copy.deepcopy(model_cfg)
    if model_cfg['decode_head']['type'] == 'PSPHead':
        model_cfg['decode_head'].pop('dilations')
    model = MODELS.build(model_cfg)
    assert single_value_bn(model) == expected
    check_model_runs_here(model, 2)
    with pytest.raises(ValueError) as info:
        check_model_runs_here(model, 1)
    assert str(info.value).startswith(
        'train_dataloader.batch_size=1 per process, but BN follows a global '
        f'pooling in {expected[0]}: ')
    assert 'train_dataloader.batch_size=2' in str(info.value)
    # and it is right: one image fails in PyTorch exactly there
    model.train()
    with pytest.raises(ValueError, match='Expected more than 1 value'):
        model.decode_head(model.extract_feat(torch.randn(1, 3, 32, 32)))


def test_batch_of_one_is_fine_without_such_bn():
    """The RDD teacher is in eval mode; SegFormer has no global pooling."""
    rdd = MODELS.build(rdd_cfg())
    assert single_value_bn(rdd) == ['architecture.decode_head.image_pool']
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/_base_/models/toy_segformer.py'))
    segformer = MODELS.build(cfg.toy_segformer_student_model)
    segformer.train()
    check_model_runs_here(segformer, 1)
    segformer.decode_head(segformer.extract_feat(torch.randn(1, 3, 96, 96)))


# ------------------------------------------------- what the teacher sees
@pytest.mark.parametrize('change, shown', [
    (dict(std=[2., 2., 2.]), 'std [2.0, 2.0, 2.0], bgr_to_rgb=False'),
    (dict(bgr_to_rgb=True), 'std [1.0, 1.0, 1.0], bgr_to_rgb=True'),
])
def test_teacher_normalised_otherwise_stops(change, shown):
    teacher = segmentor_cfg(base=8)
    teacher['data_preprocessor'].update(change)
    with pytest.raises(ValueError) as info:
        MODELS.build(rdd_cfg(teacher=teacher))
    message = str(info.value)
    assert message.startswith('the teacher is configured for inputs '
                              f'normalised with mean [0.0, 0.0, 0.0], {shown}')
    assert 'normalised with mean [0.0, 0.0, 0.0], std [1.0, 1.0, 1.0], ' \
        'bgr_to_rgb=False (the student' in message
    assert 'model.architecture.data_preprocessor.std=' in message


def test_empty_teacher_ckpt_is_an_error_not_a_random_teacher():
    cfg = rdd_cfg()
    cfg['teacher_ckpt'] = ''
    with pytest.raises(
            ValueError, match='teacher checkpoint is an empty '
            'string'):
        MODELS.build(cfg)


@pytest.mark.parametrize('timeout', [0, -1, True, '60'])
def test_download_timeout_must_be_positive_seconds(timeout):
    cfg = rdd_cfg()
    cfg['download_timeout'] = timeout
    with pytest.raises(
            ValueError,
            match='download_timeout must be a number '
            f'of seconds > 0, got {timeout!r}'):
        MODELS.build(cfg)
