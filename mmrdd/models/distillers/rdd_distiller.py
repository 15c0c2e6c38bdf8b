# Copyright (c) mmrdd contributors. All rights reserved.
"""The RDD distiller: difficulty-weighted task loss on top of any KD loss."""
import inspect
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from mmengine.logging import print_log
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.registry import MODELS, TASK_UTILS
from torch import Tensor, nn

from mmrdd.arg_checks import is_int
from mmrdd.structures import RDDStepRecord
from ..samplers import RDDPixelSampler

STAGES = ('tfe', 'tse')


def segmentor_heads(model: nn.Module, prefix: str) -> Dict[str, nn.Module]:
    """``model.<prefix>`` by name: one head, or each head of a list.

    Args:
        model (nn.Module): An MMSeg segmentor.
        prefix (str): ``'decode_head'`` or ``'auxiliary_head'``.

    Returns:
        dict[str, nn.Module]: ``{prefix: head}``, ``{f'{prefix}.{i}': head}``
        for a list (a cascade's stages in order), or {} without the head.
    """
    heads = getattr(model, prefix, None)
    if heads is None:
        return {}
    if isinstance(heads, nn.ModuleList):
        return {f'{prefix}.{i}': head for i, head in enumerate(heads)}
    return {prefix: heads}


def all_heads(model: nn.Module) -> Dict[str, nn.Module]:
    """Every decode and auxiliary head of a segmentor, by name."""
    return {
        **segmentor_heads(model, 'decode_head'),
        **segmentor_heads(model, 'auxiliary_head')
    }


def check_heads(heads: Dict[str, nn.Module], who: str) -> None:
    """Refuse heads RDD cannot weight or read: RDD needs MMSeg decode heads
    whose ``forward`` gives dense logits through a ``conv_seg`` classifier
    (PointRend's ``PointHead`` predicts at sampled points and has none)."""
    for name, head in heads.items():
        if not isinstance(getattr(head, 'conv_seg', None), nn.Module):
            raise ValueError(
                f'the {who} {name} ({type(head).__name__}) has no conv_seg '
                'classifier: RDD needs heads that predict dense logits '
                '(PointRend-style point heads are not supported).')


def main_head(model: nn.Module) -> str:
    """Name of the head that makes a segmentor's prediction."""
    return list(segmentor_heads(model, 'decode_head'))[-1]


def run_heads(model: nn.Module, feats,
              aux_heads: Sequence[str] = ()) -> Dict[str, Tensor]:
    """The logits of a segmentor's heads on its features, no losses.

    A cascade's decode stages run in order, each on the previous one's
    output, as in MMSeg's ``CascadeEncoderDecoder``.

    Args:
        model (nn.Module): An MMSeg segmentor.
        feats: ``model.extract_feat(inputs)``.
        aux_heads (Sequence[str]): The auxiliary heads to run as well, by
            name (see :func:`segmentor_heads`). Defaults to ().

    Returns:
        dict[str, Tensor]: Logits by head name, (N, C, h, w).
    """
    outputs, prev = {}, None
    for name, head in segmentor_heads(model, 'decode_head').items():
        prev = head(feats) if prev is None else head(feats, prev)
        outputs[name] = prev
    for name, head in segmentor_heads(model, 'auxiliary_head').items():
        if name in aux_heads:
            outputs[name] = head(feats)
    return outputs


def recorded_heads(model: nn.Module, recorders) -> List[str]:
    """The heads of ``model`` that a recorder manager's sources lie in.

    Args:
        model (nn.Module): An MMSeg segmentor.
        recorders (RecorderManager): E.g. a distiller's
            ``teacher_recorders``.

    Returns:
        list[str]: Head names (see :func:`segmentor_heads`).
    """
    sources = [r.source for r in recorders.recorders.values()]
    heads = all_heads(model)
    return [
        name for name in heads
        if any(s == name or s.startswith(name + '.') for s in sources)
    ]


@MODELS.register_module()
class RDDDistiller(ConfigurableDistiller):
    """Relative Difficulty Distillation (RDD) on MMRazor's distiller.

    Liang et al., "Relative Difficulty Distillation for Semantic
    Segmentation", SCIS 2024, arXiv:2407.03719. RDD adds no loss term: it
    re-weights, per pixel, the student's own task loss so that the learning
    focus comes from the teacher. Stage 1 (TFE, iterations
    ``[0, switch_iter)``) weights every pixel by ``exp(-KL)`` between two
    teacher views (the teacher's two heads); stage 2 (TSE) keeps the pixels
    that teacher and student disagree are hard (OHEM rule, XOR).
    :class:`~mmrdd.engine.RDDStageHook` sets the stage from ``runner.iter``.

    One step flows one way (see :meth:`step_record`): the teacher's logits
    and the teacher-only maps of the stage go into a
    :class:`~mmrdd.structures.RDDStepRecord`; the
    :class:`~mmrdd.models.RDDPixelSampler` installed on each student head
    with a loss adds its head's weights to it; the distillation losses of
    :class:`ConfigurableDistiller` are computed unchanged (those named in
    ``weighted_losses`` also get the main head's difficulty map) and the
    record's statistics are logged through the loss dict.

    Heads are named ``decode_head`` / ``auxiliary_head``, or
    ``decode_head.i`` / ``auxiliary_head.i`` for lists (MMSeg's
    ``CascadeEncoderDecoder``: ``decode_head.{n-1}`` is the prediction).
    By default the teacher's main head is its prediction head, its
    auxiliary view is its (first) ``auxiliary_head``, or in a cascade
    without one the first cascade stage; the student's main head pairs with
    the teacher's main head in TSE and every other student head with the
    teacher's auxiliary view, or its main head when it has none.

    Args:
        switch_iter (int): First iteration of TSE; 0 runs TSE only and
            ``max_iters`` TFE only. Defaults to 4000 (the reference's 40k
            Cityscapes schedule).
        tfe (dict): Config of the stage-1 difficulty, built in
            ``TASK_UTILS``. Defaults to ``dict(type='RDDTFEDifficulty')``.
        tse (dict): Config of the stage-2 difficulty. Defaults to
            ``dict(type='RDDTSEDifficulty')``.
        teacher_main (str, optional): The teacher head whose logits are the
            teacher's prediction in TFE and TSE. Defaults to None (its
            prediction head).
        teacher_aux (str, optional): The teacher head of TFE's second view
            (``second_view='aux'``). Defaults to None (see above).
        head_pairs (dict[str, str], optional): Student head -> teacher head
            whose difficulty it is compared with in TSE. Defaults to None
            (see above); given pairs override the default ones.
        weighted_losses (Sequence[str]): Names of ``distill_losses`` that
            also receive the current difficulty map as ``weight=`` (an
            extension, off by default): the TFE weight, or in stage 2 the
            share of selected pixels per logit cell normalised to mean 1.
            Defaults to ().
        **kwargs: The arguments of :class:`ConfigurableDistiller`.
    """

    def __init__(self,
                 switch_iter: int = 4000,
                 tfe: Optional[dict] = None,
                 tse: Optional[dict] = None,
                 teacher_main: Optional[str] = None,
                 teacher_aux: Optional[str] = None,
                 head_pairs: Optional[Dict[str, str]] = None,
                 weighted_losses: Sequence[str] = (),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if not is_int(switch_iter) or switch_iter < 0:
            raise ValueError('RDDDistiller: switch_iter must be an int >= 0 '
                             f'(the first TSE iteration), got '
                             f'{switch_iter!r}.')
        self.switch_iter = switch_iter
        self.tfe = TASK_UTILS.build(tfe or dict(type='RDDTFEDifficulty'))
        self.tse = TASK_UTILS.build(tse or dict(type='RDDTSEDifficulty'))
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
        self.teacher_main = teacher_main
        self.teacher_aux = teacher_aux
        self.head_pairs = dict(head_pairs or {})
        self.stage: Optional[str] = None
        # set once when the models are prepared
        self.student_main = ''
        self.teacher_align_corners = False
        self.teacher_heads: Tuple[str, ...] = ()
        self._student_heads: Dict[str, nn.Module] = {}
        self.samplers: Dict[str, RDDPixelSampler] = {}

    # ------------------------------------------------------------------ setup
    def prepare_from_student(self, model: nn.Module) -> None:
        """Initialise student recorders; find the heads RDD weights."""
        super().prepare_from_student(model)
        heads = all_heads(model)
        for name, head in heads.items():
            if getattr(head, 'sampler', None) is not None:
                raise ValueError(
                    f'the student {name} already has a pixel sampler '
                    f'({type(head.sampler).__name__}); RDD supplies the '
                    'per-pixel weights itself. Remove `sampler=` from the '
                    "student's head config (plain OHEM on the student is "
                    "tse=dict(type='RDDTSEDifficulty', mode='student')).")
        if not heads:
            raise ValueError('RDD needs a student with a decode_head.')
        check_heads(heads, 'student')
        self._student_heads = heads
        self.student_main = main_head(model)

    def prepare_from_teacher(self, model: nn.Module) -> None:
        """Check the teacher against RDD's config; install the samplers."""
        teacher = all_heads(model)
        if not teacher:
            raise ValueError('RDD needs a teacher with a decode_head.')
        check_heads(teacher, 'teacher')
        main = self.teacher_main or main_head(model)
        aux = self.teacher_aux or self._default_teacher_aux(model)
        for what, name in (('teacher_main', main), ('teacher_aux', aux)):
            if name is not None and name not in teacher:
                raise ValueError(f'RDDDistiller: {what}={name!r} is not a '
                                 f'teacher head; the teacher has '
                                 f'{list(teacher)}.')
        if self.switch_iter > 0 and self.tfe.second_view == 'aux' \
                and aux is None:
            raise ValueError(
                'TFE-RDD (the first switch_iter iterations) compares the '
                "teacher's main and auxiliary heads, and this teacher has no "
                'auxiliary head: set model.distiller.switch_iter=0 (TSE '
                "only), or use the teacher's flipped view, "
                "model.distiller.tfe.second_view='flip'.")
        if self.switch_iter > 0 and self.tfe.second_view == 'aux' \
                and aux == main:
            raise ValueError(
                f'TFE-RDD compares two teacher views, but teacher_main and '
                f'teacher_aux are both {main!r}: the weight would be 1 '
                'everywhere. Name another teacher_aux, or use '
                "tfe.second_view='flip'.")
        pairs = {
            name: (main if name == self.student_main else aux or main)
            for name in self._student_heads
        }
        for name, partner in self.head_pairs.items():
            if name not in self._student_heads or partner not in teacher:
                raise ValueError(
                    f'RDDDistiller: head_pairs {name!r}: {partner!r} must '
                    f'map a student head ({list(self._student_heads)}) to '
                    f'a teacher head ({list(teacher)}).')
        pairs.update(self.head_pairs)
        for name, partner in pairs.items():
            classes = (self._student_heads[name].num_classes,
                       teacher[partner].num_classes)
            if classes[0] != classes[1]:
                raise ValueError(
                    f'the teacher predicts {classes[1]} classes but the '
                    f'student {classes[0]} (teacher {partner}, student '
                    f'{name}): RDD compares '
                    'their probabilities class by class, so both must be '
                    'trained on the same label set (check num_classes in '
                    'both configs).')
            self.tse.check_num_classes(classes[0])
        super().prepare_from_teacher(model)
        self.teacher_main, self.teacher_aux = main, aux
        self.teacher_align_corners = teacher[main].align_corners
        needed = {main, *pairs.values()}
        if self.switch_iter > 0 and self.tfe.second_view == 'aux':
            needed.add(aux)
        needed.update(recorded_heads(model, self.teacher_recorders))
        self.teacher_heads = tuple(name for name in teacher if name in needed)
        self.samplers = {}
        for name, head in self._student_heads.items():
            sampler = RDDPixelSampler(name, head, pairs[name],
                                      name == self.student_main)
            head.sampler = sampler
            self.samplers[name] = sampler
        print_log(
            'RDD: teacher main head ' + main +
            (f', auxiliary view {aux}' if aux else ', no auxiliary view') +
            '; TSE pairs (student: teacher) ' +
            ', '.join(f'{s}: {t}' for s, t in pairs.items()),
            logger='current')

    @staticmethod
    def _default_teacher_aux(model: nn.Module) -> Optional[str]:
        """The first auxiliary head, else a cascade's first stage."""
        aux = list(segmentor_heads(model, 'auxiliary_head'))
        decode = list(segmentor_heads(model, 'decode_head'))
        if aux:
            return aux[0]
        return decode[0] if len(decode) > 1 else None

    # ------------------------------------------------------------ the stages
    def stage_at(self, iteration: int) -> str:
        """The stage of a 0-based training iteration."""
        return 'tfe' if iteration < self.switch_iter else 'tse'

    def set_stage(self, stage: str) -> None:
        """Select ``'tfe'`` (stage 1) or ``'tse'`` (stage 2)."""
        if stage not in STAGES:
            raise ValueError(f'RDD stage must be one of {STAGES}, got '
                             f'{stage!r}.')
        self.stage = stage

    # ------------------------------------------------------------- one step
    def step_record(self,
                    teacher_logits: Dict[str, Tensor],
                    label_size: Sequence[int],
                    tfe_second: Optional[Tensor] = None) -> RDDStepRecord:
        """The record of one step, right after the teacher pass.

        Args:
            teacher_logits (dict[str, Tensor]): Logits of the teacher heads
                in :attr:`teacher_heads`, (N, C, h, w).
            label_size (Sequence[int]): ``(H, W)`` of the label map.
            tfe_second (Tensor, optional): What plays TFE's ``Ta``, from
                :meth:`RDDSingleTeacherDistill.tfe_second_view`; needed in
                stage ``'tfe'``. Defaults to None.

        Returns:
            RDDStepRecord: The stage, the teacher logits and, in stage 1,
            the TFE maps.
        """
        if self.stage is None:
            raise RuntimeError('the RDD stage is not set: add '
                               "dict(type='RDDStageHook') to custom_hooks.")
        estimator = self.tfe if self.stage == 'tfe' else self.tse
        record = RDDStepRecord(self.stage, estimator, teacher_logits,
                               self.teacher_align_corners)
        if self.stage == 'tfe':
            if tfe_second is None:
                raise ValueError('step_record: stage tfe needs tfe_second, '
                                 "the teacher's second view.")
            record.teacher_maps = self.tfe.prepare(
                teacher_logits[self.teacher_main], tfe_second, label_size,
                self.teacher_align_corners)
        return record

    @contextmanager
    def bind(self, record: RDDStepRecord) -> Iterator[None]:
        """Let the student heads' samplers read and fill ``record``."""
        for sampler in self.samplers.values():
            sampler.bind(record)
        try:
            yield
        finally:
            for sampler in self.samplers.values():
                sampler.bind(None)

    def log_vars(self, record: RDDStepRecord) -> Dict[str, Tensor]:
        """The statistics of ``record`` to log through the loss dict."""
        return record.log_vars(self.student_main)

    def compute_distill_losses(self,
                               record: Optional[RDDStepRecord] = None
                               ) -> Dict[str, Tensor]:
        """Compute the distillation losses; weighted ones get the map.

        Args:
            record (RDDStepRecord, optional): This step's record, after the
                student pass; needed when ``weighted_losses`` is set.
                Defaults to None.

        Returns:
            dict[str, Tensor]: The losses by name.
        """
        losses = dict()
        for loss_name, forward_mappings in self.loss_forward_mappings.items():
            kwargs = {
                key: self.get_record(**rec)
                for key, rec in forward_mappings.items()
            }
            if loss_name in self.weighted_losses:
                kwargs['weight'] = self._distill_weight(
                    record, kwargs['preds_S'].shape[-2:])
            losses[loss_name] = self.distill_losses[loss_name](**kwargs)
        return losses

    def _distill_weight(self, record: Optional[RDDStepRecord],
                        size: Sequence[int]) -> Tensor:
        """The main head's difficulty map at ``size``."""
        if record is None or self.student_main not in record.heads:
            raise RuntimeError(
                'no RDD difficulty map for this step: the weighted '
                'distillation losses need the record of a step in which the '
                'student main head computed its task loss.')
        return record.estimator.distill_weight(record.heads[self.student_main],
                                               size,
                                               self.teacher_align_corners)
