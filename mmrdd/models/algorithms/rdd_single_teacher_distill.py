"""Single-teacher distillation with a frozen, loss-free teacher pass."""
import socket
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS
from torch import Tensor

from mmrdd.utils import load_checkpoint_strict
from ..distillers.rdd_distiller import run_heads


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

    Args:
        distiller (dict): Config of the distiller, usually ``RDDDistiller``.
        teacher (dict | BaseModel): The teacher segmentor or its config.
        teacher_ckpt (str, optional): Teacher checkpoint, a local path or an
            ``https://`` URL. Defaults to None (keeps the initialisation;
            only sensible in tests).
        check_teacher_finite (bool): Stop with an error when the teacher's
            logits contain NaN or Inf, rather than training on them. Costs one
            host-device synchronisation per step. Defaults to True.
        download_timeout (float): Seconds that the download of an
            ``https://`` ``teacher_ckpt`` may wait for the server (to
            connect, or for each read) before it fails. Defaults to 60.
        **kwargs: Other arguments of ``SingleTeacherDistill``
            (``architecture``, ``data_preprocessor``, ...).
    """

    def __init__(self,
                 distiller: dict,
                 teacher: Union[BaseModel, Dict],
                 teacher_ckpt: Optional[str] = None,
                 check_teacher_finite: bool = True,
                 download_timeout: float = 60.0,
                 **kwargs) -> None:
        if (kwargs.get('teacher_trainable', False)
                or not kwargs.get('student_trainable', True)
                or not kwargs.get('calculate_student_loss', True)):
            raise ValueError(
                'RDD distils a frozen teacher into a trained student whose '
                'task loss it re-weights: keep teacher_trainable=False, '
                'student_trainable=True and calculate_student_loss=True.')
        super().__init__(distiller, teacher, teacher_ckpt=None, **kwargs)
        if teacher_ckpt:
            with socket_timeout(download_timeout):
                load_checkpoint_strict(self.teacher, teacher_ckpt)
            # keep the loaded weights through runner.model.init_weights()
            self.teacher._is_init = True
        else:
            print_log(
                'RDDSingleTeacherDistill: no teacher_ckpt, the teacher keeps '
                'its initialisation.',
                logger='current',
                level=30)
        self.check_teacher_finite = check_teacher_finite
        self.teacher.eval()

    def train(self, mode: bool = True) -> 'RDDSingleTeacherDistill':
        """Set the student's mode; the teacher always stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self

    def teacher_forward(self,
                        batch_inputs: Tensor,
                        heads: Optional[Sequence[str]] = None
                        ) -> Dict[str, Tensor]:
        """Run the teacher's backbone and heads, no losses, no gradient.

        See :func:`~mmrdd.models.distillers.rdd_distiller.run_heads`.

        Args:
            batch_inputs (Tensor): Preprocessed images, (N, 3, H, W).
            heads (Sequence[str], optional): The auxiliary heads to run
                besides the decode head(s). Defaults to None (the
                distiller's ``teacher_heads``: those RDD or a teacher
                recorder needs).

        Returns:
            dict[str, Tensor]: Logits by head name (``'decode_head'``,
            ``'decode_head.i'``, ``'auxiliary_head'``, ...), (N, C, h, w).
        """
        heads = self.distiller.teacher_heads if heads is None else heads
        with torch.no_grad():
            outputs = run_heads(self.teacher,
                                self.teacher.extract_feat(batch_inputs),
                                heads)
        # One host-device synchronisation for all heads.
        if self.check_teacher_finite and not bool(
                torch.stack([torch.isfinite(out).all()
                             for out in outputs.values()]).all()):
            raise FloatingPointError(
                'the teacher produced NaN/Inf logits: check teacher_ckpt '
                '(a diverged or wrong checkpoint) and the input '
                'normalisation (data_preprocessor).')
        return outputs

    def loss(
        self,
        batch_inputs: Tensor,
        data_samples: Optional[List[BaseDataElement]] = None,
    ) -> Dict[str, Tensor]:
        """One RDD step, top to bottom.

        1. the teacher pass (recorded for the distillation losses);
        2. the step record: the stage, the teacher's logits and the
           teacher-only maps of the stage (with the flipped-batch teacher
           pass when TFE's second view is ``'flip'``);
        3. the student's own loss, each head weighted by its sampler from
           the record;
        4. the distillation losses and the record's statistics.
        """
        distiller = self.distiller
        distiller.set_deliveries_override(False)
        with distiller.teacher_recorders, distiller.deliveries:
            teacher_logits = self.teacher_forward(batch_inputs)
        flipped = None
        if distiller.needs_flipped_teacher:
            main = distiller.teacher_main
            flipped = self.teacher_forward(batch_inputs.flip(-1),
                                           heads=())[main].flip(-1)
        label_size = data_samples[0].gt_sem_seg.data.shape[-2:]
        record = distiller.step_record(teacher_logits, label_size, flipped)
        distiller.set_deliveries_override(True)
        with distiller.bind(record), distiller.student_recorders, \
                distiller.deliveries:
            student_losses = self.student(
                batch_inputs, data_samples, mode='loss')
        losses = add_prefix(student_losses, 'student')
        losses.update(distiller.log_vars(record))
        if not self.distillation_stopped:
            losses.update(
                add_prefix(distiller.compute_distill_losses(record),
                           'distill'))
        return losses
