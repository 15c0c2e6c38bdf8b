# Copyright (c) mmrdd contributors. All rights reserved.
"""Per-class IoU of a segmentor on a data set split, for reports and demos."""
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS

from mmrdd.runtime import load_checkpoint_strict


def confusion_iou(confusion: np.ndarray) -> np.ndarray:
    """Per-class IoU from a (C, C) confusion matrix (rows: ground truth).

    Classes absent from both ground truth and prediction get NaN.
    """
    inter = np.diag(confusion).astype(np.float64)
    union = confusion.sum(0) + confusion.sum(1) - inter
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(union > 0, inter / union, np.nan)


@torch.no_grad()
def evaluate_segmentor(config: str,
                       checkpoint: str,
                       data_root: Optional[str] = None,
                       split: str = 'val_dataloader',
                       batch_size: int = 16) -> Dict:
    """Evaluate a plain MMSeg checkpoint on a data set split, on CPU.

    Args:
        config (str): A plain MMSeg (student or teacher) config.
        checkpoint (str): Its checkpoint (strictly loaded).
        data_root (str, optional): Overrides the split's ``data_root``.
        split (str): Dataloader key of the config. Defaults to
            ``'val_dataloader'``.
        batch_size (int): Images per forward pass (the split's images must
            share one size; the toy ones do). Defaults to 16.

    Returns:
        dict: ``mIoU`` (percent), ``per_class`` {class: IoU percent},
        ``aAcc`` (percent) and ``num_images``.
    """
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    load_checkpoint_strict(model, checkpoint, 'segmentor')
    model.eval()
    dataset_cfg = cfg[split].dataset.copy()
    if data_root is not None:
        dataset_cfg['data_root'] = data_root
    dataset = DATASETS.build(dataset_cfg)
    classes = dataset.metainfo['classes']
    num_classes = len(classes)
    confusion = np.zeros((num_classes, num_classes), np.int64)
    ignore = model.decode_head.ignore_index
    pipeline = Compose(dataset_cfg.pipeline)
    for first in range(0, len(dataset), batch_size):
        datas = [
            pipeline(dataset.get_data_info(idx))
            for idx in range(first, min(first + batch_size, len(dataset)))
        ]
        samples = [data['data_samples'] for data in datas]
        batch = model.data_preprocessor(
            dict(
                inputs=[data['inputs'] for data in datas],
                data_samples=samples), False)
        preds = model.predict(batch['inputs'], batch['data_samples'])
        for pred, sample in zip(preds, samples):
            pred = pred.pred_sem_seg.data[0].numpy().ravel()
            gt = sample.gt_sem_seg.data[0].numpy().ravel()
            keep = gt != ignore
            confusion += np.bincount(
                gt[keep].astype(np.int64) * num_classes + pred[keep],
                minlength=num_classes**2).reshape(num_classes, num_classes)
    iou = confusion_iou(confusion)
    return dict(
        mIoU=float(np.nanmean(iou) * 100),
        per_class={c: float(v * 100)
                   for c, v in zip(classes, iou)},
        aAcc=float(np.diag(confusion).sum() / max(confusion.sum(), 1) * 100),
        num_images=len(dataset))
