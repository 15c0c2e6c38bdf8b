# Copyright (c) mmrdd contributors. All rights reserved.
"""Tiny MMSeg segmentors and RDD algorithms built in code for the tests."""
import copy
import math
from typing import Iterable, List, Optional, Tuple

import torch
from mmengine.runner import Runner
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch.utils.data import Dataset

NUM_CLASSES = 5
NORM = dict(type='BN', requires_grad=True)


def head_cfg(type: str,
             in_channels: int,
             in_index: int,
             loss_decode: dict,
             num_classes: int = NUM_CLASSES,
             **extra) -> dict:
    """A tiny MMSeg decode head: 8 channels, dropout 0.1, BN.

    Args:
        type (str): The head class, e.g. ``'ASPPHead'``.
        in_channels (int): Channels of the backbone output it reads.
        in_index (int): Which backbone output it reads.
        loss_decode (dict): The head's loss.
        num_classes (int): Classes it predicts. Defaults to NUM_CLASSES.
        **extra: The head class's own arguments.

    Returns:
        dict: The head's config.
    """
    return dict(
        type=type,
        in_channels=in_channels,
        in_index=in_index,
        channels=8,
        dropout_ratio=0.1,
        num_classes=num_classes,
        norm_cfg=NORM,
        align_corners=False,
        loss_decode=loss_decode,
        **extra)


def fcn_head_cfg(in_channels: int, in_index: int, loss_decode: dict,
                 **kwargs) -> dict:
    """A one-conv FCNHead (an auxiliary head, a cascade's first stage).

    Args:
        in_channels (int): See :func:`head_cfg`.
        in_index (int): See :func:`head_cfg`.
        loss_decode (dict): See :func:`head_cfg`.
        **kwargs: Further arguments of :func:`head_cfg` (``num_classes``).

    Returns:
        dict: The head's config.
    """
    return head_cfg(
        'FCNHead',
        in_channels,
        in_index,
        loss_decode,
        num_convs=1,
        concat_input=False,
        **kwargs)


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
        decode_head=head_cfg(
            'ASPPHead',
            base * 8,
            3,
            copy.deepcopy(loss),
            num_classes,
            dilations=(1, 2, 3, 4),
            sampler=sampler),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))
    if aux:
        aux_loss = copy.deepcopy(loss)
        aux_loss['loss_weight'] = 0.4
        cfg['auxiliary_head'] = fcn_head_cfg(
            base * 4, 2, aux_loss, num_classes=num_classes)
    return cfg


def stride4_segmentor_cfg(base: int = 8) -> dict:
    """A segmentor without auxiliary head whose logits are at 1/4 (those of
    :func:`segmentor_cfg` are at 1/8): a teacher of mixed logit sizes."""
    cfg = segmentor_cfg(base=base, aux=False)
    cfg['backbone'].update(strides=(1, 1, 1, 1), dilations=(1, 1, 2, 4))
    return cfg


def sharpen(net: torch.nn.Module, k: float) -> None:
    """Scale every ``conv_seg`` of ``net`` by ``k`` and draw its bias from
    N(0, 2), in place: confident logits, so that q spreads over (0, 1)."""
    with torch.no_grad():
        for m in net.modules():
            if hasattr(m, 'conv_seg'):
                m.conv_seg.weight.mul_(k)
                m.conv_seg.bias.normal_(0, 2)


def rdd_cfg(teacher: Optional[dict] = None,
            student: Optional[dict] = None,
            **distiller) -> dict:
    """An FrozenTeacherDistill config around tiny models."""
    dist = dict(
        type='RDDDistiller',
        student_recorders=dict(
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg'),
            aux_logits=dict(
                type='ModuleOutputs', source='auxiliary_head.conv_seg')),
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
        distill_losses=dict(loss_kl=dict(type='WeightedKLDivergence')),
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
        type='FrozenTeacherDistill',
        architecture=student,
        teacher=teacher or segmentor_cfg(base=8),
        distiller=dist)


def augmented_rdd(batch_augment: dict, stage: str,
                  **distiller) -> torch.nn.Module:
    """An RDD algorithm whose preprocessor runs a batch augmentation.

    Args:
        batch_augment (dict): The ``BatchAugSegDataPreProcessor``'s only batch
            augmentation, on :func:`batch`-sized images.
        stage (str): The distiller's stage, ``'tfe'`` or ``'tse'``.
        **distiller: Overrides of :func:`rdd_cfg`'s distiller.

    Returns:
        torch.nn.Module: The model, built with torch seed 0, in train mode.
    """
    from mmrazor.registry import MODELS
    cfg = rdd_cfg(**distiller)
    cfg['data_preprocessor'] = dict(
        type='mmseg.BatchAugSegDataPreProcessor',
        mean=[0., 0., 0.],
        std=[1., 1., 1.],
        size=(32, 40),
        batch_augments=[batch_augment])
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.train()
    model.distiller.set_stage(stage)
    return model


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


def distillation_step(model: torch.nn.Module, names: Iterable[str],
                      inputs: torch.Tensor, samples: List) -> dict:
    """One training step of a teacher-student model, checked: the losses
    ``names`` are there, finite and positive; after ``backward`` the teacher
    has no gradient and a trainable student parameter has one.

    Args:
        model (nn.Module): The distillation model (``teacher``,
            ``architecture``), in train mode.
        names (Iterable[str]): The distillation losses (``distill.*``).
        inputs (Tensor): The batch's images.
        samples (list): Its ``SegDataSample`` objects.

    Returns:
        dict: The losses.
    """
    losses = model.loss(inputs, samples)
    names = set(names)
    assert names and names <= set(losses), (names, set(losses))
    assert all(math.isfinite(losses[n].item()) for n in names)
    assert all(losses[n].item() > 0 for n in names)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    student = [p for p in model.architecture.parameters() if p.requires_grad]
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in student)
    return losses


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


def loader_cfg(dataset: Dataset, sampler: str) -> dict:
    """A dataloader of batches of 2, in order, in the main process.

    Args:
        dataset (Dataset): The data set object.
        sampler (str): ``'InfiniteSampler'`` (training) or
            ``'DefaultSampler'`` (validation).

    Returns:
        dict: The dataloader's config.
    """
    return dict(
        dataset=dataset,
        sampler=dict(type=sampler, shuffle=False),
        collate_fn=dict(type='pseudo_collate'),
        batch_size=2,
        num_workers=0)


def tiny_runner(tmp_path,
                model: dict,
                name: str,
                custom_hooks: list,
                max_iters: int,
                checkpoint_interval: int,
                uint8: bool = False,
                dataset: Optional[Dataset] = None,
                val_interval: Optional[int] = None,
                checkpoint: Optional[dict] = None,
                **runner_args) -> Runner:
    """A real MMEngine runner that trains ``model`` on :class:`TinySegDataset`.

    Batches of 2, SGD with lr 0.01, a log line every iteration; the model's
    data preprocessor normalises the images of ``TinySegDataset(uint8)`` to
    :func:`batch`'s floats. ``dataset`` (32x40 float images) replaces
    :class:`TinySegDataset`; ``val_interval`` goes to ``train_cfg``;
    ``checkpoint`` updates the checkpoint hook's config (``type``,
    ``max_keep_ckpts``, ...); ``runner_args`` go to :class:`Runner` as they
    are.
    """
    model['data_preprocessor'] = dict(
        type='mmseg.SegDataPreProcessor',
        mean=[128. if uint8 else 0.] * 3,
        std=[40. if uint8 else 1.] * 3,
        size=(32, 40),
        pad_val=0,
        seg_pad_val=255)
    # the segmentors say what they were trained with: the same (the
    # algorithm refuses a teacher configured for another normalisation)
    for part in ('architecture', 'teacher') if uint8 else ():
        seg = model.get(part)
        if isinstance(seg, dict) and isinstance(
                seg.get('data_preprocessor'), dict):
            seg['data_preprocessor'] = dict(
                seg['data_preprocessor'],
                mean=model['data_preprocessor']['mean'],
                std=model['data_preprocessor']['std'])
    train_set = TinySegDataset(uint8) if dataset is None else dataset
    train_cfg = dict(by_epoch=False, max_iters=max_iters)
    if val_interval is not None:
        train_cfg['val_interval'] = val_interval
    return Runner(
        model=model,
        work_dir=str(tmp_path),
        experiment_name=f'{name}-{tmp_path.name}',
        train_dataloader=loader_cfg(train_set, 'InfiniteSampler'),
        train_cfg=train_cfg,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(
                dict(
                    type='CheckpointHook',
                    interval=checkpoint_interval,
                    by_epoch=False), **(checkpoint or {}))),
        custom_hooks=custom_hooks,
        default_scope='mmseg',
        **runner_args)
