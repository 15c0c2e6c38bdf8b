# Copyright (c) mmrdd contributors. All rights reserved.
"""A distillation config's losses, as configured, on given tensors.

The equality checks of the KD family (``tests/test_models/
test_kd_family_official.py`` against oracles, ``tools/analysis_tools/
check_official.py`` against the official code) build the ``distiller`` of a
real config (recorders, connectors, losses, ``loss_forward_mappings``: the
configured weights and inputs) and feed its recorders the tensors a
segmentor would produce, through stand-in modules named as MMSeg's:
``decode_head.conv_seg`` (input: the decode head's last feature; output:
the logits), ``decode_head.loss_decode`` (inputs: logits and labels) and
``auxiliary_head.conv_seg``. :func:`run_config_losses` returns what
``compute_distill_losses`` returns in training.

The inputs have the Cityscapes configs' shapes (:data:`CITYSCAPES`:
DeepLabV3-R101-D8 teacher, DeepLabV3-R18-D8 student, 4 crops of 512x1024
per GPU) at a chosen feature size.
"""
import copy
from typing import Any, Dict, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmrazor.registry import MODELS
from torch import Tensor

import mmrdd  # noqa: F401  (registers the losses)

#: The Cityscapes configs' shapes: batch per GPU, classes, the decode
#: head's last feature (input of conv_seg) of the student (DeepLabV3-R18-D8,
#: ``decode_head.channels``) and of the teacher (DeepLabV3-R101-D8), logits
#: at stride 8 of a 512x1024 crop, the ignore label.
CITYSCAPES = dict(
    batch=4,
    classes=19,
    student_channels=128,
    teacher_channels=512,
    logits=(64, 128),
    stride=8,
    ignore_index=255)
#: Standard deviation of the seeded logits.
LOGIT_STD = 5.0


def kd_inputs(seed: int,
              size: Sequence[int] = CITYSCAPES['logits'],
              student_channels: int = CITYSCAPES['student_channels'],
              ignored_share: float = 0.1) -> Dict[str, Any]:
    """Seeded tensors of a student and a teacher, and labels.

    Features are ReLU outputs (as the decode head's last feature: non-
    negative, some zeros); logits N(0, 5^2), peaked class distributions
    (at N(0, 2^2) the softmax over positions of DSD's category similarity
    is nearly uniform and float32 loses digits of its gradient to
    cancellation, in the official code and ours alike); labels of the crop
    (``stride`` times the feature size) are classes constant on 16x16
    tiles, with about ``ignored_share`` of the tiles ignored (255).

    Args:
        seed (int): Seed.
        size (Sequence[int]): Feature and logit size (h, w). Defaults to
            the Cityscapes configs' 64x128.
        student_channels (int): Channels of the student feature. Defaults
            to 128.
        ignored_share (float): Share of ignored tiles. Defaults to 0.1.

    Returns:
        dict: ``student`` and ``teacher`` (each ``feat``, ``logits``,
        ``aux_logits``), ``labels`` (N, stride*h, stride*w) and ``shapes``.
    """
    g = torch.Generator().manual_seed(seed)
    n, k = CITYSCAPES['batch'], CITYSCAPES['classes']
    h, w = (int(s) for s in size)

    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=g) * scale

    def model(channels):
        return dict(
            feat=F.relu(randn(n, channels, h, w)),
            logits=randn(n, k, h, w, scale=LOGIT_STD),
            aux_logits=randn(n, k, h, w, scale=LOGIT_STD))

    student = model(student_channels)
    teacher = model(CITYSCAPES['teacher_channels'])
    stride, tile = CITYSCAPES['stride'], 16
    th, tw = -(-h * stride // tile), -(-w * stride // tile)
    tiles = torch.randint(0, k, (n, th, tw), generator=g)
    tiles[torch.rand(n, th, tw, generator=g) < ignored_share] = \
        CITYSCAPES['ignore_index']
    labels = tiles.repeat_interleave(tile, 1).repeat_interleave(
        tile, 2)[:, :h * stride, :w * stride].contiguous()
    shapes = dict(
        student_feat=list(student['feat'].shape),
        teacher_feat=list(teacher['feat'].shape),
        logits=list(student['logits'].shape),
        aux_logits=list(student['aux_logits'].shape),
        labels=list(labels.shape),
        ignored_pixels=int((labels == CITYSCAPES['ignore_index']).sum()))
    return dict(student=student, teacher=teacher, labels=labels, shapes=shapes)


class _Emit(nn.Module):
    """Stands for ``conv_seg``: returns the logits it is given to emit."""

    def __init__(self) -> None:
        super().__init__()
        self.out: Optional[Tensor] = None

    def forward(self, feat: Tensor) -> Optional[Tensor]:
        return self.out


class _Sink(nn.Module):
    """Stands for ``loss_decode``: takes (logits, labels), returns 0."""

    def forward(self, *inputs: Any) -> int:
        return 0


class _Head(nn.Module):

    def __init__(self) -> None:
        super().__init__()
        self.conv_seg = _Emit()
        self.loss_decode = _Sink()

    def emit(self, feat: Tensor, logits: Tensor) -> None:
        self.conv_seg.out = logits
        self.conv_seg(feat)


class StandInSegmentor(nn.Module):
    """The modules of an MMSeg segmentor that the KD configs record."""

    def __init__(self) -> None:
        super().__init__()
        self.decode_head = _Head()
        self.auxiliary_head = _Head()

    def emit(self,
             feat: Tensor,
             logits: Tensor,
             aux_logits: Tensor,
             labels: Optional[Tensor] = None) -> None:
        """Call the recorded modules as a training forward would."""
        self.decode_head.emit(feat, logits)
        self.auxiliary_head.emit(None, aux_logits)
        if labels is not None:
            self.decode_head.loss_decode(logits, labels)


def _plain_bn(cfg: Any) -> Any:
    """``cfg`` with every ``SyncBN`` norm as ``BN`` (the same computation in
    one process, without ``torch.distributed``)."""
    if isinstance(cfg, dict):
        out = {k: _plain_bn(v) for k, v in cfg.items()}
        if out.get('type') == 'SyncBN':
            out['type'] = 'BN'
        return out
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(_plain_bn(v) for v in cfg)
    return cfg


def config_distiller(
        config: str,
        loss_overrides: Optional[Dict[str, dict]] = None) -> nn.Module:
    """Build the ``model.distiller`` of a distillation config, prepared on
    stand-in student and teacher segmentors.

    Args:
        config (str): A distillation config (e.g. ``configs/rdd/
            cwd_feat_..._cityscapes-512x1024.py``).
        loss_overrides (dict, optional): Per loss name, arguments to change
            (e.g. a smaller CIRKD memory). Defaults to None.

    Returns:
        nn.Module: The distiller, with ``stand_in_student`` and
        ``stand_in_teacher`` attributes (its recorders' sources).
    """
    cfg = Config.fromfile(config).model.distiller.to_dict()
    cfg = _plain_bn(copy.deepcopy(cfg))
    for name, changes in (loss_overrides or {}).items():
        cfg['distill_losses'][name].update(changes)
    cfg['_scope_'] = 'mmrazor'
    distiller = MODELS.build(cfg)
    distiller.stand_in_student = StandInSegmentor()
    distiller.stand_in_teacher = StandInSegmentor()
    distiller.prepare_from_student(distiller.stand_in_student)
    distiller.prepare_from_teacher(distiller.stand_in_teacher)
    return distiller


def run_config_losses(distiller: nn.Module, student: Dict[str, Tensor],
                      teacher: Dict[str, Tensor],
                      labels: Tensor) -> Dict[str, Tensor]:
    """The distiller's losses on the given tensors, as in training.

    Args:
        distiller (nn.Module): From :func:`config_distiller`.
        student (dict[str, Tensor]): ``feat``, ``logits``, ``aux_logits``.
        teacher (dict[str, Tensor]): The same, of the teacher.
        labels (Tensor): (N, H, W) labels, the second input of the
            student's ``decode_head.loss_decode``.

    Returns:
        dict[str, Tensor]: ``compute_distill_losses()``, by loss name.
    """
    with distiller.student_recorders, distiller.teacher_recorders:
        with torch.no_grad():
            distiller.stand_in_teacher.emit(teacher['feat'], teacher['logits'],
                                            teacher['aux_logits'])
        distiller.stand_in_student.emit(student['feat'], student['logits'],
                                        student['aux_logits'], labels)
    return distiller.compute_distill_losses()
