# Copyright (c) mmrdd contributors. All rights reserved.
"""A user's run on each data set we ship configs for, end to end.

For Cityscapes, Pascal VOC aug, ADE20K and CamVid: tiny fake data in the
real on-disk format (``tests/_fake_datasets.py``), an MMSeg-format teacher
checkpoint of the config's own teacher (randomly initialised, saved as the
model zoo saves them), the ImageNet backbone the student starts from in
torch.hub's cache (no download); the shipped RDD config trains a few
iterations at a small crop through the TFE -> TSE switch with the overrides
``docs/datasets.md`` gives (one ``data_root`` for every split), then the
student is converted and scored by its plain-MMSeg scoring config (the
metafile's ``Student Config``) through ``tools/test.py``.

Only the sizes are made small (crop, resize scales, padding size,
``min_kept``) and the schedule short; the models are the configs' own
(DeepLabV3-R101-D8 teachers), so each test takes tens of seconds.
"""
import glob
import os
import os.path as osp
import re
from urllib.parse import urlparse

import pytest
import torch
import yaml
from _fake_datasets import (write_ade20k, write_camvid, write_cityscapes,
                            write_voc_aug)
from conftest import ROOT, last_checkpoint, losses_in_log, run_tool
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.registry import DefaultScope

from mmrdd.runtime import split_datasets

pytestmark = pytest.mark.slow

ITERS, SWITCH, BATCH, CROP = 4, 2, 2, (64, 64)
# the reference's share of a GPU batch's pixels (configs/rdd/README.md)
MIN_KEPT = round(100000 / (4 * 512 * 1024) * BATCH * CROP[0] * CROP[1])

CASES = {
    'cityscapes': (write_cityscapes, 'rdd_logits_deeplabv3_r101-d8_'
                   'deeplabv3_r18-d8_4xb4-40k_cityscapes-512x1024', 16),
    'voc12aug': (write_voc_aug, 'rdd_logits_deeplabv3_r101-d8_'
                 'pspnet_r18-d8_4xb4-40k_voc12aug-512x512', 8),
    'ade20k': (write_ade20k, 'rdd_logits_deeplabv3_r101-d8_'
               'deeplabv3_r18-d8_4xb4-80k_ade20k-512x512', 8),
    'camvid': (write_camvid, 'rdd_logits_deeplabv3_r101-d8_'
               'pspnet_r18-d8_4xb4-40k_camvid-360x480', 8),
}


def small_sizes(cfg: Config, shrink: int) -> list:
    """``--cfg-options`` that shrink every resize scale by ``shrink`` and
    make every crop and pad ``CROP``."""
    options = []
    for key, dataset in split_datasets(cfg):
        for i, step in enumerate(dataset.get('pipeline', [])):
            at = f'{key}.pipeline.{i}'
            if step.type in ('Resize', 'RandomResize'):
                w, h = step.scale
                options.append(f'{at}.scale=({w // shrink},{h // shrink})')
            if 'crop_size' in step:
                options.append(f'{at}.crop_size=({CROP[0]},{CROP[1]})')
            if step.type == 'Pad':
                options.append(f'{at}.size=({CROP[0]},{CROP[1]})')
    return options


def padding_size(cfg: Config) -> list:
    """``--cfg-options`` that pad training batches to ``CROP``: the
    student's preprocessor, or for a ``cfg_path`` student (whose config
    cannot be overridden) the algorithm's own, a copy of it."""
    arch = cfg.model.architecture
    if not arch.get('cfg_path'):
        return [
            f'model.architecture.data_preprocessor.size=({CROP[0]},'
            f'{CROP[1]})'
        ]
    pre = get_config(arch.cfg_path).model.data_preprocessor
    options = ['model.data_preprocessor.type=mmseg.SegDataPreProcessor']
    for key in ('mean', 'std'):
        options.append(f'model.data_preprocessor.{key}='
                       f'[{",".join(str(v) for v in pre[key])}]')
    for key in ('bgr_to_rgb', 'pad_val', 'seg_pad_val'):
        options.append(f'model.data_preprocessor.{key}={pre[key]}')
    return options + [f'model.data_preprocessor.size=({CROP[0]},{CROP[1]})']


def write_teacher(cfg: Config, path: str) -> None:
    """The config's teacher, randomly initialised, saved as MMSeg's model
    zoo saves checkpoints (``meta`` and ``state_dict``)."""
    from mmrazor.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmseg'):
        teacher = MODELS.build(cfg.model.teacher)
    torch.save(
        dict(
            meta=dict(mmseg_version='1.2.2'), state_dict=teacher.state_dict()),
        path)


def cache_imagenet_backbone(cfg: Config, torch_home: str) -> str:
    """Put a ResNetV1c-18 where torch.hub caches ``open-mmlab://
    resnet18_v1c``, so the student's ImageNet initialisation loads with no
    network (how a user runs offline, docs/datasets.md)."""
    from mmengine.runner.checkpoint import get_external_models
    from mmseg.models.backbones import ResNetV1c
    arch = cfg.model.architecture
    pretrained = (get_config(arch.cfg_path).model
                  if arch.get('cfg_path') else arch).pretrained
    assert pretrained == 'open-mmlab://resnet18_v1c'
    url = get_external_models()['resnet18_v1c']
    folder = osp.join(torch_home, 'hub', 'checkpoints')
    os.makedirs(folder, exist_ok=True)
    path = osp.join(folder, osp.basename(urlparse(url).path))
    torch.save(dict(state_dict=ResNetV1c(depth=18).state_dict()), path)
    return path


def scoring_config(name: str) -> str:
    """The metafile's ``Student Config`` of ``name``, as a package name
    (``mmseg::...`` or ``mmrdd::students/...``)."""
    with open(osp.join(ROOT, 'configs', 'rdd', 'metafile.yml')) as f:
        [entry] = [m for m in yaml.safe_load(f)['Models'] if m['Name'] == name]
    student = entry['Metadata']['Student Config']
    return 'mmrdd::' + student[len('configs/'):] \
        if student.startswith('configs/') else student


@pytest.mark.parametrize('dataset', sorted(CASES))
def test_a_users_run_trains_converts_and_scores(dataset, tmp_path):
    write, name, shrink = CASES[dataset]
    data_root = write(str(tmp_path / 'data'))
    config = osp.join('configs', 'rdd', name + '.py')
    cfg = Config.fromfile(osp.join(ROOT, config))
    teacher = str(tmp_path / 'teacher.pth')
    write_teacher(cfg, teacher)
    torch_home = str(tmp_path / 'torch')
    backbone = cache_imagenet_backbone(cfg, torch_home)
    env = dict(TORCH_HOME=torch_home, OMP_NUM_THREADS='1')
    work = str(tmp_path / 'work')

    loaders = [
        f'{split}_dataloader.num_workers=0'
        for split in ('train', 'val', 'test')
    ]
    log = run_tool(
        'tools/train.py',
        config,
        '--work-dir',
        work,
        '--cfg-options',
        f'data_root={data_root}',
        f'model.teacher_ckpt={teacher}',
        *loaders,
        f'train_dataloader.batch_size={BATCH}',
        *small_sizes(cfg, shrink),
        *padding_size(cfg),
        f'train_cfg.max_iters={ITERS}',
        f'train_cfg.val_interval={ITERS}',
        f'param_scheduler.0.end={ITERS}',
        f'default_hooks.checkpoint.interval={ITERS}',
        'default_hooks.logger.interval=1',
        f'model.distiller.switch_iter={SWITCH}',
        f'model.distiller.tse.min_kept={MIN_KEPT}',
        # a random teacher: score it on one batch, do not stop on it
        'teacher_check.min_miou=0',
        'teacher_check.num_batches=1',
        # numerically a no-op; MMEngine's optimizer constructor then logs
        # per parameter, as it does for SegFormer's recipe
        'optim_wrapper.paramwise_cfg.bias_lr_mult=1.0',
        env=env)

    # the data set, the teacher and the backbone came from where we said
    assert f'data_root={data_root} for every split' in log
    assert 'persistent_workers=False' in log
    assert re.search(
        r'RDD teacher check: teacher mIoU \d+\.\d+ on the first 1 validation '
        'images', log)
    assert os.listdir(osp.dirname(backbone)) == [osp.basename(backbone)]
    # through the TFE -> TSE switch, finite losses
    assert f'RDD stage TSE from iteration {SWITCH}' in log
    assert losses_in_log(log, 'rdd/stage') == \
        [0.0] * SWITCH + [1.0] * (ITERS - SWITCH)
    for key in ('student.decode.loss_ce', 'student.aux.loss_ce',
                'distill.loss_kl'):
        values = losses_in_log(log, key)
        assert len(values) == ITERS and all(
            map(torch.isfinite, torch.tensor(values))), key
    # the frozen teacher in one line, not one per parameter
    assert log.count('requires_grad=False, not trained: teacher (') == 1
    assert 'is skipped since its requires_grad=False' not in log

    ckpt = last_checkpoint(work)
    run_tool('tools/model_converters/convert_kd_ckpt_to_student.py', ckpt)
    student = ckpt[:-len('.pth')] + '_student.pth'
    # plain torch (no mmrdd, hence none of its allow-listed types) loads it
    # as MMSeg on torch >= 2.6 does
    run_tool(
        '-c', 'import sys, torch; '
        'torch.load(sys.argv[1], weights_only=True)', student)
    score = scoring_config(name)
    score_cfg = Config.fromfile(
        osp.join(ROOT, 'configs', score[len('mmrdd::'):]) if score.
        startswith('mmrdd::') else get_config(score).filename)
    test_log = run_tool(
        'tools/test.py',
        score,
        student,
        '--work-dir',
        str(tmp_path / 'test'),
        '--cfg-options',
        f'data_root={data_root}',
        'test_dataloader.num_workers=0',
        *[o for o in small_sizes(score_cfg, shrink) if o.startswith('test')],
        env=env)
    # every tensor of the scoring config's model came from the converted
    # student (tools/test.py loads strictly and says so)
    assert re.search(
        r'tools/test.py scored: test: loaded \d+ tensors from ' +
        re.escape(student), test_log), test_log[-2000:]
    assert 'do not match exactly' not in test_log
    miou = re.findall(r'mIoU: (\d+\.\d+)', test_log)
    assert miou and 0 <= float(miou[-1]) <= 100, test_log[-2000:]
    for path in glob.glob(osp.join(work, '*.pth')) + [teacher]:
        os.remove(path)  # 200 MB each
