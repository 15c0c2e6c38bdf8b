# Copyright (c) mmrdd contributors. All rights reserved.
"""TeacherCheckHook on a real tiny runner: a random teacher stops the run
with a message naming the checkpoint, data set and preprocessor; a trained
one passes; the logged mIoU is the IoU of the teacher's predictions."""
import random

import numpy as np
import pytest
import torch
from _toy_models import (NUM_CLASSES, loader_cfg, rdd_cfg, segmentor_cfg,
                         tiny_runner)
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch.utils.data import Dataset

import mmrdd  # noqa: F401
from mmrdd.engine import TeacherCheckHook
from mmrdd.engine.hooks.teacher_check_hook import miou_from_areas

SIZE = (32, 40)


def image(index: int) -> torch.Tensor:
    """A seeded smooth image, (3, H, W): a few blobs on noise."""
    g = torch.Generator().manual_seed(index)
    coarse = 3 * torch.randn(1, 3, 4, 5, generator=g)
    return torch.nn.functional.interpolate(
        coarse, SIZE, mode='bilinear')[0] + 0.3 * torch.randn(
            3, *SIZE, generator=g)


class LabelledDataset(Dataset):
    """Images labelled by a given teacher (5% ignored), as a data set.

    The teacher that made the labels is the right checkpoint for this data
    (it scores 100); any other one is a wrong checkpoint.
    """

    metainfo = dict(classes=tuple('abcde'))

    def __init__(self, labeller, n: int = 6, offset: int = 500) -> None:
        self.items = []
        labeller.eval()
        for i in range(n):
            img = image(offset + i)
            sample = SegDataSample()
            sample.set_metainfo(
                dict(img_shape=SIZE, pad_shape=SIZE, ori_shape=SIZE))
            with torch.no_grad():
                label = labeller.predict(
                    img[None],
                    [sample.clone()])[0].pred_sem_seg.data[0].clone()
            g = torch.Generator().manual_seed(offset + i)
            label[torch.rand(SIZE, generator=g) < 0.05] = 255
            sample.gt_sem_seg = PixelData(data=label[None])
            self.items.append(dict(inputs=img, data_samples=sample))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        return self.items[index]


def teacher_cfg(base: int = 8) -> dict:
    # test_cfg as a config gives it (EncoderDecoder.predict reads .mode)
    cfg = segmentor_cfg(base=base)
    cfg['test_cfg'] = ConfigDict(mode='whole')
    return cfg


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """The right teacher, a wrong one (another seed) and their data."""
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    folder = tmp_path_factory.mktemp('teachers')
    out = {}
    for name, seed in (('right', 0), ('wrong', 1)):
        torch.manual_seed(seed)
        with DefaultScope.overwrite_default_scope('mmseg'):
            teacher = MODELS.build(teacher_cfg())
        with torch.no_grad():  # logits that vary over the image
            teacher.decode_head.conv_seg.weight.mul_(100)
        out[name] = str(folder / f'{name}.pth')
        torch.save(dict(state_dict=teacher.state_dict()), out[name])
        if name == 'right':
            out['val'] = LabelledDataset(teacher)
    train = LabelledDataset(teacher, n=4, offset=0)
    out['train'] = train
    labels = torch.cat([
        d['data_samples'].gt_sem_seg.data.flatten() for d in out['val'].items
    ])
    # the right teacher's labels are not one class (so a wrong one can fail)
    assert len(set(labels.tolist()) - {255}) >= 2
    return out


def build_runner(tmp_path,
                 data,
                 ckpt,
                 hook=None,
                 val=True,
                 teacher_check=None):
    hook = hook or dict(type='TeacherCheckHook', min_miou=30.0, num_batches=2)
    model = rdd_cfg(
        teacher=teacher_cfg(), student=teacher_cfg(4), switch_iter=1)
    model['teacher_ckpt'] = data[ckpt]
    val_kwargs = dict(
        val_dataloader=loader_cfg(data['val'], 'DefaultSampler'),
        val_cfg=dict(type='ValLoop'),
        val_evaluator=dict(type='IoUMetric')) if val else {}
    # what the hook reads from the config (the data sets are objects here,
    # which a Config cannot dump); tiny_runner adds the data preprocessor
    cfg = dict(model=model)
    if teacher_check is not None:
        cfg['teacher_check'] = teacher_check
    return tiny_runner(
        tmp_path,
        model,
        'check', [dict(type='RDDStageHook'), hook],
        max_iters=2,
        checkpoint_interval=100,
        dataset=data['train'],
        val_interval=100,
        cfg=cfg,
        **val_kwargs)


def check_hook(runner) -> TeacherCheckHook:
    hooks = [h for h in runner.hooks if isinstance(h, TeacherCheckHook)]
    assert len(hooks) == 1
    return hooks[0]


def reference_miou(runner, data, num_images: int) -> float:
    """Plain numpy: confusion matrix of the teacher's predictions."""
    model = runner.model
    conf = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    dataset = data['val']
    with torch.no_grad():
        for i in range(num_images):
            item = dataset[i]
            batch = model.data_preprocessor(
                dict(
                    inputs=[item['inputs']],
                    data_samples=[item['data_samples']]), False)
            out = model.teacher.predict(batch['inputs'], batch['data_samples'])
            pred = out[0].pred_sem_seg.data[0].numpy().ravel()
            gt = item['data_samples'].gt_sem_seg.data[0].numpy().ravel()
            keep = gt != 255
            np.add.at(conf, (gt[keep], pred[keep]), 1)
    inter = np.diag(conf).astype(float)
    union = conf.sum(0) + conf.sum(1) - inter
    return 100 * float(np.mean(inter[union > 0] / union[union > 0]))


def test_wrong_teacher_stops_with_a_message(tmp_path, data):
    runner = build_runner(tmp_path, data, 'wrong')
    with pytest.raises(RuntimeError) as err:
        runner.train()
    msg = str(err.value)
    assert f"model.teacher_ckpt='{data['wrong']}'" in msg
    assert 'LabelledDataset' in msg and 'data_root=' in msg
    assert 'SegDataPreProcessor mean=[0.0, 0.0, 0.0] std=[1.0, 1.0, 1.0]' \
        in msg
    assert 'teacher_check.min_miou' in msg
    hook = check_hook(runner)
    assert hook.miou < 30
    assert f'mIoU {hook.miou:.2f} on the first 4 validation images' in msg
    assert hook.miou == pytest.approx(
        reference_miou(runner, data, 4), abs=1e-9)
    assert runner.iter == 0  # stopped before training


def test_right_teacher_passes_and_logs_its_miou(tmp_path, data):
    runner = build_runner(tmp_path, data, 'right')
    rng = (torch.get_rng_state(), np.random.get_state()[1].copy(),
           random.getstate())
    hook = check_hook(runner)
    hook.before_train(runner)
    # the check leaves every RNG as it found it
    assert torch.equal(torch.get_rng_state(), rng[0])
    assert np.array_equal(np.random.get_state()[1], rng[1])
    assert random.getstate() == rng[2]
    expected = reference_miou(runner, data, 4)
    assert expected == pytest.approx(100)  # it made the labels
    assert hook.miou == pytest.approx(expected, abs=1e-9)
    runner.train()
    assert runner.iter == 2
    log = open(runner.logger._log_file).read()
    assert (f'RDD teacher check: teacher mIoU {expected:.2f} on the first 4 '
            'validation images (floor min_miou=30)') in log


def test_floor_is_set_by_name_from_the_config(tmp_path, data):
    """teacher_check.min_miou=0 (what --cfg-options sets) only logs;
    num_batches=0 skips."""
    runner = build_runner(
        tmp_path / 'a', data, 'wrong', teacher_check=dict(min_miou=0))
    runner.train()
    assert runner.iter == 2 and check_hook(runner).miou < 30
    runner = build_runner(
        tmp_path / 'b', data, 'wrong', teacher_check=dict(num_batches=0))
    runner.train()
    assert check_hook(runner).miou is None
    runner = build_runner(
        tmp_path / 'c', data, 'wrong', teacher_check=dict(min_mIoU=0))
    with pytest.raises(ValueError, match='unknown keys'):
        runner.train()


def test_without_val_dataloader_it_warns_and_trains(tmp_path, data):
    runner = build_runner(tmp_path, data, 'wrong', val=False)
    runner.train()
    assert runner.iter == 2 and check_hook(runner).miou is None
    assert 'RDD teacher check skipped' in open(runner.logger._log_file).read()


def test_miou_from_areas_values():
    inter = torch.tensor([2., 0., 3., 0.])
    union = torch.tensor([4., 5., 3., 0.])  # the last class is absent
    assert miou_from_areas(inter,
                           union) == pytest.approx(100 * (0.5 + 0 + 1) / 3)
    assert miou_from_areas(torch.zeros(2), torch.zeros(2)) != \
        miou_from_areas(torch.zeros(2), torch.zeros(2))  # NaN


@pytest.mark.parametrize('kwargs', [
    dict(min_miou=-1),
    dict(min_miou=101),
    dict(min_miou='10'),
    dict(num_batches=-1),
    dict(num_batches=1.5),
    dict(num_batches=True)
])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match='TeacherCheckHook'):
        TeacherCheckHook(**kwargs)
