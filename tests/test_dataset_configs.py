# Copyright (c) mmrdd contributors. All rights reserved.
"""Per-data-set RDD configs: students and teachers as MMSeg defines them,
min_kept scaled to the GPU batch, class weights only on Cityscapes."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmengine.hub import get_config
from mmseg.utils import register_all_modules

import mmrdd  # noqa: F401
from mmrdd.models.distillers import reference_switch_iter

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RDD = osp.join(ROOT, 'configs', 'rdd')
TEACHERS = osp.join(ROOT, 'configs', 'teachers')
# the reference: 100000 of the pixels of 4 crops of 512x1024 per GPU
SHARE = 100000 / (4 * 512 * 1024)
DATASETS = dict(voc12aug=21, ade20k=150, camvid=11)
# the reference's 19 Cityscapes class weights of the stage-2 OHEM loss, as
# the one base that defines them for every config
CITYSCAPES_CLASS_WEIGHT = Config.fromfile(
    osp.join(ROOT, 'configs', '_base_', 'distill',
             'cityscapes_class_weight.py')).cityscapes_class_weight
# Pairs beyond the paper: each trains on its student's MMSeg
# recipe (config: the student's MMSeg config).
MMSEG_RECIPES = {
    'rdd_logits_segformer_mit-b5_segformer_mit-b0_8xb2-160k_ade20k-512x512.py':  # noqa: E501
    'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
    'rdd_logits_segformer_mit-b5_segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py':  # noqa: E501
    'mmseg::segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py',
    'rdd_logits_segformer_mit-b5_deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py':  # noqa: E501
    'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py',
    'rdd_logits_ocrnet_hr48_deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py':  # noqa: E501
    'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py',
}
MMSEG_R18 = {
    'deeplabv3':
    'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py',  # noqa: E501
    'pspnet': 'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
}


def rdd_configs():
    out = []
    for path in sorted(glob.glob(osp.join(RDD, '*.py'))):
        cfg = Config.fromfile(path)
        if cfg.model.get('distiller', {}).get('type') == 'RDDDistiller':
            out.append((osp.basename(path), cfg))
    return out


@pytest.fixture(scope='module')
def configs():
    register_all_modules(init_default_scope=False)
    return rdd_configs()


def plain(d):
    return d.to_dict() if hasattr(d, 'to_dict') else d


def test_min_kept_follows_the_batch(configs):
    assert len(configs) >= 10
    for name, cfg in configs:
        crop = cfg.crop_size
        pixels = cfg.train_dataloader.batch_size * crop[0] * crop[1]
        min_kept = cfg.model.distiller.tse.min_kept
        assert abs(min_kept - SHARE * pixels) <= 0.01 * SHARE * pixels, (
            name, min_kept, SHARE * pixels)


def test_class_weights_only_on_cityscapes(configs):
    assert len(CITYSCAPES_CLASS_WEIGHT) == 19
    assert all(0.8 < w < 1.2 for w in CITYSCAPES_CLASS_WEIGHT)
    for name, cfg in configs:
        weights = cfg.model.distiller.tse.get('class_weight')
        if 'cityscapes' in name:
            assert list(weights) == CITYSCAPES_CLASS_WEIGHT, name
        else:
            assert weights is None, name


def test_tfe_covers_a_tenth_of_the_schedule(configs):
    """One rule for every config: reference_switch_iter (a tenth)."""
    assert reference_switch_iter(40000) == 4000
    for name, cfg in configs:
        switch = cfg.model.distiller.switch_iter
        assert switch == reference_switch_iter(cfg.train_cfg.max_iters), name


def test_names_state_batch_schedule_and_crop(configs):
    """``..._{G}xb{B}-{iters}_{dataset}-{H}x{W}.py`` says what it runs."""
    for name, cfg in configs:
        match = re.search(r'_(\d+)xb(\d+)-(\d+)k_[a-z0-9]+-(\d+)x(\d+)\.py$',
                          name)
        assert match, name
        _, batch, kiters, height, width = map(int, match.groups())
        assert cfg.train_dataloader.batch_size == batch, name
        assert cfg.train_cfg.max_iters == kiters * 1000, name
        assert tuple(cfg.crop_size) == (height, width), name


def unscoped(d):
    """``d`` as plain data without the ``_scope_`` keys that inheriting
    an ``mmseg::`` base adds."""
    d = plain(d)
    if isinstance(d, dict):
        return {k: unscoped(v) for k, v in d.items() if k != '_scope_'}
    if isinstance(d, (list, tuple)):
        return [unscoped(v) for v in d]
    return d


def test_pairs_train_on_the_students_mmseg_recipe(configs):
    """Student model, data pipeline, batch, crop, optimiser and schedule
    are those of the student's own MMSeg config."""
    by_name = dict(configs)
    assert set(MMSEG_RECIPES) <= set(by_name)
    for name, student in MMSEG_RECIPES.items():
        cfg, ref = by_name[name], get_config(student)
        assert cfg.model.architecture.cfg_path == student, name
        assert cfg.model.architecture.pretrained is False, name
        assert tuple(cfg.crop_size) == tuple(ref.crop_size), name
        for key in ('optim_wrapper', 'param_scheduler', 'train_cfg'):
            assert unscoped(cfg[key]) == unscoped(ref[key]), (name, key)
        for key in ('batch_size', 'dataset'):
            assert unscoped(cfg.train_dataloader[key]) == unscoped(
                ref.train_dataloader[key]), (name, key)
        assert unscoped(cfg.val_dataloader.dataset) == unscoped(
            ref.val_dataloader.dataset), name
        assert unscoped(cfg.default_hooks.checkpoint) == unscoped(
            ref.default_hooks.checkpoint), name


def test_teachers_without_aux_head_use_flip_tfe(configs):
    """TFE's paper view needs a teacher auxiliary head (or a cascade's
    first stage); SegFormer has neither, so its configs use the flip."""
    checked = 0
    for name, cfg in configs:
        path = cfg.model.teacher.get('cfg_path')
        if not path:
            continue
        teacher = get_config(path).model
        second = cfg.model.distiller.get('tfe', {}).get('second_view', 'aux')
        no_aux = teacher.get('auxiliary_head') is None and not isinstance(
            teacher.decode_head, list)
        assert (second == 'flip') == no_aux, name
        checked += no_aux
    assert checked == 3


@pytest.mark.parametrize('student', sorted(MMSEG_R18))
@pytest.mark.parametrize('dataset', sorted(DATASETS))
def test_students_are_mmseg_r18(configs, student, dataset):
    """Our R18 student dicts equal MMSeg's R18 Cityscapes models up to
    num_classes and the padding size."""
    [(name, cfg)] = [(n, c) for n, c in configs
                     if n.startswith(f'rdd_logits_deeplabv3_r101-d8_{student}'
                                     '_r18-d8') and dataset in n]
    ours = plain(cfg.model.architecture)
    ref = plain(get_config(MMSEG_R18[student]).model)
    num_classes = DATASETS[dataset]
    for head in ('decode_head', 'auxiliary_head'):
        assert ours[head].pop('num_classes') == num_classes
        ref[head].pop('num_classes')
    assert tuple(ours['data_preprocessor'].pop('size')) == tuple(cfg.crop_size)
    ref['data_preprocessor'].pop('size')
    ref['data_preprocessor']['type'] = 'SegDataPreProcessor'
    assert ours.pop('_scope_') == 'mmseg'
    ref.pop('_scope_', None)
    assert ours == ref


def test_camvid_teacher_is_mmseg_r101():
    train = Config.fromfile(
        osp.join(TEACHERS, 'deeplabv3_r101-d8_4xb4-40k_camvid-360x480.py'))
    ours = plain(train.model)
    ref = plain(
        get_config('mmseg::deeplabv3/'
                   'deeplabv3_r101-d8_4xb4-40k_voc12aug-512x512.py').model)
    for head in ('decode_head', 'auxiliary_head'):
        assert ours[head].pop('num_classes') == 11
        ref[head].pop('num_classes')
    assert tuple(ours['data_preprocessor'].pop('size')) == (360, 480)
    ref['data_preprocessor'].pop('size')
    ours.pop('_scope_')
    ref.pop('_scope_', None)
    assert ours == ref
    assert train.train_dataloader.dataset.type == 'CamVidDataset'
    assert train.custom_imports.imports == ['mmrdd']


def test_camvid_distillation_uses_the_trained_teacher(configs):
    train_name = 'deeplabv3_r101-d8_4xb4-40k_camvid-360x480'
    train = Config.fromfile(osp.join(TEACHERS, train_name + '.py'))
    for name, cfg in configs:
        if 'camvid' not in name:
            continue
        # tools/train.py's default work_dir and the last checkpoint
        assert cfg.model.teacher_ckpt == (
            f'work_dirs/{train_name}/iter_{train.train_cfg.max_iters}.pth')
        teacher = plain(cfg.model.teacher)
        assert teacher.pop('pretrained') is None
        expected = plain(train.model)
        expected.pop('pretrained')
        assert teacher == expected


def test_cutmix_only_where_asked(configs):
    for name, cfg in configs:
        pre = cfg.model.get('data_preprocessor') or {}
        types = [a['type'] for a in pre.get('batch_augments') or []]
        expected = dict(cutmix=['SegCutMix'], mixup=['SegMixup'])
        augment = name.split('_')[0].split('-', 1)[-1]  # rdd-<augment>_...
        assert types == expected.get(augment, []), name
        # CutMixPick makes its candidates itself (model.picker)
        assert (cfg.model.get('picker') is not None) == ('cutmixpick'
                                                         in name), name
        if types:
            assert pre.type == 'mmseg.BatchAugSegDataPreProcessor'


def test_offline_a_dict_student_starts_from_a_local_backbone(tmp_path):
    """``--cfg-options model.architecture.pretrained=PATH`` (docs/
    datasets.md, offline use): the student's ImageNet backbone comes from
    the file instead of ``open-mmlab://resnet18_v1c``."""
    import torch
    from mmseg.models.backbones import ResNetV1c
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    imagenet = ResNetV1c(depth=18).state_dict()
    path = str(tmp_path / 'resnet18_v1c-b5776b93.pth')
    torch.save(dict(state_dict=imagenet), path)
    cfg = Config.fromfile(
        osp.join(
            RDD, 'rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_'
            '4xb4-40k_voc12aug-512x512.py'))
    assert cfg.model.architecture.pretrained == 'open-mmlab://resnet18_v1c'
    cfg.merge_from_dict({'model.architecture.pretrained': path})
    student = MODELS.build(cfg.model.architecture)
    student.init_weights()
    loaded = student.backbone.state_dict()
    assert loaded.keys() == imagenet.keys()
    for key, value in imagenet.items():
        assert torch.equal(loaded[key], value), key
