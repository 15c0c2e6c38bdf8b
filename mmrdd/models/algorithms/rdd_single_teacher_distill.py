# Copyright (c) mmrdd contributors. All rights reserved.
"""Single-teacher distillation with a frozen, loss-free teacher pass."""
import socket
from contextlib import ExitStack, contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Union

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
from ..distillers.rdd_distiller import (RDDDistiller, main_head,
                                        recorded_heads, run_heads,
                                        segmentor_heads)


@contextmanager
def socket_timeout(seconds: Optional[float]) -> Iterator[None]:
    """Set the default timeout of new sockets (urllib's downloads) inside.

    ``torch.hub`` downloads without a timeout, so a server that accepts the
    connection but never answers would block the start of training forever.
    """
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


@MODELS.register_module()
class RDDSingleTeacherDistill(SingleTeacherDistill):
    """MMRazor's ``SingleTeacherDistill`` with the teacher RDD needs.

    Three differences from the parent, each needed by RDD's reference
    behaviour: the teacher is entirely in eval mode (the parent only freezes
    BN, so the heads' dropout would perturb the recorded teacher logits);
    the teacher runs its backbone and both heads' ``forward`` without
    computing its own losses (``mode='loss'`` would waste a full-resolution
    loss pass, ``mode='tensor'`` skips the auxiliary head); and the teacher
    checkpoint must match the teacher exactly (the parent only logs missing
    keys, which trains against a random teacher).

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
            :class:`~mmrdd.models.RDDCandidatePicker`, built in MMRazor's
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
                'RDDSingleTeacherDistill: download_timeout must be a number '
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
            with socket_timeout(download_timeout):
                count = load_checkpoint_strict(self.teacher, teacher_ckpt)
            # keep the loaded weights through runner.model.init_weights()
            self.teacher._is_init = True
            print_log(
                f'teacher: loaded {count} tensors from {teacher_ckpt}',
                logger='current')
        else:
            print_log(
                'RDDSingleTeacherDistill: no teacher_ckpt, the teacher keeps '
                'its initialisation.',
                logger='current',
                level=30)
        self.check_teacher_finite = check_teacher_finite
        self.check_labels = check_labels
        student_head = segmentor_heads(self.student,
                                       'decode_head')[main_head(self.student)]
        self.num_classes = student_head.num_classes
        self.ignore_index = student_head.ignore_index
        self.teacher.eval()
        # KD data augmentation: the candidate picker, mixup's label maps
        self.picker = prepare_kd_augments(self, picker)

    def train(self, mode: bool = True) -> 'RDDSingleTeacherDistill':
        """Set the student's mode; the teacher always stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self

    def teacher_forward(
            self,
            batch_inputs: Tensor,
            heads: Optional[Sequence[str]] = None) -> Dict[str, Tensor]:
        """Run the teacher's backbone and heads, no losses, no gradient.

        See :func:`~mmrdd.models.distillers.rdd_distiller.run_heads`.

        Args:
            batch_inputs (Tensor): Preprocessed images, (N, 3, H, W).
            heads (Sequence[str], optional): The auxiliary heads to run
                besides the decode head(s). Defaults to None (the
                heads RDD or a teacher recorder needs).

        Returns:
            dict[str, Tensor]: Logits by head name (``'decode_head'``,
            ``'decode_head.i'``, ``'auxiliary_head'``, ...), (N, C, h, w).
        """
        if heads is None:
            heads = self.distiller.teacher_heads if isinstance(
                self.distiller, RDDDistiller) else recorded_heads(
                    self.teacher, self.distiller.teacher_recorders)
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

    def tfe_second_view(self, batch_inputs: Tensor,
                        teacher_logits: Dict[str, Tensor]) -> Optional[Tensor]:
        """What plays TFE's ``Ta`` beside the teacher's main head.

        With ``tfe.second_view='flip'`` the teacher's main-head logits on
        the horizontally flipped batch, flipped back (one more teacher
        pass, without gradient); with ``'aux'`` (the paper) the teacher's
        auxiliary-head logits from ``teacher_logits``.

        Args:
            batch_inputs (Tensor): The batch the teacher saw, (N, 3, H, W).
            teacher_logits (dict[str, Tensor]): The teacher's logits by head
                name (:meth:`teacher_forward`).

        Returns:
            Tensor, optional: (N, C, h, w) logits; None when the teacher has
            no auxiliary head for ``'aux'``.
        """
        distiller = self.distiller
        if distiller.tfe.second_view == 'flip':
            main = distiller.teacher_main
            return self.teacher_forward(
                batch_inputs.flip(-1), heads=(main, ))[main].flip(-1)
        return teacher_logits.get(distiller.teacher_aux)

    def loss(
        self,
        batch_inputs: Tensor,
        data_samples: Optional[List[BaseDataElement]] = None,
    ) -> Dict[str, Tensor]:
        """One distillation step, top to bottom.

        1. the teacher pass (recorded for the distillation losses) and the
           checks of its logits and of the labels (:meth:`check_step`);
           with a ``picker``, the pass runs on all candidates and the batch
           becomes the kept candidates;
        2. with an :class:`~mmrdd.models.RDDDistiller`, the step record: the
           stage, the teacher's logits and the teacher-only maps of the
           stage (with the flipped-batch teacher pass when TFE's second view
           is ``'flip'``);
        3. the student's own loss, each head weighted by its sampler from
           the record;
        4. the distillation losses and the record's statistics.

        A plain ``ConfigurableDistiller`` (distillation without RDD) skips
        the record.
        """
        distiller = self.distiller
        distiller.set_deliveries_override(False)
        if self.picker is None:
            with distiller.teacher_recorders, distiller.deliveries:
                teacher_logits = self.teacher_forward(batch_inputs)
        else:  # the teacher pass on all candidates, recorded for the kept
            # ones (RDDCandidatePicker)
            batch_inputs, data_samples, teacher_logits = self.picker(
                self, batch_inputs, data_samples)
        self.check_step(teacher_logits, data_samples)
        record = None
        if isinstance(distiller, RDDDistiller):
            second = self.tfe_second_view(batch_inputs, teacher_logits) \
                if distiller.stage == 'tfe' else None
            label_size = data_samples[0].gt_sem_seg.data.shape[-2:]
            record = distiller.step_record(teacher_logits, label_size, second)
        distiller.set_deliveries_override(True)
        with ExitStack() as stack:
            if record is not None:
                stack.enter_context(distiller.bind(record))
            stack.enter_context(distiller.student_recorders)
            stack.enter_context(distiller.deliveries)
            student_losses = self.student(
                batch_inputs, data_samples, mode='loss')
        losses = add_prefix(student_losses, 'student')
        if record is not None:
            losses.update(distiller.log_vars(record))
        if not self.distillation_stopped:
            distill = distiller.compute_distill_losses(record) \
                if record is not None else distiller.compute_distill_losses()
            losses.update(add_prefix(distill, 'distill'))
        return losses
