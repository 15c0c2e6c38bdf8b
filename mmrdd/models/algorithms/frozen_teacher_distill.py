# Copyright (c) mmrdd contributors. All rights reserved.
"""Distillation from a frozen teacher, the algorithm RDD plugs into."""
import logging
from contextlib import ExitStack
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS
from torch import Tensor

from mmrdd.arg_checks import is_number
from mmrdd.runtime import load_checkpoint_strict, resolve_cfg_path
from mmrdd.runtime.teacher_view import check_teacher_view
from ..data_augments.kd_augments import prepare_kd_augments
from ..distillers import DistillStep
from ..utils import KeptRows, main_head, run_heads, segmentor_heads


@MODELS.register_module()
class FrozenTeacherDistill(SingleTeacherDistill):
    """MMRazor's ``SingleTeacherDistill`` with a frozen, loss-free teacher.

    The algorithm of every config of ours, with or without RDD. Three
    differences from the parent, each needed by RDD's reference behaviour
    and harmless to any other distillation: the teacher is entirely in eval
    mode (the parent only freezes BN, so the heads' dropout would perturb
    the recorded teacher logits); the teacher runs its backbone and heads'
    ``forward`` without computing its own losses (``mode='loss'`` would
    waste a full-resolution loss pass, ``mode='tensor'`` skips the
    auxiliary head); and the teacher checkpoint must match the teacher
    exactly (the parent only logs missing keys, which trains against a
    random teacher).

    RDD plugs in through the distiller: one step (:meth:`loss`) asks the
    distiller's step interface (:class:`~mmrdd.models.DistillStep`) for the
    teacher heads to run, extra teacher views, a step record, what to bind
    during the student's loss, what to log and the distillation losses. An
    :class:`~mmrdd.models.RDDDistiller` answers with RDD's step; MMRazor's
    ``ConfigurableDistiller`` gets the plain one (KD without RDD). The name
    of 0.2, ``RDDSingleTeacherDistill``, builds this class.

    Student and teacher given as MMRazor ``cfg_path`` dicts are resolved
    into model dicts first, with the dict's other keys merged over the
    referenced config's model
    (:func:`~mmrdd.runtime.model_config.resolve_cfg_path`), so that every
    key of both models can be set from a config or ``--cfg-options``
    (MMRazor passes them as defaults only, so a key the referenced config
    sets is ignored). The teacher's ``data_preprocessor`` must normalise
    like the distillation model's, whose batch the teacher sees
    (:func:`~mmrdd.runtime.teacher_view.check_teacher_view`).

    Args:
        distiller (dict): Config of the distiller, usually ``RDDDistiller``.
        teacher (dict | BaseModel): The teacher segmentor or its config.
        teacher_ckpt (str, optional): Teacher checkpoint, a local path or an
            ``https://`` URL, read with safe loading and loaded strictly
            (:func:`~mmrdd.runtime.load_checkpoint_strict`). Defaults to None
            (keeps the initialisation; only sensible in tests).
        check_teacher_finite (bool): Stop with an error when the teacher's
            logits contain NaN or Inf, rather than training on them.
            Defaults to True.
        check_labels (bool): Stop with an error that names the value when a
            label is neither in ``[0, num_classes)`` nor ``ignore_index``
            (Cityscapes labelIds instead of trainIds, a forgotten
            ``reduce_zero_label``), before any kernel indexes with it (on
            CUDA it would be a device-side assert). Defaults to True.
            The two checks share one host-device synchronisation per step.
        download_timeout (float): Seconds that the download of an
            ``https://`` ``teacher_ckpt`` may wait for the server (to
            connect, or for each read) before it fails. Defaults to 60.
        picker (dict, optional): Candidate picking (CutMixPick,
            :class:`~mmrdd.models.CandidatePicker`, built in MMRazor's
            ``TASK_UTILS``): the teacher pass runs on ``pool`` augmented
            copies of the batch and the step trains on the best ones.
            Defaults to None (off).
        **kwargs: Other arguments of ``SingleTeacherDistill``
            (``architecture``, ``data_preprocessor``, ...).
    """

    def __init__(self,
                 distiller: dict,
                 teacher: Union[BaseModel, Dict],
                 teacher_ckpt: Optional[str] = None,
                 check_teacher_finite: bool = True,
                 check_labels: bool = True,
                 download_timeout: float = 60.0,
                 picker: Optional[dict] = None,
                 **kwargs) -> None:
        if (kwargs.get('teacher_trainable', False)
                or not kwargs.get('student_trainable', True)
                or not kwargs.get('calculate_student_loss', True)):
            raise ValueError(
                'RDD distils a frozen teacher into a trained student whose '
                'task loss it re-weights: keep teacher_trainable=False, '
                'student_trainable=True and calculate_student_loss=True.')
        if not is_number(download_timeout) or not download_timeout > 0:
            raise ValueError(
                'FrozenTeacherDistill: download_timeout must be a number '
                f'of seconds > 0, got {download_timeout!r}.')
        if isinstance(teacher, dict) and 'cfg_path' in teacher:
            teacher = resolve_cfg_path(teacher, 'model.teacher')
        architecture = kwargs.get('architecture')
        if isinstance(architecture, dict) and 'cfg_path' in architecture:
            kwargs['architecture'] = resolve_cfg_path(architecture,
                                                      'model.architecture')
        super().__init__(distiller, teacher, teacher_ckpt=None, **kwargs)
        check_teacher_view(self.teacher, self.data_preprocessor)
        if teacher_ckpt is not None:
            count = load_checkpoint_strict(
                self.teacher, teacher_ckpt, download_timeout=download_timeout)
            # keep the loaded weights through runner.model.init_weights()
            self.teacher.is_init = True
            print_log(
                f'teacher: loaded {count} tensors from {teacher_ckpt}',
                logger='current')
        else:
            print_log(
                'FrozenTeacherDistill: no teacher_ckpt, the teacher keeps '
                'its initialisation.',
                logger='current',
                level=logging.WARNING)
        self.check_teacher_finite = check_teacher_finite
        self.check_labels = check_labels
        student_head = segmentor_heads(self.student,
                                       'decode_head')[main_head(self.student)]
        self.num_classes = student_head.num_classes
        self.ignore_index = student_head.ignore_index
        self.teacher.eval()
        # what the step asks of the distiller: RDD's step, or plain KD's
        self.step = self.distiller if hasattr(self.distiller,
                                              'step_record') else DistillStep(
                                                  self.distiller, self.teacher)
        # KD data augmentation: the candidate picker, mixup's label maps
        self.picker, self.mixed_label_loss = prepare_kd_augments(
            self.data_preprocessor, self.student, self.distiller, picker)

    def train(self, mode: bool = True) -> 'FrozenTeacherDistill':
        """Set the student's mode; the teacher always stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self

    def teacher_forward(
            self,
            batch_inputs: Tensor,
            heads: Optional[Sequence[str]] = None) -> Dict[str, Tensor]:
        """Run the teacher's backbone and heads, no losses, no gradient.

        See :func:`~mmrdd.models.utils.run_heads`.

        Args:
            batch_inputs (Tensor): Preprocessed images, (N, 3, H, W).
            heads (Sequence[str], optional): The auxiliary heads to run
                besides the decode head(s). Defaults to None (the
                heads of the step's ``teacher_spec``: those RDD or a
                teacher recorder needs).

        Returns:
            dict[str, Tensor]: Logits by head name (``'decode_head'``,
            ``'decode_head.i'``, ``'auxiliary_head'``, ...), (N, C, h, w).
        """
        if heads is None:
            heads = self.step.teacher_spec.heads
        with torch.no_grad():
            outputs = run_heads(self.teacher,
                                self.teacher.extract_feat(batch_inputs), heads)
        return outputs

    def check_step(self, teacher_logits: Dict[str, Tensor],
                   data_samples: Optional[List[BaseDataElement]]) -> None:
        """The per-step checks of the teacher's logits and of the labels.

        Both reduce on the device and meet in one host-device
        synchronisation; only a failure costs more (to name the values).

        Args:
            teacher_logits (dict[str, Tensor]): The teacher pass's logits.
            data_samples (list[SegDataSample], optional): The batch.

        Raises:
            FloatingPointError: NaN/Inf teacher logits.
            ValueError: A label outside ``[0, num_classes)`` that is not
                ``ignore_index``.
        """
        checks = {}
        if self.check_teacher_finite:
            checks['teacher'] = torch.stack([
                torch.isfinite(out).all() for out in teacher_logits.values()
            ]).all()
        if self.check_labels and data_samples:
            label = torch.cat(
                [s.gt_sem_seg.data.flatten() for s in data_samples])
            bad = ((label < 0) | (label >= self.num_classes)) & (
                label != self.ignore_index)
            checks['labels'] = ~bad.any()
        if not checks:
            return
        ok = dict(zip(checks, torch.stack(list(checks.values())).tolist()))
        if not ok.get('teacher', True):
            raise FloatingPointError(
                'the teacher produced NaN/Inf logits: check teacher_ckpt '
                '(a diverged or wrong checkpoint) and the input '
                'normalisation (data_preprocessor).')
        if not ok.get('labels', True):
            values = label[bad].unique()[:8].tolist()
            raise ValueError(
                f'labels {values} are outside [0, {self.num_classes}) and '
                f'are not ignore_index ({self.ignore_index}): the student '
                f'predicts {self.num_classes} classes. Likely causes: '
                'Cityscapes labelIds instead of trainIds (convert with '
                "MMSeg's tools/dataset_converters/cityscapes.py), a data set "
                "whose 0 means 'unlabelled' without reduce_zero_label=True, "
                'or num_classes of the models not matching the data set.')

    def student_main_logits(self, inputs: Tensor) -> Tensor:
        """The student's main-head logits in eval mode, without gradient
        (to score candidates; the student's mode is restored)."""
        student = self.student
        training = student.training
        student.eval()
        try:
            with torch.no_grad():
                out = run_heads(student, student.extract_feat(inputs))
        finally:
            student.train(training)
        return out[main_head(student)]

    def teacher_pass(
        self, batch_inputs: Tensor, data_samples: List[BaseDataElement]
    ) -> Tuple[Tensor, List[BaseDataElement], Dict[str, Tensor],
               Optional[KeptRows]]:
        """The teacher pass of a step, recorded for the distillation losses.

        With a ``picker`` the teacher runs once on all its candidates and
        the step keeps the best ones: the kept images, their data samples
        and teacher logits are returned, and the kept rows, by which the
        distillation losses read the teacher's records.

        Args:
            batch_inputs (Tensor): The preprocessed batch, (N, 3, H, W).
            data_samples (list[SegDataSample]): Its samples.

        Returns:
            tuple: The batch the student trains on, its samples, the
            teacher's logits on it by head name, and the kept rows (None
            without picking).
        """
        distiller = self.distiller
        if self.picker is None:
            with distiller.teacher_recorders, distiller.deliveries:
                logits = self.teacher_forward(batch_inputs)
            return batch_inputs, data_samples, logits, None
        picker = self.picker
        images, samples = picker.candidates(batch_inputs, data_samples)
        with distiller.teacher_recorders, distiller.deliveries:
            logits = self.teacher_forward(images)
        spec = self.step.teacher_spec
        student = self.student_main_logits(images) \
            if picker.needs_student else None
        keep = picker.select(logits[spec.main], student, spec.align_corners,
                             batch_inputs.shape[0])
        return (images[keep.to(images.device)],
                [samples[i] for i in keep.tolist()],
                {k: v[keep.to(v.device)]
                 for k, v in logits.items()}, KeptRows(keep, images.shape[0]))

    def student_loss(self, batch_inputs: Tensor,
                     data_samples: List[BaseDataElement],
                     record) -> Dict[str, Tensor]:
        """The student's own loss, with the step's record bound.

        On a batch with two label maps per image (mixup), the task loss is
        ``lam * L(S, y) + (1 - lam) * L(S, y')``
        (:class:`~mmrdd.models.MixedLabelLoss`): the loss on ``y'`` reuses
        the student's logits, and the record keeps the weights of ``y``.

        Args:
            batch_inputs (Tensor): The batch, (N, 3, H, W).
            data_samples (list[SegDataSample]): Its samples.
            record: The step record (None for plain KD).

        Returns:
            dict[str, Tensor]: The student's losses (MMSeg's keys).
        """
        distiller = self.distiller
        mix = self.mixed_label_loss
        mixed = mix is not None and mix.is_mixed(data_samples)
        with ExitStack() as stack:
            stack.enter_context(self.step.bind(record))
            stack.enter_context(distiller.student_recorders)
            stack.enter_context(distiller.deliveries)
            if mixed:
                stack.enter_context(mix.recorders)
            losses = self.student(batch_inputs, data_samples, mode='loss')
        if mixed:
            with self.step.bind(record, collect=False):
                losses = mix(losses, data_samples)
        return losses

    def loss(
        self,
        batch_inputs: Tensor,
        data_samples: Optional[List[BaseDataElement]] = None,
    ) -> Dict[str, Tensor]:
        """One distillation step, top to bottom; data flows one way.

        1. the teacher pass (recorded for the distillation losses; with a
           ``picker`` on all candidates, then the batch becomes the kept
           ones, :meth:`teacher_pass`) and the checks of its logits and of
           the labels (:meth:`check_step`);
        2. the step's teacher views (e.g. TFE's flipped batch) and the step
           record (RDD: the stage, the teacher's logits and the stage's
           teacher-only maps; plain KD: none);
        3. the student's own loss with the record bound (RDD: each head
           weighted by its sampler, :meth:`student_loss`);
        4. the record's statistics and the distillation losses.
        """
        step, distiller = self.step, self.distiller
        distiller.set_deliveries_override(False)
        batch_inputs, data_samples, teacher_logits, rows = self.teacher_pass(
            batch_inputs, data_samples)
        self.check_step(teacher_logits, data_samples)
        views = {
            name: self.teacher_forward(x, heads)
            for name, (x, heads) in step.teacher_views(batch_inputs).items()
        }
        label_size = data_samples[0].gt_sem_seg.data.shape[-2:] \
            if data_samples else None
        record = step.step_record(teacher_logits, views, label_size)
        distiller.set_deliveries_override(True)
        student_losses = self.student_loss(batch_inputs, data_samples, record)
        losses = add_prefix(student_losses, 'student')
        losses.update(step.log_vars(record))
        if not self.distillation_stopped:
            losses.update(
                add_prefix(
                    step.compute_distill_losses(record, rows), 'distill'))
        return losses


#: the name of mmrdd 0.2
MODELS.register_module(
    name='RDDSingleTeacherDistill', module=FrozenTeacherDistill)
