# Copyright (c) mmrdd contributors. All rights reserved.
"""Score the teacher on a few validation batches before training."""
import random
from typing import Dict, Optional, Tuple

import numpy as np
import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.evaluation import IoUMetric
from mmseg.registry import HOOKS
from torch import Tensor

from mmrdd.arg_checks import is_int, is_number

#: The top-level config key whose entries override the hook's arguments.
CFG_KEY = 'teacher_check'


def miou_from_areas(intersect: Tensor, union: Tensor) -> float:
    """mIoU in points from per-class areas, as MMSeg's ``IoUMetric``.

    Classes with an empty union (absent from both ground truth and
    prediction) are left out of the mean.

    Args:
        intersect (Tensor): Per-class intersection areas, (C, ).
        union (Tensor): Per-class union areas, (C, ).

    Returns:
        float: ``100 * nanmean(intersect / union)``; NaN when every union is
        empty.
    """
    iou = intersect.double() / union.double()
    iou = iou[union > 0]
    return float('nan') if iou.numel() == 0 else 100.0 * float(iou.mean())


@HOOKS.register_module()
class TeacherCheckHook(Hook):
    """Log the teacher's mIoU on the first validation batches; stop if low.

    A teacher checkpoint with the right shapes but the wrong weights
    (another data set with the same class count, a barely trained run) or a
    wrong input normalisation is otherwise accepted silently, and RDD then
    re-weights the student's loss by a meaningless teacher. Before iteration
    0 (after the weights are loaded or resumed) this hook runs the teacher
    alone, in eval mode, through the distillation model's
    ``data_preprocessor`` (the normalisation the teacher sees in training)
    and its ``predict`` (its ``test_cfg``) on the first ``num_batches``
    batches of ``runner.val_dataloader``, logs

    .. math::
        mIoU = 100 \\cdot \\mathrm{mean}_{c:\\, U_c > 0} I_c / U_c

    (MMSeg's ``IoUMetric``: intersection and union areas summed over the
    images, then over ranks) and raises a ``RuntimeError`` naming
    ``model.teacher_ckpt``, the data set and the preprocessor when the
    value is below ``min_miou``. Every RNG (torch, numpy, Python) is left
    as it was, so the check does not change the training.

    ``min_miou`` is an absolute floor in mIoU points. A constant prediction
    scores at most ``100 / C`` (C classes), a random or wrongly normalised
    teacher a few points; good teachers score far more (DeepLabV3-R101:
    about 79 on Cityscapes, 45 on ADE20K; the toy teacher 51). The default
    10 catches the first kind on data sets of 10 classes or more and passes
    every good teacher; raise it per data set in the config. Because
    ``custom_hooks`` entries can only be addressed by list position on the
    command line, a top-level config dict ``teacher_check`` (e.g.
    ``--cfg-options teacher_check.min_miou=0``, or
    ``teacher_check.num_batches=0`` to skip the check) overrides the
    arguments by name.

    Args:
        min_miou (float): Floor of the teacher's mIoU in points, in
            [0, 100]; 0 only logs. Defaults to 10.0.
        num_batches (int): Validation batches scored; 0 skips the check.
            Defaults to 8.
    """

    priority = 'LOW'

    def __init__(self, min_miou: float = 10.0, num_batches: int = 8) -> None:
        self.min_miou, self.num_batches = self._checked(min_miou, num_batches)
        self.miou: Optional[float] = None

    @staticmethod
    def _checked(min_miou, num_batches) -> Tuple[float, int]:
        if not is_number(min_miou) or not 0 <= min_miou <= 100:
            raise ValueError('TeacherCheckHook: min_miou must be a number '
                             f'of mIoU points in [0, 100], got {min_miou!r}.')
        if not is_int(num_batches) or num_batches < 0:
            raise ValueError('TeacherCheckHook: num_batches must be an '
                             f'int >= 0 (0 skips), got {num_batches!r}.')
        return float(min_miou), num_batches

    def _settings(self, runner) -> Tuple[float, int]:
        """The arguments, overridden by the config's ``teacher_check``."""
        cfg = getattr(runner, 'cfg', None)
        override = cfg.get(CFG_KEY) if cfg is not None else None
        if override is None:
            return self.min_miou, self.num_batches
        unknown = set(override) - {'min_miou', 'num_batches'}
        if unknown:
            raise ValueError(f'{CFG_KEY} in the config has unknown keys '
                             f'{sorted(unknown)}; it takes min_miou and '
                             'num_batches (of TeacherCheckHook).')
        return self._checked(
            override.get('min_miou', self.min_miou),
            override.get('num_batches', self.num_batches))

    def before_train(self, runner) -> None:
        """Score the teacher; log the mIoU; stop below the floor."""
        min_miou, num_batches = self._settings(runner)
        if num_batches == 0:
            runner.logger.info('RDD teacher check skipped (num_batches=0).')
            return
        loop = runner.val_loop
        dataloader = getattr(loop, 'dataloader', None)
        if dataloader is None:
            runner.logger.warning(
                'RDD teacher check skipped: the config has no val_dataloader '
                "to score the teacher on (the teacher's quality is "
                'unchecked).')
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        teacher = getattr(model, 'teacher', None)
        if teacher is None:
            raise TypeError('TeacherCheckHook needs a distillation model '
                            'with a `teacher`; got '
                            f'{type(model).__name__}.')
        states = _rng_states()
        try:
            areas, images = teacher_areas(model, dataloader, num_batches)
        finally:
            _set_rng_states(states)
        self.miou = miou_from_areas(areas['intersect'], areas['union'])
        runner.logger.info(
            f'RDD teacher check: teacher mIoU {self.miou:.2f} on the first '
            f'{images} validation images (floor min_miou={min_miou:g})')
        if not self.miou >= min_miou:  # NaN fails too
            raise RuntimeError(self._message(runner, model, min_miou, images))

    def _message(self, runner, model, min_miou: float, images: int) -> str:
        cfg = getattr(runner, 'cfg', None) or {}
        ckpt = cfg.get('model', {}).get('teacher_ckpt', '(not in config)')
        dataset = runner.val_dataloader.dataset
        preprocessor = model.data_preprocessor
        mean = getattr(preprocessor, 'mean', None)
        std = getattr(preprocessor, 'std', None)
        as_list = (
            lambda t: 'None'
            if t is None else str([round(float(v), 3) for v in t.flatten()]))
        return (
            f'the teacher scores mIoU {self.miou:.2f} on the first {images} '
            f'validation images, below teacher_check min_miou={min_miou:g}: '
            f'it is probably not a trained teacher for this data. Check '
            f'model.teacher_ckpt={ckpt!r} (the checkpoint of a teacher '
            f'trained on this data set), the data set '
            f'{type(dataset).__name__} at data_root='
            f"{getattr(dataset, 'data_root', None)!r} (its classes and "
            'label ids), and the preprocessor '
            f'{type(preprocessor).__name__} mean={as_list(mean)} '
            f'std={as_list(std)} (the normalisation the teacher was trained '
            'with). If the teacher is right, lower the floor with '
            '--cfg-options teacher_check.min_miou=X.')


def _rng_states() -> dict:
    return dict(
        torch=torch.get_rng_state(),
        numpy=np.random.get_state(),
        python=random.getstate(),
        cuda=torch.cuda.get_rng_state_all()
        if torch.cuda.is_available() else None)


def _set_rng_states(states: dict) -> None:
    torch.set_rng_state(states['torch'])
    np.random.set_state(states['numpy'])
    random.setstate(states['python'])
    if states['cuda'] is not None:
        torch.cuda.set_rng_state_all(states['cuda'])


@torch.no_grad()
def teacher_areas(model, dataloader,
                  num_batches: int) -> Tuple[Dict[str, Tensor], int]:
    """Per-class intersection and union of the teacher's predictions.

    Args:
        model (FrozenTeacherDistill): The distillation model; its
            ``data_preprocessor`` prepares the batches, its ``teacher``
            predicts (eval mode, restored afterwards).
        dataloader (Iterable[dict]): Validation batches.
        num_batches (int): Batches scored from the start.

    Returns:
        tuple[dict[str, Tensor], int]: ``intersect`` and ``union`` (C, )
        summed over the images and the ranks, and the number of images.
    """
    teacher = model.teacher
    head = teacher.decode_head
    head = head[-1] if isinstance(head, torch.nn.ModuleList) else head
    num_classes, ignore = head.num_classes, head.ignore_index
    was_training = teacher.training
    teacher.eval()
    total = dict(
        intersect=torch.zeros(num_classes, dtype=torch.float64),
        union=torch.zeros(num_classes, dtype=torch.float64))
    images = 0
    try:
        for i, data in enumerate(dataloader):
            if i == num_batches:
                break
            data = model.data_preprocessor(data, False)
            for sample in teacher.predict(data['inputs'],
                                          data['data_samples']):
                pred = sample.pred_sem_seg.data.squeeze(0)
                label = sample.gt_sem_seg.data.squeeze(0).to(pred)
                inter, union, _, _ = IoUMetric.intersect_and_union(
                    pred, label, num_classes, ignore)
                total['intersect'] += inter.double().cpu()
                total['union'] += union.double().cpu()
                images += 1
    finally:
        teacher.train(was_training)
    device = next(teacher.parameters()).device
    count = torch.tensor([float(images)], dtype=torch.float64, device=device)
    for key in total:
        total[key] = total[key].to(device)
        all_reduce(total[key])
        total[key] = total[key].cpu()
    all_reduce(count)
    return total, int(count.item())


#: the name of mmrdd 0.2
HOOKS.register_module(name='RDDTeacherCheckHook', module=TeacherCheckHook)
