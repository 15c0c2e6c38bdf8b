"""The RDD distiller: difficulty-weighted task loss on top of any KD loss."""
import inspect
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.registry import MODELS, TASK_UTILS
from torch import Tensor, nn

from mmrdd.functional import selection_weight
from ..samplers import RDDPixelSampler

STAGES = ('tfe', 'tse')


def _single_head(model: nn.Module, name: str) -> Optional[nn.Module]:
    """``model.<name>`` or None; a list of heads is not supported."""
    head = getattr(model, name, None)
    if isinstance(head, nn.ModuleList):
        raise NotImplementedError(
            f'RDD supports one {name}; this model has a list of '
            f'{len(head)}.')
    return head


@MODELS.register_module()
class RDDDistiller(ConfigurableDistiller):
    """Relative Difficulty Distillation (RDD) on MMRazor's distiller.

    Liang et al., "Relative Difficulty Distillation for Semantic
    Segmentation", SCIS 2024, arXiv:2407.03719. RDD adds no loss term: it
    re-weights, per pixel, the student's own task loss so that the learning
    focus comes from the teacher. Stage 1 (TFE) weights every pixel by
    ``exp(-KL)`` between the teacher's two heads; stage 2 (TSE) keeps the
    pixels that teacher and student disagree are hard (OHEM rule, XOR). The
    stage is set by :class:`~mmrdd.engine.RDDStageHook` from ``runner.iter``.

    The distiller installs an :class:`~mmrdd.models.RDDPixelSampler` on each
    student head that has a loss, records the teacher's decode and auxiliary
    logits (adding ``ModuleOutputs`` recorders on ``decode_head.conv_seg``
    and ``auxiliary_head.conv_seg`` when the config does not name them; the
    teacher is in eval mode, so its head dropout does not perturb them), and computes the
    usual distillation losses of :class:`ConfigurableDistiller` unchanged.

    Args:
        tfe (dict): Config of the stage-1 difficulty, built in
            ``TASK_UTILS``. Defaults to ``dict(type='RDDTFEDifficulty')``.
        tse (dict): Config of the stage-2 difficulty. Defaults to
            ``dict(type='RDDTSEDifficulty')``.
        teacher_logits_recorder (str): Teacher recorder of the decode-head
            logits. Defaults to ``'logits'``.
        teacher_aux_recorder (str): Teacher recorder of the auxiliary-head
            logits. Defaults to ``'aux_logits'``.
        weighted_losses (Sequence[str]): Names of ``distill_losses`` that
            also receive the current difficulty map as ``weight=`` (an
            extension, off by default): the TFE weight, or in stage 2 the
            share of selected pixels per logit cell normalised to mean 1.
            Defaults to ().
        **kwargs: The arguments of :class:`ConfigurableDistiller`.
    """

    def __init__(self,
                 tfe: Optional[dict] = None,
                 tse: Optional[dict] = None,
                 teacher_logits_recorder: str = 'logits',
                 teacher_aux_recorder: str = 'aux_logits',
                 weighted_losses: Sequence[str] = (),
                 teacher_recorders: Optional[Dict[str, Dict]] = None,
                 **kwargs) -> None:
        teacher_recorders = dict(teacher_recorders or {})
        teacher_recorders.setdefault(
            teacher_logits_recorder,
            dict(type='ModuleOutputs', source='decode_head.conv_seg'))
        teacher_recorders.setdefault(
            teacher_aux_recorder,
            dict(type='ModuleOutputs', source='auxiliary_head.conv_seg'))
        super().__init__(teacher_recorders=teacher_recorders, **kwargs)
        self.tfe = TASK_UTILS.build(tfe or dict(type='RDDTFEDifficulty'))
        self.tse = TASK_UTILS.build(tse or dict(type='RDDTSEDifficulty'))
        self.logits_recorder = teacher_logits_recorder
        self.aux_recorder = teacher_aux_recorder
        for name in weighted_losses:
            if name not in self.distill_losses:
                raise ValueError(
                    f'weighted_losses names "{name}", which is not in '
                    f'distill_losses ({list(self.distill_losses)}).')
            params = inspect.signature(
                self.distill_losses[name].forward).parameters
            if 'weight' not in params:
                raise ValueError(
                    f'distill loss "{name}" '
                    f'({type(self.distill_losses[name]).__name__}) takes no '
                    '`weight`: use RDDWeightedKLDivergence or '
                    'RDDWeightedChannelWiseDivergence.')
        self.weighted_losses = tuple(weighted_losses)
        self.stage: Optional[str] = None
        self.teacher_has_aux = False
        self.teacher_align_corners = False
        self.student_num_classes: Optional[int] = None
        self.stats: Dict[str, Tensor] = {}
        self._tfe_cache: Tuple = (None, None, None)
        self._distill_map: Optional[Tensor] = None

    # ------------------------------------------------------------------ setup
    def prepare_from_student(self, model: nn.Module) -> None:
        """Initialise student recorders and install the RDD samplers."""
        super().prepare_from_student(model)
        for role, name in (('decode', 'decode_head'),
                           ('aux', 'auxiliary_head')):
            head = _single_head(model, name)
            if head is None:
                continue
            if getattr(head, 'sampler', None) is not None:
                raise ValueError(
                    f'the student {name} already has a pixel sampler '
                    f'({type(head.sampler).__name__}); RDD supplies the '
                    'per-pixel weights itself. Remove `sampler=` from the '
                    "student's head config (plain OHEM on the student is "
                    "tse=dict(type='RDDTSEDifficulty', mode='student')).")
            head.sampler = RDDPixelSampler(self, role, head)
            if role == 'decode':
                self.student_num_classes = head.num_classes

    def prepare_from_teacher(self, model: nn.Module) -> None:
        """Initialise teacher recorders; check the teacher fits RDD."""
        decode = _single_head(model, 'decode_head')
        if decode is None:
            raise ValueError('RDD needs a teacher with a decode_head.')
        aux = _single_head(model, 'auxiliary_head')
        self.teacher_has_aux = aux is not None
        if not self.teacher_has_aux:
            # Nothing to record; TFE and the aux-head TSE pairing then say so.
            self.teacher_recorders.recorders.pop(self.aux_recorder, None)
        if (self.student_num_classes is not None
                and decode.num_classes != self.student_num_classes):
            raise ValueError(
                f'teacher predicts {decode.num_classes} classes but the '
                f'student {self.student_num_classes}: RDD compares their '
                'probabilities class by class, so both must be trained on '
                'the same label set (check num_classes in both configs).')
        self.teacher_align_corners = decode.align_corners
        super().prepare_from_teacher(model)

    def set_stage(self, stage: str) -> None:
        """Select ``'tfe'`` (stage 1) or ``'tse'`` (stage 2)."""
        if stage not in STAGES:
            raise ValueError(f'RDD stage must be one of {STAGES}, got '
                             f'{stage!r}.')
        if stage == 'tfe' and not self.teacher_has_aux:
            raise ValueError(
                'TFE-RDD (stage 1) needs the teacher\'s auxiliary head, and '
                'this teacher has none: use a teacher with an '
                'auxiliary_head, or start with TSE (RDDStageHook '
                'switch_iter=0).')
        self.stage = stage

    # ---------------------------------------------------------------- weights
    def teacher_logits(self, role: str) -> Tensor:
        """The teacher logits that pair with a student head's ``role``."""
        if role == 'aux' and not self.teacher_has_aux:
            raise ValueError(
                'TSE-RDD pairs the student auxiliary head with the teacher '
                'auxiliary head, and this teacher has none: use a teacher '
                'with an auxiliary_head or a student without one.')
        name = self.logits_recorder if role == 'decode' else self.aux_recorder
        return self.get_record(name, from_student=False)

    def _tfe_weights(self, size: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
        """TFE weights at label and logit size, computed once per step."""
        logits = self.teacher_logits('decode')
        src, cached_size, weights = self._tfe_cache
        if src is not logits or cached_size != size:
            weights = self.tfe(logits, self.teacher_logits('aux'), size,
                               self.teacher_align_corners)
            self._tfe_cache = (logits, size, weights)
        return weights

    def pixel_weight(self, sampler: RDDPixelSampler, seg_logits: Tensor,
                     label: Tensor) -> Tensor:
        """Per-pixel weight of a student head's task loss for this step.

        Stage 1 returns the TFE weight ``w`` (MMSeg's mean over all pixels
        then gives ``mean(w * CE)``). Stage 2 returns the TSE selection scaled
        so that MMSeg's reduction gives the class-weighted mean of ``CE``
        over the selected pixels (exactly 0 when nothing is selected).

        Args:
            sampler (RDDPixelSampler): The sampler of the calling head.
            seg_logits (Tensor): Student logits at label size, (N, C, H, W).
            label (Tensor): Labels, (N, H, W).

        Returns:
            Tensor: (N, H, W) float32 weights.
        """
        if self.stage is None:
            raise RuntimeError(
                'the RDD stage is not set: add '
                "dict(type='RDDStageHook', switch_iter=...) to custom_hooks.")
        valid = label != sampler.ignore_index
        n_valid = valid.sum().clamp_min(1)
        if self.stage == 'tfe':
            weight, small = self._tfe_weights(tuple(label.shape[-2:]))
            if sampler.role == 'decode':
                self._distill_map = small
                self.stats['tfe_weight'] = (weight * valid).sum() / n_valid
            return weight
        teacher = None if self.tse.mode == 'student' else \
            self.teacher_logits(sampler.role)
        mask, hard_s, hard_t = self.tse(seg_logits, teacher, label,
                                        sampler.ignore_index,
                                        self.teacher_align_corners, valid)
        weight = selection_weight(
            mask, label, sampler.loss_divisor(label, valid),
            self.tse.class_weight_on(label.device, sampler.num_classes),
            sampler.loss_class_weight)
        if sampler.role == 'decode':
            self._distill_map = mask
            self.stats['tse_selected'] = mask.sum() / n_valid
            self.stats['tse_hard_student'] = hard_s.sum() / n_valid
            if hard_t is not None:
                self.stats['tse_hard_teacher'] = hard_t.sum() / n_valid
        return weight

    def distill_weight(self, size: Sequence[int]) -> Tensor:
        """The difficulty map for a weighted distillation loss at ``size``.

        Stage 1: the TFE weight (computed at the teacher's logit size,
        bilinearly resized if ``size`` differs). Stage 2: the share of TSE
        selected pixels in each logit cell, normalised to mean 1 (all 0 if
        nothing is selected), so the loss becomes its mean over the selected
        pixels.
        """
        if self._distill_map is None:
            raise RuntimeError(
                'no RDD difficulty map for this step: the weighted '
                'distillation losses need the student decode head to '
                'compute its task loss first.')
        size = tuple(size)
        if self.stage == 'tfe':
            weight = self._distill_map
            if tuple(weight.shape[-2:]) != size:
                weight = F.interpolate(
                    weight[:, None], size, mode='bilinear',
                    align_corners=self.teacher_align_corners)[:, 0]
            return weight
        share = F.adaptive_avg_pool2d(self._distill_map[:, None].float(),
                                      size)[:, 0]
        return share / share.mean().clamp_min(torch.finfo(share.dtype).tiny)

    def compute_distill_losses(self) -> Dict[str, Tensor]:
        """Compute the distillation losses; weighted ones get the map."""
        losses = dict()
        for loss_name, forward_mappings in self.loss_forward_mappings.items():
            kwargs = {
                key: self.get_record(**record)
                for key, record in forward_mappings.items()
            }
            if loss_name in self.weighted_losses:
                kwargs['weight'] = self.distill_weight(
                    kwargs['preds_S'].shape[-2:])
            losses[loss_name] = self.distill_losses[loss_name](**kwargs)
        # The step is over: drop this step's tensors.
        self._distill_map = None
        self._tfe_cache = (None, None, None)
        return losses
