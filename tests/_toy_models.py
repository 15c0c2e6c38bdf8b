# Copyright (c) mmrdd contributors. All rights reserved.
"""Tiny MMSeg segmentors and RDD algorithms built in code for the tests."""
import copy
from typing import List, Optional, Tuple

import torch
from mmengine.runner import Runner
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch.utils.data import Dataset

NUM_CLASSES = 5
NORM = dict(type='BN', requires_grad=True)


def segmentor_cfg(base: int = 4,
                  aux: bool = True,
                  num_classes: int = NUM_CLASSES,
                  class_weight: Optional[List[float]] = None,
                  sampler: Optional[dict] = None) -> dict:
    """A DeepLabV3-like EncoderDecoder, output stride 8, ``base`` wide."""
    loss = dict(
        type='CrossEntropyLoss',
        use_sigmoid=False,
        loss_weight=1.0,
        class_weight=class_weight)
    cfg = dict(
        _scope_='mmseg',
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[0., 0., 0.],
            std=[1., 1., 1.],
            pad_val=0,
            seg_pad_val=255),
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            base_channels=base,
            stem_channels=base,
            num_stages=4,
            out_indices=(0, 1, 2, 3),
            dilations=(1, 1, 2, 4),
            strides=(1, 2, 1, 1),
            norm_cfg=NORM,
            norm_eval=False,
            contract_dilation=True),
        decode_head=dict(
            type='ASPPHead',
            in_channels=base * 8,
            in_index=3,
            channels=8,
            dilations=(1, 2, 3, 4),
            dropout_ratio=0.1,
            num_classes=num_classes,
            norm_cfg=NORM,
            align_corners=False,
            loss_decode=copy.deepcopy(loss),
            sampler=sampler),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))
    if aux:
        aux_loss = copy.deepcopy(loss)
        aux_loss['loss_weight'] = 0.4
        cfg['auxiliary_head'] = dict(
            type='FCNHead',
            in_channels=base * 4,
            in_index=2,
            channels=8,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.1,
            num_classes=num_classes,
            norm_cfg=NORM,
            align_corners=False,
            loss_decode=aux_loss)
    return cfg


def rdd_cfg(teacher: Optional[dict] = None,
            student: Optional[dict] = None,
            **distiller) -> dict:
    """An RDDSingleTeacherDistill config around tiny models."""
    dist = dict(
        type='RDDDistiller',
        student_recorders=dict(
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg'),
            aux_logits=dict(
                type='ModuleOutputs', source='auxiliary_head.conv_seg')),
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
        distill_losses=dict(loss_kl=dict(type='RDDWeightedKLDivergence')),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits'))))
    dist.update(distiller)
    student = student or segmentor_cfg(base=4)
    if 'auxiliary_head' not in student:
        dist['student_recorders'].pop('aux_logits')
    return dict(
        _scope_='mmrazor',
        type='RDDSingleTeacherDistill',
        architecture=student,
        teacher=teacher or segmentor_cfg(base=8),
        distiller=dist)


def batch(n: int = 2,
          size: Tuple[int, int] = (32, 40),
          seed: int = 0,
          ignore_frac: float = 0.1) -> Tuple[torch.Tensor, List]:
    """Seeded images and SegDataSamples with some ignored pixels."""
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 3, *size, generator=g)
    samples = []
    for _ in range(n):
        label = torch.randint(0, NUM_CLASSES, size, generator=g)
        label[torch.rand(size, generator=g) < ignore_frac] = 255
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=label[None])
        s.set_metainfo(dict(img_shape=size, pad_shape=size, ori_shape=size))
        samples.append(s)
    return inputs, samples


class TinySegDataset(Dataset):
    """Eight seeded 32x40 images of :func:`batch` with labels, as a data set.

    Args:
        uint8 (bool): Give the images as loaded (uint8, ``x * 40 + 128``)
            rather than as :func:`batch`'s floats. Defaults to False.
    """

    def __init__(self, uint8: bool = False) -> None:
        self.uint8 = uint8

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> dict:
        inputs, samples = batch(n=1, seed=index)
        image = inputs[0]
        if self.uint8:
            image = (image * 40 + 128).clamp(0, 255).to(torch.uint8)
        return dict(inputs=image, data_samples=samples[0])


def tiny_runner(tmp_path,
                model: dict,
                name: str,
                custom_hooks: list,
                max_iters: int,
                checkpoint_interval: int,
                uint8: bool = False,
                **runner_args) -> Runner:
    """A real MMEngine runner that trains ``model`` on :class:`TinySegDataset`.

    Batches of 2, SGD with lr 0.01, a log line every iteration; the model's
    data preprocessor normalises the images of ``TinySegDataset(uint8)`` to
    :func:`batch`'s floats. ``runner_args`` go to :class:`Runner` as they are.
    """
    model['data_preprocessor'] = dict(
        type='mmseg.SegDataPreProcessor',
        mean=[128. if uint8 else 0.] * 3,
        std=[40. if uint8 else 1.] * 3,
        size=(32, 40),
        pad_val=0,
        seg_pad_val=255)
    return Runner(
        model=model,
        work_dir=str(tmp_path),
        experiment_name=f'{name}-{tmp_path.name}',
        train_dataloader=dict(
            dataset=TinySegDataset(uint8),
            sampler=dict(type='InfiniteSampler', shuffle=False),
            collate_fn=dict(type='pseudo_collate'),
            batch_size=2,
            num_workers=0),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(
                type='CheckpointHook',
                interval=checkpoint_interval,
                by_epoch=False)),
        custom_hooks=custom_hooks,
        default_scope='mmseg',
        **runner_args)
