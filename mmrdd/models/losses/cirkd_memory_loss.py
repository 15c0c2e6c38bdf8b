# Copyright (c) mmrdd contributors. All rights reserved.
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_gather, broadcast, get_world_size
from mmrazor.registry import MODELS
from torch import Tensor

from ...functional.cirkd import (labels_at, memory_contrast_kd, memory_entries,
                                 ring_buffer_writes)
from ._checks import check_positive, check_positive_int, check_same_size

MEMORIES = ('pixel', 'region')


@MODELS.register_module()
class CIRKDMemoryLoss(nn.Module):
    """CIRKD memory-based pixel-to-pixel or pixel-to-region relation loss.

    `Cross-Image Relational Knowledge Distillation for Semantic Segmentation
    <https://arxiv.org/abs/2204.06986>`_ (Yang et al., CVPR 2022). A memory
    keeps, per class, a ring buffer of L2-normalised teacher embeddings:
    pixels (``memory='pixel'``, up to ``pixels_per_class`` random pixels
    per image and class each step) or region means (``memory='region'``,
    the mean embedding of each class in each image). Every valid pixel of the
    batch is an anchor; ``contrast_size // num_classes + 1`` entries per class
    (the same random slots for every class) are its contrast set ``X``::

        z_M  = normalize(f_M) @ X^T / tau            # M = S (projected), T
        loss = loss_weight * kd_tau^2 / #anchors * sum_anchors
               KL(softmax(z_T / kd_tau) || softmax(z_S / kd_tau))

    As in the official code (``losses/cirkd_memory.py``), the memory is
    updated with this batch *before* the contrast set is drawn, with the
    teacher embeddings and labels of **all** processes when
    ``torch.distributed`` is initialised (``all_gather``; the queues are
    broadcast from rank 0 once, so all ranks hold the same memory), and the
    labels are resized to the feature size by nearest neighbour. The student
    features must already be projected to the teacher's channels: give the
    loss a connector in ``loss_forward_mappings`` (the reference uses
    conv1x1-BN-ReLU-conv1x1). The reference's single module computes both
    memories; here each memory is one loss (two config entries), so each is
    logged on its own. No MMRazor loss keeps such a memory.

    Unlike the reference, each pixel entry is a pixel *of its class* (the
    official enqueue indexes the image's first pixels by mistake; see
    ``docs/kd_family.md``).

    Checkpoints: the memory (``queue``, ``ptr``) is a buffer of the model,
    saved in every checkpoint by default, so ``--resume`` continues with
    the same memory, exactly. It is large at Cityscapes scale (19 x 20000
    x 512 float32 for the pixel memory, 0.73 GiB; the region memory 0.07
    GiB). ``persistent_memory=False`` (ours, off by default) keeps it out of
    the state dict: checkpoints lose that size, and a resumed run starts
    with a fresh random memory, which this step's batch and the next ones
    refill (up to ``pixels_per_class`` entries per image and class per
    step, one region entry per image and class), so training after a
    resume is no longer bit-identical to an uninterrupted run. The
    reference saves only the student: its resumed runs restart the memory
    too.

    Args:
        num_classes (int): Number of classes.
        feat_channels (int): Channels ``D`` of the teacher embedding.
        memory (str): ``'pixel'`` or ``'region'``. Defaults to ``'pixel'``.
        memory_size (int): Entries per class. Defaults to 20000.
        contrast_size (int): Contrast entries in all (the reference's
            ``--pixel-contrast-size`` 4096, ``--region-contrast-size``
            1024). Defaults to 4096.
        tau (float): Temperature of the similarities. Defaults to 0.1.
        kd_tau (float): Temperature of the distillation. Defaults to 1.0.
        pixels_per_class (int): Pixel entries per image and class and step
            (pixel memory). Defaults to 16.
        ignore_index (int): Label of ignored pixels. Defaults to 255.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        persistent_memory (bool): Save the memory in the state dict
            (checkpoints). Defaults to True.
    """

    def __init__(self,
                 num_classes: int,
                 feat_channels: int,
                 memory: str = 'pixel',
                 memory_size: int = 20000,
                 contrast_size: int = 4096,
                 tau: float = 0.1,
                 kd_tau: float = 1.0,
                 pixels_per_class: int = 16,
                 ignore_index: int = 255,
                 loss_weight: float = 1.0,
                 persistent_memory: bool = True) -> None:
        super().__init__()
        if memory not in MEMORIES:
            raise ValueError(
                f'memory must be one of {MEMORIES}, got {memory!r}')
        self.num_classes = check_positive_int('num_classes', num_classes)
        self.feat_channels = check_positive_int('feat_channels', feat_channels)
        self.memory = memory
        self.memory_size = check_positive_int('memory_size', memory_size)
        check_positive_int('contrast_size', contrast_size)
        self.contrast_per_class = contrast_size // num_classes + 1
        if self.contrast_per_class > memory_size:
            raise ValueError(
                f'contrast_size {contrast_size} draws '
                f'{self.contrast_per_class} entries per class, more than '
                f'memory_size {memory_size}: lower contrast_size or raise '
                'memory_size.')
        self.pixels_per_class = check_positive_int('pixels_per_class',
                                                   pixels_per_class)
        if memory == 'pixel' and pixels_per_class > memory_size:
            raise ValueError(
                f'pixels_per_class {pixels_per_class} exceeds memory_size '
                f'{memory_size}.')
        self.tau = check_positive('tau', tau)
        self.kd_tau = check_positive('kd_tau', kd_tau)
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        queue = F.normalize(
            torch.randn(num_classes, memory_size, feat_channels), dim=2)
        if not isinstance(persistent_memory, bool):
            raise TypeError('persistent_memory must be True (the memory is '
                            'saved in checkpoints) or False (it is not), got '
                            f'{persistent_memory!r}')
        self.persistent_memory = persistent_memory
        self.register_buffer('queue', queue, persistent=persistent_memory)
        self.register_buffer(
            'ptr',
            torch.zeros(num_classes, dtype=torch.long),
            persistent=persistent_memory)
        self._synced = False

    @torch.no_grad()
    def enqueue(self, feat_T: Tensor, labels: Tensor) -> None:
        """Add one batch of (every process's) teacher embeddings.

        Args:
            feat_T (Tensor): L2-normalised teacher embeddings (N, D, h, w).
            labels (Tensor): Labels at feature size, (N, h, w).
        """
        region, pixel, count = memory_entries(feat_T, labels, self.num_classes,
                                              self.pixels_per_class)
        entries = region if self.memory == 'region' else pixel
        if get_world_size() > 1:
            if not self._synced:
                broadcast(self.queue, 0)
                broadcast(self.ptr, 0)
            entries = torch.cat(all_gather(entries.contiguous()))
            count = torch.cat(all_gather(count.contiguous()))
        self._synced = True
        width = 1 if self.memory == 'region' else self.pixels_per_class
        sources, targets, ptr = ring_buffer_writes(count.tolist(),
                                                   self.ptr.tolist(),
                                                   self.memory_size,
                                                   self.memory, width)
        if targets:
            src = entries.reshape(-1, self.feat_channels)[torch.tensor(
                sources, device=entries.device)]
            tgt = torch.tensor(targets, device=self.queue.device)
            self.queue.view(-1, self.feat_channels)[tgt] = src.to(self.queue)
        self.ptr.copy_(torch.tensor(ptr))

    def forward(self, preds_S: Tensor, preds_T: Tensor,
                gt_labels: Tensor) -> Tensor:
        """Update the memory, then compute the loss.

        Args:
            preds_S (Tensor): Projected student features (N, D, h, w).
            preds_T (Tensor): Teacher features (N, D, h, w).
            gt_labels (Tensor): Labels (N, H, W), e.g. the second input of
                the student's ``decode_head.loss_decode``.

        Returns:
            Tensor: Scalar float32 loss.
        """
        check_same_size(preds_S, preds_T, same_channels=True)
        if preds_T.shape[1] != self.feat_channels:
            raise ValueError(
                f'CIRKDMemoryLoss(feat_channels={self.feat_channels}) got '
                f'{preds_T.shape[1]}-channel teacher features: set '
                'feat_channels to the teacher channels, and project the '
                'student to them with a connector.')
        if gt_labels.dim() == 4 and gt_labels.shape[1] == 1:
            gt_labels = gt_labels[:, 0]
        feat_s = F.normalize(preds_S.float(), p=2, dim=1)
        feat_t = F.normalize(preds_T.detach().float(), p=2, dim=1)
        labels = labels_at(gt_labels, feat_s.shape[-2:])
        self.enqueue(feat_t, labels)
        valid = (labels != self.ignore_index).flatten()
        anchor_s = feat_s.permute(0, 2, 3, 1).reshape(-1, self.feat_channels)
        anchor_t = feat_t.permute(0, 2, 3, 1).reshape(-1, self.feat_channels)
        if not bool(valid.any()):
            return feat_s.sum() * 0.
        index = torch.randperm(self.memory_size, device=self.queue.device)
        contrast = self.queue[:, index[:self.contrast_per_class]].reshape(
            -1, self.feat_channels)
        return self.loss_weight * memory_contrast_kd(
            anchor_s[valid], anchor_t[valid], contrast, self.tau, self.kd_tau)
