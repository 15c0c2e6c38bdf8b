# Copyright (c) mmrdd contributors. All rights reserved.
"""The RDD distiller: difficulty-weighted task loss on top of any KD loss."""
import inspect
from contextlib import ExitStack, contextmanager
from typing import Dict, Iterator, Optional, Sequence, Tuple

from mmengine.logging import print_log
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.registry import MODELS, TASK_UTILS
from torch import Tensor, nn

from mmrdd.arg_checks import is_int
from mmrdd.structures import RDDHeadSpec, RDDStepRecord, TeacherSpec
from ..difficulty import DifficultyEstimator
from ..difficulty.difficulty_estimator import TeacherView
from ..samplers import RDDPixelSampler, head_spec
from ..utils import (KeptRows, all_heads, check_heads, compute_distill_losses,
                     main_head, recorded_heads, segmentor_heads)

STAGES = ('tfe', 'tse')


def reference_switch_iter(max_iters: int) -> int:
    """The first TSE iteration by the reference's rule for a schedule.

    TFE covers the first tenth of training: 4000 of the reference's 40000
    Cityscapes iterations. Every config of ours follows it
    (``tests/test_dataset_configs.py``), as do the lab's shortened runs.

    Args:
        max_iters (int): Training iterations.

    Returns:
        int: ``switch_iter``, ``max_iters // 10``.
    """
    return max_iters // 10


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

    It plugs into :class:`~mmrdd.models.FrozenTeacherDistill` through the
    step interface of :class:`~mmrdd.models.DistillStep` (the same methods,
    RDD's versions), and one step flows one way: after the teacher pass the
    stage's estimator does the stage's teacher-side work (extra teacher
    views, :meth:`teacher_views`; teacher-only maps) and
    :meth:`step_record` puts it with the teacher's logits into a
    :class:`~mmrdd.structures.RDDStepRecord`; inside :meth:`bind` the
    :class:`~mmrdd.models.RDDPixelSampler` of each student head hands the
    head's logits, labels and frozen
    :class:`~mmrdd.structures.RDDHeadSpec` to the estimator and adds the
    weights it returns to the record; the distillation losses of
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
            Cityscapes schedule; :func:`reference_switch_iter`).
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
                    '`weight`: use WeightedKLDivergence or '
                    'WeightedChannelWiseDivergence.')
        self.weighted_losses = tuple(weighted_losses)
        self.teacher_main = teacher_main
        self.teacher_aux = teacher_aux
        self.head_pairs = dict(head_pairs or {})
        self.stage: Optional[str] = None
        # set once when the models are prepared
        self.student_main = ''
        self.teacher_spec: Optional[TeacherSpec] = None
        self._student_heads: Dict[str, nn.Module] = {}
        self.samplers: Dict[str, RDDPixelSampler] = {}
        # per-class counts summed over the steps since the last read
        self._class_counts: Optional[Tensor] = None
        self._class_count_steps = 0

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
        """Check the teacher against RDD's config; install the samplers.

        Fixes the teacher's :class:`~mmrdd.structures.TeacherSpec` and each
        student head's :class:`~mmrdd.structures.RDDHeadSpec`, the only
        things the estimators learn of the models.
        """
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
        spec = TeacherSpec(main, aux, teacher[main].align_corners, ())
        if self.switch_iter > 0:
            self.tfe.check_teacher(spec)
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
        needed = {*self.tse.teacher_heads(spec), *pairs.values()}
        if self.switch_iter > 0:
            needed.update(self.tfe.teacher_heads(spec))
        needed.update(recorded_heads(model, self.teacher_recorders))
        self.teacher_spec = TeacherSpec(
            main, aux, spec.align_corners,
            tuple(name for name in teacher if name in needed))
        self.samplers = {}
        for name, head in self._student_heads.items():
            sampler = RDDPixelSampler(
                head_spec(name, head, pairs[name], name == self.student_main))
            # MMSeg's extension point for per-pixel loss weights
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

    @property
    def teacher_heads(self) -> Sequence[str]:
        """The teacher heads the teacher pass runs."""
        return self.teacher_spec.heads if self.teacher_spec else ()

    @property
    def head_specs(self) -> Dict[str, RDDHeadSpec]:
        """The student heads RDD weights, as their samplers describe them."""
        return {name: s.spec for name, s in self.samplers.items()}

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

    def estimator(self, stage: Optional[str] = None) -> DifficultyEstimator:
        """The difficulty estimator of ``stage`` (default: the current one).
        """
        stage = stage or self.stage
        if stage is None:
            raise RuntimeError('the RDD stage is not set: add '
                               "dict(type='RDDStageHook') to custom_hooks.")
        return self.tfe if stage == 'tfe' else self.tse

    # ------------------------------------------------------------- one step
    def teacher_views(self, inputs: Tensor) -> Dict[str, TeacherView]:
        """The extra teacher passes of the current stage (see
        :meth:`~mmrdd.models.DifficultyEstimator.teacher_views`)."""
        return self.estimator().teacher_views(inputs, self.teacher_spec)

    def step_record(self, teacher_logits: Dict[str, Tensor],
                    views: Dict[str, Dict[str, Tensor]],
                    label_size: Sequence[int]) -> RDDStepRecord:
        """The record of one step, right after the teacher pass.

        Args:
            teacher_logits (dict[str, Tensor]): Logits of the teacher heads
                in :attr:`teacher_heads`, (N, C, h, w).
            views (dict[str, dict[str, Tensor]]): The logits of the passes
                of :meth:`teacher_views`, by view and head name.
            label_size (Sequence[int]): ``(H, W)`` of the label map.

        Returns:
            RDDStepRecord: The stage, the teacher logits and the stage's
            teacher-only maps (the TFE maps in stage 1).
        """
        estimator = self.estimator()
        return RDDStepRecord(
            self.stage, self.teacher_spec, teacher_logits,
            estimator.prepare(teacher_logits, views, self.teacher_spec,
                              label_size))

    @contextmanager
    def bind(self,
             record: RDDStepRecord,
             collect: bool = True) -> Iterator[None]:
        """Let the student heads' samplers weight their losses inside, with
        the estimator of ``record``'s stage.

        Args:
            record (RDDStepRecord): The step's record.
            collect (bool): Whether the samplers add their weights to
                ``record.heads`` (see :meth:`RDDPixelSampler.bind`).
                Defaults to True.
        """
        estimator = self.estimator(record.stage)
        with ExitStack() as stack:
            for sampler in self.samplers.values():
                stack.enter_context(sampler.bind(estimator, record, collect))
            yield

    def log_vars(self, record: RDDStepRecord) -> Dict[str, Tensor]:
        """The statistics of ``record`` to log through the loss dict.

        Also adds the main head's per-class counts of the step (TSE), on
        the device and without a host synchronisation, to the sums that
        :meth:`pop_class_counts` returns.
        """
        counts = record.heads[self.student_main].class_counts
        if counts is not None:
            self._class_counts = counts if self._class_counts is None \
                else self._class_counts + counts
            self._class_count_steps += 1
        return record.log_vars(self.student_main)

    def pop_class_counts(self) -> Tuple[int, Dict[str, Tensor]]:
        """The per-class counts summed since the last call, then reset.

        Read by :class:`~mmrdd.engine.RDDSelectionWatchHook` at its
        interval (one host synchronisation per interval). The counts are
        this process's; they are a plain attribute, not a buffer, so that
        DDP does not broadcast them.

        Returns:
            tuple[int, dict[str, Tensor]]: The number of steps summed and
            row name (the TSE estimator's ``count_rows``: ``'valid'``,
            ``'kept'``, ``'hard_student'``, ``'hard_both'``) -> (C, )
            int64 counts on the device; ``(0, {})`` when no step counted
            (TFE).
        """
        counts, steps = self._class_counts, self._class_count_steps
        self._class_counts, self._class_count_steps = None, 0
        if counts is None:
            return 0, {}
        return steps, dict(zip(self.tse.count_rows, counts))

    def compute_distill_losses(
            self,
            record: Optional[RDDStepRecord] = None,
            rows: Optional[KeptRows] = None) -> Dict[str, Tensor]:
        """Compute the distillation losses; weighted ones get the map.

        Args:
            record (RDDStepRecord, optional): This step's record, after the
                student pass; needed when ``weighted_losses`` is set.
                Defaults to None.
            rows (KeptRows, optional): The candidates the step kept after
                the teacher pass (picking). Defaults to None.

        Returns:
            dict[str, Tensor]: The losses by name.
        """

        def weight(name: str, kwargs: dict) -> Optional[Tensor]:
            if name not in self.weighted_losses:
                return None
            return self._distill_weight(record, kwargs['preds_S'].shape[-2:])

        return compute_distill_losses(self, rows, weight)

    def _distill_weight(self, record: Optional[RDDStepRecord],
                        size: Sequence[int]) -> Tensor:
        """The main head's difficulty map at ``size``."""
        if record is None or self.student_main not in record.heads:
            raise RuntimeError(
                'no RDD difficulty map for this step: the weighted '
                'distillation losses need the record of a step in which the '
                'student main head computed its task loss.')
        return self.estimator(record.stage).distill_weight(
            record.heads[self.student_main], size,
            record.teacher.align_corners)
