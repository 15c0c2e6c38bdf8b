# Copyright (c) mmrdd contributors. All rights reserved.
"""Watch what TSE selects: the share of each class it keeps; warn when it
keeps no pixel (naming the cause) or starves a class."""
from typing import Dict, Optional, Sequence

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook, LoggerHook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS
from torch import Tensor

from mmrdd.arg_checks import is_int, is_number
from mmrdd.functional import scaled_min_kept, starved_classes
from .train_metainfo import class_names

#: What can make a window of TSE steps select nothing, see
#: :func:`empty_selection_cause`.
EMPTY_CAUSES = ('no_valid', 'not_finite', 'min_kept', 'all_hard', 'agree',
                'disjoint')


def empty_selection_cause(mode: str, valid: int, hard_student: int,
                          hard_both: int, steps: int, min_kept: int) -> str:
    """Why TSE selected no pixel in any step of a window.

    From the window's pixel counts (all classes, all processes), the first
    that holds, in this order:

    * ``'no_valid'``: the batches had no labelled pixel;
    * ``'not_finite'``: no pixel was hard for the student although there
      were labelled pixels (OHEM marks at least one pixel hard unless the
      probabilities are NaN);
    * ``'disjoint'`` (mode ``'and'``): no pixel was hard for both;
    * ``'min_kept'`` (mode ``'xor'``): every valid pixel was hard for both
      models, and ``min_kept`` is at least the valid pixels of a batch
      (``valid / steps``);
    * ``'all_hard'`` (mode ``'xor'``): every valid pixel was hard for both
      models, with ``min_kept`` below the valid pixels of a batch;
    * ``'agree'`` (mode ``'xor'``): both found the same pixels hard, not
      all of them.

    Args:
        mode (str): The TSE mode.
        valid (int): Valid pixels of the window.
        hard_student (int): Those hard for the student.
        hard_both (int): Those hard for both models.
        steps (int): Batches (steps times processes) of the window.
        min_kept (int): The TSE ``min_kept``.

    Returns:
        str: One of :data:`EMPTY_CAUSES`.
    """
    if valid <= 0:
        return 'no_valid'
    if hard_student <= 0 or mode not in ('xor', 'and'):
        return 'not_finite'
    if mode == 'and':
        return 'disjoint'
    if hard_both >= valid:
        return 'min_kept' if min_kept * steps >= valid else 'all_hard'
    return 'agree'


def _iterations(steps: int) -> str:
    """``'1 iteration'``, ``'5 iterations'``: ``steps`` summed over the
    processes, per process."""
    n = max(steps // get_world_size(), 1)
    return f'{n} iteration' + ('s' if n > 1 else '')


@HOOKS.register_module()
class RDDSelectionWatchHook(Hook):
    """Log what TSE-RDD keeps of each class; warn when it keeps nothing or
    starves a class.

    Every ``interval`` iterations of the TSE stage the hook reads the
    per-class pixel counts that :class:`~mmrdd.models.RDDDistiller` summed
    on the device since the last read (one host synchronisation per
    interval; summed over processes) and:

    * logs, for each class ``c`` named by the training data set's
      ``metainfo['classes']``, ``rdd/tse_kept/<c>``: the share of the
      class's valid pixels (student main head) that TSE kept in the task
      loss over the interval (NaN when the class had no valid pixel);
    * warns, once per class, when a class is starved (unless the whole
      selection was empty, see below; see
      :func:`~mmrdd.functional.starved_classes`): it has at least
      ``min_class_pixels`` valid pixels, TSE kept fewer than
      ``starved_share`` of them and the student finds at least
      ``student_hard_share`` of them hard (it still predicts the class
      poorly);
    * warns when TSE selected no pixel in any TSE iteration of the
      interval (the student's task loss was 0), naming the cause
      (:func:`empty_selection_cause`): ``min_kept`` at or above the valid
      pixels of a batch, both models finding every pixel hard, both finding
      the same pixels hard, no labelled pixel, or a student whose
      probabilities are NaN.

    It runs before the logger hook, so that the per-class shares are in the
    logged line of the same iteration (the logger prints a key without
    ``loss`` or ``time`` in its name at its current value).

    Args:
        interval (int, optional): Iterations per check. Defaults to None
            (the logger's interval).
        log_classes (bool): Log ``rdd/tse_kept/<class>``. Defaults to True.
        starved_share (float): A class of which TSE keeps less than this
            share is starved (if poorly predicted), in (0, 1]. Defaults to
            0.05.
        student_hard_share (float): A class of which the student finds at
            least this share hard is poorly predicted, in [0, 1]. Defaults
            to 0.5.
        min_class_pixels (int): Fewest valid pixels in an interval of a
            class that can be starved (fewer are noise). Defaults to 100.
    """

    priority = 'NORMAL'

    def __init__(self,
                 interval: Optional[int] = None,
                 log_classes: bool = True,
                 starved_share: float = 0.05,
                 student_hard_share: float = 0.5,
                 min_class_pixels: int = 100) -> None:
        if interval is not None and (not is_int(interval) or interval < 1):
            raise ValueError('RDDSelectionWatchHook: interval must be an int '
                             f'>= 1 or None, got {interval!r}.')
        if not isinstance(log_classes, bool):
            raise ValueError('RDDSelectionWatchHook: log_classes must be a '
                             f'bool, got {log_classes!r}.')
        for name, value, low_open in (('starved_share', starved_share, True),
                                      ('student_hard_share',
                                       student_hard_share, False)):
            if not is_number(value) or not (0 < value <= 1
                                            if low_open else 0 <= value <= 1):
                raise ValueError(
                    f'RDDSelectionWatchHook: {name} must be a share in '
                    f'{"(0" if low_open else "[0"}, 1], got {value!r}.')
        if not is_int(min_class_pixels) or min_class_pixels < 1:
            raise ValueError('RDDSelectionWatchHook: min_class_pixels must '
                             f'be an int >= 1, got {min_class_pixels!r}.')
        self.interval = interval
        self.log_classes = log_classes
        self.starved_share = float(starved_share)
        self.student_hard_share = float(student_hard_share)
        self.min_class_pixels = min_class_pixels
        self._warned_classes = set()

    def before_train(self, runner) -> None:
        """Take the logger's interval unless one was given."""
        if self.interval is None:
            intervals = [
                h.interval for h in runner.hooks if isinstance(h, LoggerHook)
            ]
            self.interval = intervals[0] if intervals else 50

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        """Read the counts of the interval; log them; check them."""
        if not self.every_n_train_iters(runner, self.interval):
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        distiller = getattr(model, 'distiller', None)
        if not hasattr(distiller, 'pop_class_counts'):
            return
        steps, counts = distiller.pop_class_counts()
        if not counts:  # no TSE step since the last read
            return
        counts = self._summed(counts)
        steps *= get_world_size()
        names = class_names(runner, len(counts['valid']))
        if self.log_classes:
            share = counts['kept'].double() / counts['valid'].double()
            for name, value in zip(names, share.tolist()):
                runner.message_hub.update_scalar(f'train/rdd/tse_kept/{name}',
                                                 value)
        # an empty selection starves every class: its warning names the
        # cause, and the classes are checked again in the next interval
        if not self._check_empty(runner, distiller, counts, steps, data_batch):
            self._check_classes(runner, distiller, counts, names, steps)

    @staticmethod
    def _summed(counts: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """The counts summed over processes, on the host."""
        stacked = torch.stack(list(counts.values()))
        all_reduce(stacked)
        return dict(zip(counts, stacked.cpu()))

    def _check_classes(self, runner, distiller, counts: Dict[str, Tensor],
                       names: Sequence[str], steps: int) -> None:
        """Warn about the classes that TSE starves (once per class)."""
        starved = starved_classes(
            counts['valid'],
            counts['kept'],
            counts['hard_student'],
            max_kept_share=self.starved_share,
            min_hard_share=self.student_hard_share,
            min_pixels=self.min_class_pixels)
        new = [
            c for c in starved.nonzero().flatten().tolist()
            if c not in self._warned_classes
        ]
        if not new:
            return
        self._warned_classes.update(new)
        tse = distiller.tse
        details = []
        for c in new:
            valid = int(counts['valid'][c])
            kept, hard, both = (
                int(counts[k][c]) / valid
                for k in ('kept', 'hard_student', 'hard_both'))
            details.append(f"'{names[c]}' (kept {kept:.1%} of {valid} "
                           f'pixels; hard for the student {hard:.0%}, for '
                           f'both models {both:.0%})')
        remedy = ''
        if tse.mode == 'xor' and tse.min_class_share is None:
            remedy = (' Our option model.distiller.tse.min_class_share '
                      '(e.g. 0.05; off by default) keeps the pixels hard for '
                      'both models in the task loss for a class of which '
                      'XOR keeps less than that share in a batch.')
        runner.logger.warning(
            f'RDD: TSE starves {len(new)} class(es) of task-loss signal: '
            f'in the last {_iterations(steps)} it kept less than '
            f'{self.starved_share:.0%} of their valid pixels while the '
            f'student still finds at least {self.student_hard_share:.0%} of '
            'them hard' +
            (' (XOR drops the pixels hard for both models)' if tse.mode ==
             'xor' else '') + ': ' + ', '.join(details) +
            '. rdd/tse_kept/<class> '
            'logs the kept share of each class; this warning is given once '
            'per class.' + remedy)

    def _check_empty(self, runner, distiller, counts: Dict[str, Tensor],
                     steps: int, data_batch: Optional[dict]) -> bool:
        """Warn, naming the cause, when no TSE iteration of the interval
        selected a pixel; return whether it warned."""
        if int(counts['kept'].sum()) > 0:
            return False
        tse = distiller.tse
        valid, hard, both = (
            int(counts[k].sum())
            for k in ('valid', 'hard_student', 'hard_both'))
        cause = empty_selection_cause(tse.mode, valid, hard, both, steps,
                                      tse.min_kept)
        per_batch = valid / max(steps, 1)
        if cause == 'no_valid':
            ignore = distiller.head_specs[distiller.student_main].ignore_index
            why = ('the batches had no labelled pixel (every label was '
                   f'ignore_index={ignore}): check the label maps of the '
                   'data set and reduce_zero_label.')
        elif cause == 'not_finite':
            why = ('no pixel was hard for the student although a batch had '
                   f'{per_batch:.0f} labelled pixels on average: its '
                   'probabilities are not finite (NaN); check the learning '
                   'rate and the logged losses.')
        elif cause == 'disjoint':
            why = ('no pixel was hard for both models (hard for the '
                   f'student: {hard / valid:.1%} of the valid pixels) and '
                   "mode 'and' keeps only those; RDD's mode is 'xor'.")
        elif cause == 'min_kept':
            why = (f'min_kept ({tse.min_kept}) is not below the valid label '
                   f'pixels of a batch ({per_batch:.0f} on average), so OHEM '
                   'marks every valid pixel hard for both models and XOR '
                   'keeps none. Scale min_kept with the batch: the '
                   'reference keeps 100000 of 4 x 512 x 1024 label pixels '
                   'per GPU, i.e. min_kept = 100000 / (4 * 512 * 1024) * B '
                   '* H * W' + self._scaled(data_batch) + '.')
        elif cause == 'all_hard':
            why = ('teacher and student both find every valid pixel hard '
                   '(each gives the true class a probability of at most '
                   f'thresh={tse.thresh} on every valid pixel, while '
                   f'min_kept ({tse.min_kept}) is below the {per_batch:.0f} '
                   'valid pixels of a batch) and XOR drops the pixels hard '
                   'for both. Usually the teacher does not predict this '
                   'data: check model.teacher_ckpt and the teacher\'s score '
                   'logged before training (TeacherCheckHook); or TSE '
                   'starts before the student predicts anything: raise '
                   'model.distiller.switch_iter.')
        else:
            why = ('teacher and student find the same pixels hard '
                   f'({hard / valid:.1%} of the valid pixels) and XOR keeps '
                   'only the pixels hard for one of them. Usually the '
                   'teacher is the student (check that model.teacher_ckpt '
                   'is not the student\'s weights), or neither model has '
                   'learnt more than one probability per class yet.')
        window_size = getattr(runner.log_processor, 'window_size', None)
        mean = (f'the logged task loss is a {window_size}-iteration mean'
                if window_size else 'the logged task loss is a mean')
        runner.logger.warning(
            f'RDD: TSE selected no pixel in the last {_iterations(steps)}, '
            'so the student\'s task loss was 0 '
            'in each of them (distillation '
            f'loss only; {mean} and can hide it). Cause: ' + why)
        return True

    @staticmethod
    def _scaled(data_batch: Optional[dict]) -> str:
        """`` = N here (B x H x W); set ...`` for the batch, if known."""
        samples = (data_batch or {}).get('data_samples') or []
        seg = getattr(samples[0], 'gt_sem_seg', None) if samples else None
        if seg is None:
            return ' (set model.distiller.tse.min_kept)'
        h, w = seg.shape[-2:]
        n = len(samples)
        scaled = scaled_min_kept(n, h, w)
        return (f' = {scaled} for this batch ({n} x {h} x {w}): set '
                f'model.distiller.tse.min_kept={scaled}')
