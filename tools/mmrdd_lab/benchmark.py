# Copyright (c) mmrdd contributors. All rights reserved.
"""Time an RDD training step against plain KD, side by side, in one process.

The command line is ``tools/analysis_tools/benchmark.py``; this module is its
importable harness. Every variant is built in this process from the same
configs, gets the same student and teacher weights (copied from one
reference build) and trains on the same batch:

==================  ==========================================================
``student``         the student alone (plain MMSeg ``EncoderDecoder``)
``mmrazor-kd``      MMRazor's stock ``SingleTeacherDistill`` +
                    ``ConfigurableDistiller`` + ``KLDivergence`` (batchmean:
                    ``H*W`` times our pixel KD; for timing only)
``pixel-kd``        ``FrozenTeacherDistill`` + plain
                    ``ConfigurableDistiller`` + ``WeightedKLDivergence``
                    (our pixel KD, the baseline of the ratios)
``rdd-tfe``         RDD, ``RDDDistiller`` in stage 1 (``set_stage('tfe')``)
``rdd-tse``         RDD, ``RDDDistiller`` in stage 2 (``set_stage('tse')``)
``*-nocheck``       ``pixel-kd`` / ``rdd-tfe`` / ``rdd-tse`` with every
                    per-step check of the algorithm off (its ``check_*``
                    arguments, e.g. ``check_teacher_finite=False``): the
                    cost of their host-device synchronisation
``NAME=CONFIG``     an extra variant: the ``model`` of another distillation
                    config (e.g. RDD + CIRKD, RDD + DSD, RDD with picking),
                    built as the RDD variants are: the reference weights,
                    no teacher checkpoint, ``set_stage`` from a ``-tfe`` /
                    ``-tse`` suffix of NAME (default ``tse``)
``M``, ``rdd+M``    ``--kd-methods M ...`` (names of :data:`KD_METHODS`):
                    the KD method alone (its losses in a plain
                    ``ConfigurableDistiller``, as its one-stage config) and
                    RDD + the method (TSE), both from
                    ``configs/rdd/rdd+<stem>_<pair>``, the pair of the first
                    config (e.g. the toy pair or the Cityscapes one)
==================  ==========================================================

Every variant also reports its checkpoint size: the serialised
``state_dict`` of the model (what a checkpoint's ``state_dict`` holds, the
frozen teacher included), without the teacher, its ``distiller.`` part
(connectors, memories, tokens), and the student after
``tools/model_converters/convert_kd_ckpt_to_student.py``. ``sizes_only``
builds one variant at a time and measures nothing else (no weights, no
data: full-size configs on any machine).

A step is ``model.train_step(data, optim_wrapper)``: data preprocessing,
forward, backward and the SGD update, exactly what MMEngine's training loop
runs (hooks aside). ``--amp`` uses MMEngine's ``AmpOptimWrapper`` on CUDA and
:class:`~mmrdd.engine.CPUAmpOptimWrapper` on CPU, as ``tools/train.py
--amp`` does. After ``warmup`` steps per variant, ``iters`` steps per variant
are timed, the variants alternating in rounds (the order rotating every
round) so that drift hits all of them alike. Reported: median ms/step and
its IQR, the ratio of medians to ``pixel-kd`` and the median of per-round
paired ratios.

Peak memory: each variant is built alone in a fresh process that runs a few
steps and reports ``torch.cuda.max_memory_allocated()`` on CUDA, or on CPU
the peak resident set size over those steps: Linux's ``VmHWM`` from
``/proc/self/status``, reset to the current RSS just before the steps through
``/proc/self/clear_refs``; where that reset is unavailable,
``getrusage(RUSAGE_SELF).ru_maxrss``, a peak since the process started. The
report's ``memory_method`` names the one used. glibc's mmap threshold is
pinned in that process so that freed tensors leave the RSS.
"""
import argparse
import contextlib
import copy
import inspect
import io
import json
import os
import os.path as osp
import platform
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import (Any, Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple, Union)

import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.structures import PixelData
from mmrazor.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules

import mmrdd  # noqa: F401  (registers mmrdd; torch-2 compatibility)
from mmrdd.models.utils import main_head, run_heads, segmentor_heads

BASE_VARIANTS = ('student', 'mmrazor-kd', 'pixel-kd', 'rdd-tfe', 'rdd-tse')
#: The KD methods of the cost table: name -> config stem. The method's
#: RDD + config is ``configs/rdd/rdd+<stem>_<pair>.py``; alone it is that
#: config's losses without RDD. Adding a method to the cost run is one line.
KD_METHODS = {
    'at': 'at_feat',
    'cwd': 'cwd_feat',
    'fitnet': 'fitnet_feat',
    'skd': 'skd_feat',
    'ifvd': 'ifvd_feat',
    'dsd': 'dsd_feat',
    'cirkd': 'cirkd_feat',
    'dist': 'dist_logits',
    'maskd': 'maskd_logits',
    'afdcd': 'afdcd_feat',
    'kt': 'kt_feat',
}
#: The student alone: the other reference of the ratios.
STUDENT = 'student'
NOCHECK_VARIANTS = ('pixel-kd-nocheck', 'rdd-tfe-nocheck', 'rdd-tse-nocheck')
BUILTIN_VARIANTS = BASE_VARIANTS + NOCHECK_VARIANTS
BASELINE = 'pixel-kd'
#: RDD loss type -> MMRazor's stock loss of the same family.
RAZOR_LOSSES = {
    'WeightedKLDivergence': 'KLDivergence',
    'WeightedChannelWiseDivergence': 'ChannelWiseDivergence',
}
#: The reference min_kept and the batch it was set for (4 x 512 x 1024).
REF_MIN_KEPT, REF_PIXELS = 100000, 4 * 512 * 1024
#: ``clock`` choices: wall time, or the CPU time of this process (all its
#: threads), which other processes on a shared machine barely disturb.
CLOCKS = {'wall': time.perf_counter, 'cpu': time.process_time}
_MEMORY_TAG = '@@MEMORY@@'


def settings_from_args(settings_type: type, args: argparse.Namespace):
    """A benchmark's settings from its command line, or the exit a command
    line wants: ``error: <why>`` when the settings reject a value.

    Args:
        settings_type (type): :class:`StepBenchmarkSettings` or
            :class:`~mmrdd_lab.benchmark_masks.MaskBenchmarkSettings`;
            its ``__post_init__`` raises ``ValueError`` on bad values.
        args (argparse.Namespace): The parsed options, named as the
            settings' fields.

    Returns:
        The settings.
    """
    try:
        return settings_type(**vars(args))
    except ValueError as e:
        raise SystemExit(f'error: {e}') from None


@dataclass
class StepBenchmarkSettings:
    """What :func:`run_step_benchmark` measures (the CLI's options).

    Args:
        configs (list[str]): One distillation config (the variants are
            derived from its ``model``), or a student config and a teacher
            config (RDD from ``distiller_config``).
        distiller_config (str, optional): Config whose ``model.distiller``
            is used with a student and a teacher config. Defaults to None.
        device (str): ``'cpu'`` or ``'cuda'``. Defaults to ``'cpu'``.
        amp (bool): Mixed precision. Defaults to False.
        batch_size (int): Images per step. Defaults to 2.
        crop (tuple[int, int]): Synthetic image size, also the data
            preprocessors' pad size with ``synthetic``. Defaults to
            (128, 256).
        synthetic (bool): Random images instead of the config's
            ``train_dataloader``. Defaults to False.
        labels (str): Synthetic labels: ``'teacher'`` (the sharpened
            teacher's predictions, so that TSE selects a realistic share) or
            ``'tiles'`` (random classes on 16x16 tiles). Defaults to
            ``'teacher'``.
        iters (int): Timed steps per variant. Defaults to 30.
        warmup (int): Untimed steps per variant first. Defaults to 3.
        round_size (int): Steps of one variant before the next one.
            Defaults to 1.
        clock (str): ``'wall'`` or ``'cpu'`` (process CPU time).
            Defaults to ``'wall'``.
        variants (list[str]): Built-in variants to run. Defaults to
            :data:`BASE_VARIANTS`.
        extra_variants (dict[str, str]): Extra variants, name -> config,
            run after ``variants``. Defaults to {}.
        kd_methods (list[str]): Methods of :data:`KD_METHODS` to run alone
            and with RDD (variants ``M`` and ``rdd+M``), after the others.
            Defaults to [].
        sizes_only (bool): Only the checkpoint sizes, one variant built at a
            time, no weights or data. Defaults to False.
        min_kept (int | str, optional): Override TSE's ``min_kept``;
            ``'auto'`` scales the reference 100000 per 4x512x1024 to the
            batch. Defaults to None.
        teacher_ckpt (str, optional): Teacher weights (a config's
            ``teacher_ckpt`` is never loaded). Defaults to None.
        lr (float): SGD learning rate. Defaults to 0.01.
        seed (int): Seed of the batch and the weights. Defaults to 0.
        threads (int, optional): ``torch.set_num_threads``. Defaults to
            None.
        memory (str): ``'subprocess'`` or ``'none'``. Defaults to
            ``'subprocess'``.
        memory_steps (int): Steps measured per memory process.
            Defaults to 3.
        profile (int): Also profile this many steps per variant.
            Defaults to 0.
        out (str, optional): Write the JSON report here. Defaults to None.
        cfg_options (dict, optional): Overrides of the first config.
            Defaults to None.
        cudnn_benchmark (bool): ``torch.backends.cudnn.benchmark``, as
            MMSeg's ``env_cfg`` sets it for training. Defaults to False.
        memory_jobs (int): Memory processes at once (each measures its own
            peak; on one GPU they share its memory). Defaults to 1.
    """

    configs: List[str]
    distiller_config: Optional[str] = None
    device: str = 'cpu'
    amp: bool = False
    batch_size: int = 2
    crop: Tuple[int, int] = (128, 256)
    synthetic: bool = False
    labels: str = 'teacher'
    iters: int = 30
    warmup: int = 3
    round_size: int = 1
    clock: str = 'wall'
    variants: List[str] = field(default_factory=lambda: list(BASE_VARIANTS))
    extra_variants: Dict[str, str] = field(default_factory=dict)
    kd_methods: List[str] = field(default_factory=list)
    sizes_only: bool = False
    min_kept: Optional[Union[int, str]] = None
    teacher_ckpt: Optional[str] = None
    lr: float = 0.01
    seed: int = 0
    threads: Optional[int] = None
    memory: str = 'subprocess'
    memory_steps: int = 3
    profile: int = 0
    out: Optional[str] = None
    cfg_options: Optional[dict] = None
    cudnn_benchmark: bool = False
    memory_jobs: int = 1

    def __post_init__(self) -> None:
        self.crop = tuple(int(c) for c in self.crop)
        if isinstance(self.min_kept, str) and self.min_kept != 'auto':
            self.min_kept = int(self.min_kept)
        for name in self.variants:
            if name not in BUILTIN_VARIANTS:
                raise ValueError(f'unknown variant {name!r}: choose from '
                                 f'{BUILTIN_VARIANTS}, or add one with '
                                 '--variant NAME=CONFIG')
        unknown = [m for m in self.kd_methods if m not in KD_METHODS]
        if unknown:
            raise ValueError(f'unknown KD methods {unknown}: choose from '
                             f'{sorted(KD_METHODS)} (or add one to '
                             'KD_METHODS in tools/mmrdd_lab/benchmark.py)')
        clash = set(self.variants + self.kd_variants) & set(
            self.extra_variants)
        if clash:
            raise ValueError(f'variant names {sorted(clash)} are built in: '
                             'name the --variant differently')
        if self.clock not in CLOCKS:
            raise ValueError(f'clock must be one of {list(CLOCKS)}')
        if self.device == 'cuda' and self.clock == 'cpu':
            raise ValueError('clock cpu does not see GPU time: use wall')
        if self.device == 'cuda' and not torch.cuda.is_available():
            raise ValueError('device cuda but CUDA is not available')

    @property
    def kd_variants(self) -> List[str]:
        """``M`` and ``rdd+M`` of every method of ``kd_methods``."""
        return [v for m in self.kd_methods for v in (m, f'rdd+{m}')]

    @property
    def all_variants(self) -> List[str]:
        """The built-in variants, the extra ones, the KD methods'."""
        return list(self.variants) + list(self.extra_variants) + \
            self.kd_variants


# ----------------------------------------------------------------- configs
def _plain(cfg: Any) -> Any:
    """A deep, plain-``dict`` copy of a (nested) config."""
    if isinstance(cfg, ConfigDict):
        return copy.deepcopy(cfg.to_dict())
    return copy.deepcopy(cfg)


def _with_scope(model: dict) -> dict:
    """``model`` built in MMSeg's scope unless it names a ``cfg_path``."""
    if 'cfg_path' not in model:
        model.setdefault('_scope_', 'mmseg')
    return model


def _segmentor_cfg(cfg: Config) -> dict:
    """The ``model`` of a plain MMSeg config, buildable from MMRazor.

    The config's top-level ``data_preprocessor`` goes into the model (as
    MMEngine's Runner does) and the scope is MMSeg's; ``cfg_path`` models
    (MMRazor's way of naming a model-zoo config) are kept as they are, for
    MMRazor's ``MODELS`` builds them itself.
    """
    model = _plain(cfg.model)
    if 'cfg_path' not in model:
        if model.get('data_preprocessor') is None and \
                'data_preprocessor' in cfg:
            model['data_preprocessor'] = _plain(cfg.data_preprocessor)
    return _with_scope(model)


def _used_recorders(distiller: dict, from_student: bool) -> set:
    return {
        m['recorder']
        for mapping in distiller.get('loss_forward_mappings', {}).values()
        for m in mapping.values() if m.get('from_student') == from_student
    }


def plain_distiller(rdd: dict, razor_losses: bool = False) -> dict:
    """The ``ConfigurableDistiller`` with ``rdd``'s losses and no RDD.

    Only the recorders the losses read are kept. With ``razor_losses`` the
    RDD losses are replaced by MMRazor's stock ones (same ``tau`` and
    ``loss_weight``).

    Args:
        rdd (dict): An ``RDDDistiller`` config.
        razor_losses (bool): Use MMRazor's losses. Defaults to False.

    Returns:
        dict: A ``ConfigurableDistiller`` config.
    """
    d = _plain(rdd)
    d['type'] = 'ConfigurableDistiller'
    for key in ('switch_iter', 'tfe', 'tse', 'teacher_main', 'teacher_aux',
                'head_pairs', 'weighted_losses'):
        d.pop(key, None)
    for side, from_student in (('student_recorders', True),
                               ('teacher_recorders', False)):
        recorders = d.get(side) or {}
        used = _used_recorders(d, from_student)
        missing = used - set(recorders)
        if missing:
            raise ValueError(f'the distill losses read the {side[:-10]} '
                             f'recorders {sorted(missing)}, which are not '
                             'defined')
        d[side] = {k: v for k, v in recorders.items() if k in used}
    if razor_losses:
        for loss in d.get('distill_losses', {}).values():
            if loss['type'] in RAZOR_LOSSES:
                loss['type'] = RAZOR_LOSSES[loss['type']]
                if loss['type'] == 'KLDivergence':
                    loss['reduction'] = 'batchmean'
    return d


def _set_min_kept(distiller: dict, settings: StepBenchmarkSettings) -> None:
    """Apply ``settings.min_kept`` to an ``RDDDistiller`` config."""
    if settings.min_kept is None or distiller.get('type') != 'RDDDistiller':
        return
    tse = distiller.setdefault('tse', dict(type='RDDTSEDifficulty'))
    if settings.min_kept == 'auto':
        pixels = settings.batch_size * settings.crop[0] * settings.crop[1]
        tse['min_kept'] = max(1, round(REF_MIN_KEPT * pixels / REF_PIXELS))
    else:
        tse['min_kept'] = int(settings.min_kept)


def load_setup(settings: StepBenchmarkSettings) -> Dict[str, Any]:
    """Student, teacher and distillation configs (plain dicts), and data.

    Args:
        settings (StepBenchmarkSettings): What to measure.

    Returns:
        dict: ``student``, ``teacher`` (segmentor configs), ``algorithm``
        (the distillation ``model`` config whose variants are derived),
        ``extra`` (name -> the ``model`` of each extra variant and KD
        method variant), ``stand_ins`` (what replaced a missing stage-1
        artefact), ``train_dataloader`` (or None).
    """
    # Losses that change with the iteration (KT's tuning point) read it
    # from the MessageHub, which MMEngine's loop sets before each step: the
    # steps here are timed at iteration 0 (KT in its first stage; RDD's
    # stage is each variant's own).
    MessageHub.get_current_instance().update_info('iter', 0)
    register_all_modules(init_default_scope=False)
    configs = settings.configs
    first = Config.fromfile(configs[0])
    if settings.cfg_options:
        first.merge_from_dict(settings.cfg_options)
    if len(configs) == 1:
        algorithm = _plain(first.model)
        if 'distiller' not in algorithm or 'teacher' not in algorithm:
            raise ValueError(
                f'{configs[0]} is not a distillation config (its model has '
                'no distiller and teacher): give an RDD config, or a '
                'student config and a teacher config.')
        student = _with_scope(algorithm.pop('architecture'))
        teacher = _with_scope(algorithm.pop('teacher'))
    elif len(configs) == 2:
        if not settings.distiller_config:
            raise ValueError('a student and a teacher config need '
                             'distiller_config (an RDD config)')
        student = _segmentor_cfg(first)
        teacher = _segmentor_cfg(Config.fromfile(configs[1]))
        algorithm = dict(
            _scope_='mmrazor',
            type='FrozenTeacherDistill',
            distiller=_plain(
                Config.fromfile(settings.distiller_config).model.distiller))
    else:
        raise ValueError('give one RDD config, or a student config and a '
                         'teacher config')
    _set_min_kept(algorithm['distiller'], settings)
    extra = {}
    for name, path in settings.extra_variants.items():
        model = _plain(Config.fromfile(path).model)
        if 'distiller' not in model or 'teacher' not in model:
            raise ValueError(f'--variant {name}={path}: not a distillation '
                             'config (its model has no distiller/teacher)')
        _set_min_kept(model['distiller'], settings)
        extra[name] = model
    stand_ins = []
    for method in settings.kd_methods:
        path = kd_method_config(method, configs)
        model = _plain(Config.fromfile(path).model)
        _set_min_kept(model['distiller'], settings)
        stand_ins += stand_in_artefacts(model['distiller'])
        extra[f'rdd+{method}'] = model
        extra[method] = dict(
            copy.deepcopy(model),
            distiller=plain_distiller(model['distiller']))
    return dict(
        student=student,
        teacher=teacher,
        algorithm=algorithm,
        extra=extra,
        stand_ins=stand_ins,
        train_dataloader=_plain(first.get('train_dataloader')))


def kd_method_config(method: str, configs: Sequence[str]) -> str:
    """``configs/rdd/rdd+<stem>_<pair>.py`` of a method of
    :data:`KD_METHODS`, with the teacher-student pair (and schedule, data
    set) of the first config, e.g. ``rdd_logits_<pair>.py``."""
    if len(configs) != 1:
        raise ValueError('kd_methods needs one distillation config of the '
                         'pair, e.g. configs/rdd/rdd_logits_<pair>.py')
    head, name = osp.split(configs[0])
    parts = name.split('_', 2)
    if len(parts) < 3:
        raise ValueError(f'{name}: not named <algo>_<where>_<pair>.py')
    path = osp.join(head, f'rdd+{KD_METHODS[method]}_{parts[2]}')
    if not osp.isfile(path):
        raise ValueError(f'kd method {method}: {path} does not exist (add '
                         'the RDD + method config for this pair)')
    return path


def stand_in_artefacts(distiller: dict) -> List[str]:
    """Random stand-ins for a stage-1 artefact that does not exist.

    A loss whose ``tokens`` file (MasKD's receptive tokens, learned in a
    stage of their own) is missing gets N(0, 0.01^2) tokens of the same
    shape in a temporary file (the official file format): a step costs the
    same with any tokens. In place.

    Returns:
        list[str]: One line per replaced artefact.
    """
    import atexit
    import shutil
    import tempfile
    out = []
    for name, loss in (distiller.get('distill_losses') or {}).items():
        path = loss.get('tokens')
        if not isinstance(path, str) or osp.isfile(path):
            continue
        folder = tempfile.mkdtemp(prefix='bench_tokens_')
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        tokens = torch.randn(
            loss.get('num_tokens', 8), loss.get('channels', 19)) * 0.01
        loss['tokens'] = osp.join(folder, 'tokens.pth')
        torch.save(dict(mask_token=tokens), loss['tokens'])
        out.append(f'{name}: {path} missing, random tokens '
                   f'{tuple(tokens.shape)} (the cost does not depend on '
                   'them)')
    return out


def variant_cfg(name: str, setup: Dict[str, Any]) -> dict:
    """The model config of one variant (see the module docstring)."""
    student = copy.deepcopy(setup['student'])
    teacher = copy.deepcopy(setup['teacher'])
    if name == 'student':
        return student
    if name in setup['extra']:
        cfg = copy.deepcopy(setup['extra'][name])
        cfg['teacher_ckpt'] = None
        return cfg
    if name not in BUILTIN_VARIANTS:
        raise ValueError(f'unknown variant {name!r}')
    algorithm = copy.deepcopy(setup['algorithm'])
    rdd = algorithm.pop('distiller')
    # the config's own algorithm-level preprocessor (e.g. CutMix), for
    # every distillation variant alike; else the student's
    extra = {}
    if algorithm.get('data_preprocessor') is not None:
        extra['data_preprocessor'] = algorithm['data_preprocessor']
    if name == 'mmrazor-kd':
        return dict(
            _scope_='mmrazor',
            type='SingleTeacherDistill',
            architecture=student,
            teacher=teacher,
            distiller=plain_distiller(rdd, razor_losses=True),
            **extra)
    algorithm.update(
        _scope_='mmrazor',
        architecture=student,
        teacher=teacher,
        teacher_ckpt=None,
        distiller=(plain_distiller(rdd)
                   if name.startswith('pixel-kd') else rdd))
    if name.endswith('-nocheck'):
        params = inspect.signature(MODELS.get(
            algorithm['type']).__init__).parameters
        algorithm.update({k: False for k in params if k.startswith('check_')})
    return algorithm


def _stage_of(name: str) -> str:
    """The RDD stage of a variant: its ``-tfe`` / ``-tse`` part, or TSE."""
    return 'tfe' if '-tfe' in name else 'tse'


@contextlib.contextmanager
def _quiet_logs():
    """Silence MMEngine's per-build warnings (e.g. 'no teacher_ckpt')."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(40)
    try:
        yield
    finally:
        logger.setLevel(level)


def set_pad_size(model: torch.nn.Module, crop: Sequence[int]) -> None:
    """Make every data preprocessor in ``model`` pad to ``crop``."""
    for module in model.modules():
        preprocessor = getattr(module, 'data_preprocessor', None)
        if hasattr(preprocessor, 'size'):
            preprocessor.size = tuple(crop)


def build_model(cfg: dict,
                crop: Optional[Sequence[int]] = None) -> torch.nn.Module:
    """Build a model config through MMRazor's ``MODELS``.

    MMRazor's builder expands ``dict(cfg_path='mmseg::...')`` into that
    model-zoo config (MMEngine's ``get_model``); nothing is downloaded,
    since ``init_weights`` is never called.
    """
    with _quiet_logs():
        model = MODELS.build(copy.deepcopy(cfg))
    if crop is not None:
        set_pad_size(model, crop)
    return model


def build_variant(name: str,
                  setup: Dict[str, Any],
                  student_state: Optional[dict] = None,
                  teacher_state: Optional[dict] = None,
                  device: str = 'cpu',
                  crop: Optional[Sequence[int]] = None) -> torch.nn.Module:
    """Build one variant, copy in the reference weights, set the stage.

    Args:
        name (str): The variant.
        setup (dict): See :func:`load_setup`.
        student_state (dict, optional): Reference student weights.
        teacher_state (dict, optional): Reference teacher weights.
        device (str): Where to put it. Defaults to ``'cpu'``.
        crop (Sequence[int], optional): The pad size of the data
            preprocessors. Defaults to None (the configs').

    Returns:
        nn.Module: The model, in training mode.
    """
    model = build_model(variant_cfg(name, setup), crop)
    student = model if name == 'student' else model.student
    for part, state in ((student, student_state),
                        (getattr(model, 'teacher', None), teacher_state)):
        if part is not None and state is not None:
            missing, unexpected = part.load_state_dict(state, strict=False)
            if missing or unexpected:
                raise ValueError(
                    f'variant {name}: its student/teacher differ from the '
                    f'first config\'s (missing {missing[:3]}, unexpected '
                    f'{unexpected[:3]}): every variant must train the same '
                    'networks')
    distiller = getattr(model, 'distiller', None)
    if hasattr(distiller, 'set_stage'):
        distiller.set_stage(_stage_of(name))
    model.to(device)
    model.train()
    return model


def build_optim(model: torch.nn.Module, lr: float, amp: bool,
                device: str) -> OptimWrapper:
    """SGD (momentum 0.9, weight decay 5e-4) in the wrapper of training.

    ``amp``: MMEngine's ``AmpOptimWrapper`` (fp16, dynamic loss scale) on
    CUDA, :class:`~mmrdd.engine.CPUAmpOptimWrapper` (bf16) on CPU.
    """
    optimizer = dict(type='SGD', lr=lr, momentum=0.9, weight_decay=5e-4)
    if not amp:
        cfg = dict(type='OptimWrapper', optimizer=optimizer)
    elif device.startswith('cuda'):
        cfg = dict(
            type='AmpOptimWrapper', optimizer=optimizer, loss_scale='dynamic')
    else:
        cfg = dict(type='CPUAmpOptimWrapper', optimizer=optimizer)
    return build_optim_wrapper(model, cfg)


# -------------------------------------------------------------------- data
def synthetic_batch(batch_size: int,
                    crop: Sequence[int],
                    num_classes: int,
                    ignore_index: int = 255,
                    seed: int = 0,
                    block: int = 16) -> Dict[str, list]:
    """A seeded batch in the format of MMSeg's ``PackSegInputs``.

    Images are uint8 noise; labels are constant on ``block`` x ``block``
    tiles (some structure, as in real label maps), about 5% of the tiles
    are ``ignore_index``.
    """
    g = torch.Generator().manual_seed(seed)
    h, w = int(crop[0]), int(crop[1])
    inputs, samples = [], []
    for _ in range(batch_size):
        inputs.append(
            torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8))
        hb, wb = -(-h // block), -(-w // block)
        tiles = torch.randint(0, num_classes, (hb, wb), generator=g)
        tiles[torch.rand(hb, wb, generator=g) < 0.05] = ignore_index
        label = tiles.repeat_interleave(block, 0).repeat_interleave(
            block, 1)[:h, :w].contiguous()
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=label[None])
        sample.set_metainfo(
            dict(img_shape=(h, w), pad_shape=(h, w), ori_shape=(h, w)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def dataset_batch(dataloader_cfg: Optional[dict],
                  batch_size: int) -> Dict[str, list]:
    """The first batch of the config's ``train_dataloader``."""
    if not dataloader_cfg:
        raise ValueError('the config has no train_dataloader: use '
                         '--synthetic')
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    cfg = copy.deepcopy(dataloader_cfg)
    cfg.update(batch_size=batch_size, num_workers=0, persistent_workers=False)
    try:
        with DefaultScope.overwrite_default_scope('mmseg'):
            return next(iter(Runner.build_dataloader(cfg)))
    except (FileNotFoundError, OSError) as e:
        raise SystemExit(
            f'cannot load the training data ({e}): generate or link the '
            'data set, set its path with --cfg-options '
            'train_dataloader.dataset.data_root=..., or use --synthetic'
        ) from e


def copy_batch(data: Dict[str, list]) -> Dict[str, list]:
    """A copy the data preprocessor may modify (it pads in place)."""
    return dict(
        inputs=list(data['inputs']),
        data_samples=[copy.deepcopy(s) for s in data['data_samples']])


def _heads(model: torch.nn.Module) -> Dict[str, torch.nn.Module]:
    """Every decode and auxiliary head of a segmentor, by name."""
    return {
        **segmentor_heads(model, 'decode_head'),
        **segmentor_heads(model, 'auxiliary_head')
    }


@torch.no_grad()
def teacher_pseudo_labels(teacher: torch.nn.Module,
                          data: Dict[str, list],
                          ignore_index: int = 255,
                          logit_std: float = 6.0) -> None:
    """Make a random teacher confident and label the batch with it.

    With random weights both networks give every class about the same
    probability, every valid pixel is OHEM-hard for both and TSE's XOR
    selects nothing. So that the masks look like training's (the teacher
    sure of most pixels, the student not yet), each head's classifier
    (``conv_seg``) is scaled to logits of standard deviation ``logit_std``
    and the labels become the main head's argmax, keeping the ignored
    pixels. In place; the cost of a step does not depend on either.
    """
    teacher.eval()
    inputs = teacher.data_preprocessor(copy_batch(data), False)['inputs']
    feats = teacher.extract_feat(inputs)
    heads = _heads(teacher)
    logits = run_heads(teacher, feats, list(heads))
    for name, head in heads.items():
        scale = logit_std / logits[name].std().clamp_min(1e-6)
        head.conv_seg.weight.mul_(scale)
        if head.conv_seg.bias is not None:
            head.conv_seg.bias.mul_(scale)
    main = main_head(teacher)
    logits = run_heads(teacher, feats)[main]
    for i, sample in enumerate(data['data_samples']):
        label = sample.gt_sem_seg.data
        pred = torch.nn.functional.interpolate(
            logits[i:i + 1],
            size=label.shape[-2:],
            mode='bilinear',
            align_corners=heads[main].align_corners).argmax(1)
        sample.gt_sem_seg.data = torch.where(label == ignore_index, label,
                                             pred.to(label))


def _cpu_state(model: torch.nn.Module) -> dict:
    return {
        k: v.detach().to('cpu', copy=True)
        for k, v in model.state_dict().items()
    }


def prepare(settings: StepBenchmarkSettings,
            setup: Dict) -> Tuple[Dict[str, list], dict, dict]:
    """The batch and the reference student and teacher weights.

    Built under ``settings.seed`` so that every process (the memory ones
    too) gets the same. With ``synthetic`` and ``labels='teacher'`` the
    labels are the teacher's predictions (:func:`teacher_pseudo_labels`).

    Returns:
        tuple: The batch, the student's and the teacher's state dicts.
    """
    torch.manual_seed(settings.seed)
    crop = settings.crop if settings.synthetic else None
    ref_student = build_model(setup['student'], crop)
    ref_teacher = build_model(setup['teacher'], crop)
    if settings.teacher_ckpt:
        from mmrdd.runtime import load_checkpoint_strict
        load_checkpoint_strict(ref_teacher, settings.teacher_ckpt)
    head = _heads(ref_student)[main_head(ref_student)]
    if settings.synthetic:
        data = synthetic_batch(
            settings.batch_size,
            settings.crop,
            head.num_classes,
            head.ignore_index,
            seed=settings.seed)
        if settings.labels == 'teacher':
            # on the benchmark's device: a full-size teacher pass is slow
            teacher_pseudo_labels(
                ref_teacher.to(settings.device), data, head.ignore_index)
    else:
        data = dataset_batch(setup['train_dataloader'], settings.batch_size)
    return data, _cpu_state(ref_student), _cpu_state(ref_teacher)


# ------------------------------------------------------------------ timing
def sync_device(device: str) -> None:
    """Wait for the device's queued work (CUDA); nothing on CPU."""
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def train_step(model: torch.nn.Module,
               optim: OptimWrapper,
               data: Dict[str, list],
               device: str,
               clock: str = 'wall') -> Tuple[float, Dict[str, float]]:
    """One timed ``train_step``.

    Returns:
        tuple[float, dict]: Seconds, and the step's log variables (losses
        and the ``rdd/...`` statistics).
    """
    timer = CLOCKS[clock]
    data = copy_batch(data)
    sync_device(device)
    start = timer()
    log_vars = model.train_step(data, optim)
    sync_device(device)
    return timer() - start, log_vars


def _float(value: Any) -> float:
    return float(torch.as_tensor(value).detach())


def rdd_stats(log_vars: Dict[str, Any]) -> Dict[str, float]:
    """The RDD statistics of a step's log variables, without ``rdd/``."""
    return {
        k[len('rdd/'):]: _float(v)
        for k, v in log_vars.items() if k.startswith('rdd/')
    }


def summarize(times: Sequence[float]) -> Dict[str, float]:
    """Median, quartiles, IQR, mean, min (ms) of step times (s)."""
    ms = np.asarray(times, dtype=np.float64) * 1e3
    q1, med, q3 = np.percentile(ms, [25, 50, 75])
    return dict(
        median_ms=float(med),
        q1_ms=float(q1),
        q3_ms=float(q3),
        iqr_ms=float(q3 - q1),
        mean_ms=float(ms.mean()),
        min_ms=float(ms.min()),
        n=int(ms.size))


def _check_finite(name: str, log_vars: Dict) -> None:
    bad = [k for k, v in log_vars.items() if not np.isfinite(_float(v))]
    if bad:
        raise FloatingPointError(
            f'{name}: non-finite losses {bad} (lower --lr)')


def time_variants(
    models: Dict[str, torch.nn.Module],
    optims: Dict[str, OptimWrapper],
    data: Dict[str, list],
    iters: int,
    warmup: int,
    round_size: int = 1,
    device: str = 'cpu',
    log: Optional[Callable[[str], None]] = None,
    clock: str = 'wall'
) -> Tuple[Dict[str, List[float]], Dict[str, List[float]]]:
    """Alternate the variants in rounds and time ``iters`` steps of each.

    Every round runs ``round_size`` steps of every variant, in an order that
    rotates by one each round.

    Returns:
        tuple[dict, dict]: The step times (s) per variant and the per-round
        median times per variant (for paired ratios).
    """
    if clock == 'cpu' and device.startswith('cuda'):
        raise ValueError('clock cpu does not see GPU time: use wall')
    names = list(models)
    for r in range(warmup):
        for name in names[r % len(names):] + names[:r % len(names)]:
            _, log_vars = train_step(models[name], optims[name], data, device)
            if r == warmup - 1:
                _check_finite(name, log_vars)
    times = {n: [] for n in names}
    rounds = {n: [] for n in names}
    n_rounds = -(-iters // round_size)
    for r in range(n_rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            steps = min(round_size, iters - r * round_size)
            this = [
                train_step(models[name], optims[name], data, device, clock)[0]
                for _ in range(steps)
            ]
            times[name].extend(this)
            rounds[name].append(float(np.median(this)))
        if log and (r + 1) % max(1, n_rounds // 5) == 0:
            log(f'  round {r + 1}/{n_rounds}: ' +
                ', '.join(f'{n} {1e3 * np.median(times[n]):.1f}'
                          for n in names) + ' ms (running medians)')
    return times, rounds


def paired_ratio(rounds: Dict[str, List[float]],
                 name: str,
                 baseline: str = BASELINE) -> Optional[float]:
    """Median over rounds of ``name``'s round median / ``baseline``'s."""
    if baseline not in rounds or name not in rounds:
        return None
    r = np.asarray(rounds[name]) / np.asarray(rounds[baseline])
    return float(np.median(r))


# ------------------------------------------------------------------ memory
def _rss_bytes() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak RSS (VmHWM) to the current RSS (Linux)."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def _vmhwm_bytes() -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) * 1024
    raise OSError('no VmHWM in /proc/self/status')


#: ``kind`` of the CPU memory measurements.
VMHWM_KIND = ('peak RSS: Linux VmHWM (/proc/self/status), reset to the '
              'current RSS before the steps (/proc/self/clear_refs)')
MAXRSS_KIND = ('peak RSS since the process started: '
               'getrusage(RUSAGE_SELF).ru_maxrss')
CUDA_KIND = 'torch.cuda.max_memory_allocated, reset before the steps'


def measure_memory_here(model: torch.nn.Module, optim: OptimWrapper,
                        data: Dict[str, list], device: str,
                        steps: int) -> Dict[str, Any]:
    """Peak memory of ``steps`` steps in this process (run it alone).

    Returns:
        dict: ``kind`` (what was measured: :data:`CUDA_KIND`,
        :data:`VMHWM_KIND` or, where the reset is unavailable,
        :data:`MAXRSS_KIND`), ``peak_mib`` and ``step_mib``, the peak above
        the memory held just before the steps.
    """
    if device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        for _ in range(steps):
            train_step(model, optim, data, device)
        peak = torch.cuda.max_memory_allocated()
        return dict(
            kind=CUDA_KIND,
            peak_mib=peak / 2**20,
            step_mib=(peak - before) / 2**20,
            reserved_mib=torch.cuda.max_memory_reserved() / 2**20)
    before = _rss_bytes()
    reset = _reset_peak_rss()
    for _ in range(steps):
        train_step(model, optim, data, device)
    if reset:
        peak, kind = _vmhwm_bytes(), VMHWM_KIND
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        kind = MAXRSS_KIND
    return dict(
        kind=kind, peak_mib=peak / 2**20, step_mib=(peak - before) / 2**20)


def memory_child(settings_json: str, name: str) -> None:
    """Entry point of the per-variant memory process (prints the result).

    Args:
        settings_json (str): The settings, holding that one variant (a KD
            method's two).
        name (str): The variant.
    """
    settings = StepBenchmarkSettings(**json.loads(settings_json))
    if settings.threads:
        torch.set_num_threads(settings.threads)
    torch.backends.cudnn.benchmark = settings.cudnn_benchmark
    setup = load_setup(settings)
    data, s_state, t_state = prepare(settings, setup)
    crop = settings.crop if settings.synthetic else None
    model = build_variant(name, setup, s_state, t_state, settings.device, crop)
    del s_state, t_state
    optim = build_optim(model, settings.lr, settings.amp, settings.device)
    # first steps allocate the optimizer state and warm the allocator
    for _ in range(max(1, min(settings.warmup, 2))):
        train_step(model, optim, data, settings.device)
    result = measure_memory_here(model, optim, data, settings.device,
                                 settings.memory_steps)
    print(_MEMORY_TAG + json.dumps(result), flush=True)


def memory_subprocess(settings: StepBenchmarkSettings,
                      name: str) -> Dict[str, Any]:
    """Measure one variant's memory in a fresh interpreter.

    See :func:`measure_memory_here`.
    """
    child = asdict(settings)
    child.update(variants=[], extra_variants={}, kd_methods=[])
    if name in settings.extra_variants:
        child.update(extra_variants={name: settings.extra_variants[name]})
    elif name in settings.kd_variants:
        child.update(kd_methods=[name.replace('rdd+', '', 1)])
    else:
        child.update(variants=[name])
    tools = osp.dirname(osp.dirname(osp.abspath(__file__)))
    code = (f'import sys; sys.path[:0] = {[osp.dirname(tools), tools]!r}; '
            'from mmrdd_lab.benchmark import memory_child; '
            'memory_child(sys.argv[1], sys.argv[2])')
    # A fixed mmap threshold makes glibc return every freed tensor to the
    # OS, so RSS follows the memory in use rather than the heap's cache.
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='131072')
    proc = subprocess.run(
        [sys.executable, '-c', code,
         json.dumps(child), name],
        capture_output=True,
        text=True,
        env=env)
    for line in proc.stdout.splitlines():
        if line.startswith(_MEMORY_TAG):
            return json.loads(line[len(_MEMORY_TAG):])
    raise RuntimeError(f'memory measurement of {name} failed:\n'
                       f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')


# ------------------------------------------------------- checkpoint sizes
class _ByteCount(io.RawIOBase):
    """A sink that counts what ``torch.save`` writes."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.count += len(data)
        return len(data)


def saved_mib(obj: Any) -> float:
    """The size of ``torch.save(obj)``, in MiB, without writing it."""
    sink = _ByteCount()
    torch.save(obj, sink)
    return sink.count / 2**20


def checkpoint_sizes(name: str, model: torch.nn.Module) -> Dict[str, float]:
    """What a variant's checkpoints weigh (``torch.save``, MiB).

    Returns:
        dict: ``state_dict_mib`` (the model's ``state_dict``, what a
        training checkpoint's ``state_dict`` holds; optimizer state and
        message hub come on top), ``teacher_mib`` and ``without_teacher_mib``
        (its ``teacher.`` entries, and the rest), ``distiller_mib`` (its
        ``distiller.`` entries: connectors, memories, tokens),
        ``student_converted_mib`` (what
        ``tools/model_converters/convert_kd_ckpt_to_student.py`` writes;
        the student alone: its own ``state_dict``).
    """
    from mmrdd.runtime import kd_to_student_checkpoint
    state = model.state_dict()

    def part(keep):
        entries = {k: v for k, v in state.items() if keep(k)}
        return saved_mib(entries) if entries else 0.0

    if name == STUDENT:
        student = saved_mib(dict(meta={}, state_dict=state))
    else:
        student = saved_mib(kd_to_student_checkpoint(dict(state_dict=state)))
    return dict(
        state_dict_mib=saved_mib(state),
        teacher_mib=part(lambda k: k.startswith('teacher.')),
        without_teacher_mib=part(lambda k: not k.startswith('teacher.')),
        distiller_mib=part(lambda k: k.startswith('distiller.')),
        student_converted_mib=student)


def run_sizes_only(settings: StepBenchmarkSettings,
                   log: Callable[[str], None] = print) -> Dict[str, Any]:
    """Checkpoint sizes of every variant, one built at a time (no
    weights, no data, no steps: a full-size pair fits a small machine)."""
    setup = load_setup(settings)
    for line in setup['stand_ins']:
        log(f'stand-in: {line}')
    results = {}
    for name in settings.all_variants:
        model = build_variant(name, setup)
        results[name] = dict(checkpoint=checkpoint_sizes(name, model))
        del model
        log(f'{name}: ' +
            ', '.join(f'{k} {v:.1f}'
                      for k, v in results[name]['checkpoint'].items()))
    report = dict(
        args=asdict(settings),
        environment=environment(settings.device),
        stand_ins=setup['stand_ins'],
        results=results)
    if settings.out:
        with open(settings.out, 'w') as f:
            json.dump(report, f, indent=1)
        log(f'wrote {settings.out}')
    return report


# --------------------------------------------------------------- profiling
#: record_function labels of the parts of a step, in order.
PARTS = ('bench::step', 'bench::teacher', 'bench::student_forward_loss',
         'bench::rdd_tse_weight', 'bench::distill_losses')


@contextlib.contextmanager
def labelled_parts(model: torch.nn.Module) -> Iterator[None]:
    """Label the parts of a step for the profiler, with module hooks.

    Forward pre-/post-hooks (public ``nn.Module`` API, removed on exit) open
    and close a ``record_function`` around: the teacher's modules
    (``bench::teacher``; RDD's algorithm calls the teacher's backbone and
    heads, MMRazor's the whole teacher), the student's forward with its
    loss, which contains the RDD samplers (``bench::student_forward_loss``),
    the TSE estimator (``bench::rdd_tse_weight``) and each distillation loss
    (``bench::distill_losses``). The TFE map is computed once per step in
    ``RDDDistiller.step_record``, which is no module: it is in
    ``bench::step`` only (``tools/analysis_tools/benchmark_masks.py`` times
    it alone).
    """
    handles, open_ = [], {}

    def label(module: torch.nn.Module, name: str) -> None:

        def pre(mod, args):
            rf = torch.profiler.record_function(name)
            rf.__enter__()
            open_.setdefault(id(mod), []).append(rf)

        def post(mod, args, output):
            open_[id(mod)].pop().__exit__(None, None, None)

        handles.append(module.register_forward_pre_hook(pre))
        handles.append(module.register_forward_hook(post))

    distiller = getattr(model, 'distiller', None)
    if distiller is None:
        label(model, 'bench::student_forward_loss')
    else:
        teacher = model.teacher
        if hasattr(model, 'teacher_forward'):
            for child in teacher.children():
                if child is not getattr(teacher, 'data_preprocessor', None):
                    label(child, 'bench::teacher')
        else:
            label(teacher, 'bench::teacher')
        label(model.student, 'bench::student_forward_loss')
        if isinstance(getattr(distiller, 'tse', None), torch.nn.Module):
            label(distiller.tse, 'bench::rdd_tse_weight')
        for loss in distiller.distill_losses.values():
            label(loss, 'bench::distill_losses')
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def profile_variants(models: Dict[str, torch.nn.Module],
                     optims: Dict[str, OptimWrapper],
                     data: Dict[str, list],
                     device: str,
                     steps: int,
                     top: int = 15) -> Dict[str, Dict]:
    """Profile ``steps`` steps per variant; part times and top operators."""
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU]
    if device.startswith('cuda'):
        activities.append(ProfilerActivity.CUDA)
    attr = 'device_time_total' if device.startswith(
        'cuda') else 'cpu_time_total'
    out = {}
    for name, model in models.items():
        train_step(model, optims[name], data, device)
        with labelled_parts(model), profile(activities=activities) as prof:
            for _ in range(steps):
                with torch.profiler.record_function('bench::step'):
                    train_step(model, optims[name], data, device)
        events = prof.key_averages()
        parts = {
            e.key: getattr(e, attr) / 1e3 / steps
            for e in events if e.key in PARTS
        }
        ops = sorted((e for e in events if not e.key.startswith('bench::')),
                     key=lambda e: e.self_cpu_time_total,
                     reverse=True)[:top]
        out[name] = dict(
            parts_ms=parts,
            top_ops=[
                dict(
                    op=e.key,
                    self_cpu_ms=e.self_cpu_time_total / 1e3 / steps,
                    calls=e.count // steps) for e in ops
            ])
    return out


def format_profile(profile: Dict[str, Dict]) -> str:
    """Per-variant time in each part of the step (profiler, ms/step)."""
    names = list(profile)
    lines = [
        'profiled ms/step per part (inclusive; the parts are inside '
        'bench::step, rdd_tse_weight inside student_forward_loss)',
        f"{'part':<30}" + ''.join(f'{n:>16}' for n in names)
    ]
    for part in PARTS:
        lines.append(f'{part:<30}' + ''.join(
            f"{profile[n]['parts_ms'].get(part, float('nan')):>16.2f}"
            for n in names))
    for n in names:
        lines.append(f'\ntop operators by self CPU time, {n}:')
        for op in profile[n]['top_ops']:
            lines.append(f"  {op['op']:<44}{op['self_cpu_ms']:>9.2f} ms "
                         f"x{op['calls']}")
    return '\n'.join(lines)


# -------------------------------------------------------------------- report
def fmt(x: Optional[float], spec: str) -> str:
    """``x`` formatted with ``spec``; ``'-'`` for None (not measured)."""
    return '-' if x is None else format(x, spec)


def format_table(results: Dict[str, Dict]) -> str:
    """The results as a fixed-width text table."""
    head = (f"{'variant':<20}{'ms/step':>10}{'IQR':>9}{'x pixel-kd':>12}"
            f"{'paired':>8}{'x student':>11}{'paired':>8}"
            f"{'peak MiB':>10}{'step MiB':>10}{'x pixel-kd':>12}"
            f"{'ckpt MiB':>10}{'student':>9}")
    lines = [head, '-' * len(head)]
    base_mem = results.get(BASELINE, {}).get('memory') or {}
    for name, r in results.items():
        t = r['time']
        mem = r.get('memory') or {}
        mem_ratio = (
            mem['step_mib'] / base_mem['step_mib']
            if mem and base_mem and base_mem['step_mib'] > 0 else None)
        ckpt = r.get('checkpoint') or {}
        lines.append(f"{name:<20}{t['median_ms']:>10.1f}{t['iqr_ms']:>9.1f}"
                     f"{fmt(r.get('ratio_to_baseline'), '.3f'):>12}"
                     f"{fmt(r.get('paired_ratio_to_baseline'), '.3f'):>8}"
                     f"{fmt(r.get('ratio_to_student'), '.3f'):>11}"
                     f"{fmt(r.get('paired_ratio_to_student'), '.3f'):>8}"
                     f"{fmt(mem.get('peak_mib'), '.0f'):>10}"
                     f"{fmt(mem.get('step_mib'), '.0f'):>10}"
                     f"{fmt(mem_ratio, '.3f'):>12}"
                     f"{fmt(ckpt.get('state_dict_mib'), '.1f'):>10}"
                     f"{fmt(ckpt.get('student_converted_mib'), '.1f'):>9}")
    return '\n'.join(lines)


def format_markdown(report: Dict[str, Any]) -> str:
    """A report's results as the Markdown table of ``docs/benchmarks.md``.

    Args:
        report (dict): :func:`run_step_benchmark`'s report (timed) or
            :func:`run_sizes_only`'s (checkpoint sizes only).

    Returns:
        str: One row per variant: for a timed report the median ms/step,
        the ratio of medians to the student alone and to pixel KD (the
        median of the paired per-round ratios in brackets), the peak and
        per-step memory and the checkpoint size; for a sizes-only report the
        checkpoint's parts. A checkpoint holds the model without the frozen
        teacher (``without_teacher_mib``; the optimizer state comes on top),
        of which ``distiller_mib`` is the method's own (connectors,
        memories, tokens).
    """

    def ratio(r, key):
        value, paired = r.get(f'ratio_to_{key}'), r.get(
            f'paired_ratio_to_{key}')
        if value is None:
            return '-'
        return f'{value:.3f}' + (f' ({paired:.3f})' if paired else '')

    results = report['results']
    timed = any('time' in r for r in results.values())
    if timed:
        lines = [
            '| variant | ms/step | x student (paired) | x pixel KD (paired) '
            '| peak MiB | step MiB | checkpoint MiB | of it the method\'s |',
            '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
        ]
    else:
        lines = [
            '| variant | checkpoint MiB | of it the method\'s | student '
            'after conversion MiB | frozen teacher (not saved) MiB |',
            '| --- | ---: | ---: | ---: | ---: |'
        ]
    for name, r in results.items():
        ckpt = r.get('checkpoint') or {}
        if timed:
            mem = r.get('memory') or {}
            lines.append(f"| {name} | {r['time']['median_ms']:.1f} | "
                         f"{ratio(r, 'student')} | {ratio(r, 'baseline')} | "
                         f"{fmt(mem.get('peak_mib'), '.0f')} | "
                         f"{fmt(mem.get('step_mib'), '.0f')} | "
                         f"{fmt(ckpt.get('without_teacher_mib'), '.1f')} | "
                         f"{fmt(ckpt.get('distiller_mib'), '.1f')} |")
        else:
            lines.append(
                f"| {name} | {fmt(ckpt.get('without_teacher_mib'), '.1f')} | "
                f"{fmt(ckpt.get('distiller_mib'), '.1f')} | "
                f"{fmt(ckpt.get('student_converted_mib'), '.1f')} | "
                f"{fmt(ckpt.get('teacher_mib'), '.1f')} |")
    return '\n'.join(lines)


def environment(device: str) -> Dict[str, Any]:
    """Versions, CPU, threads, load and GPU name, for the JSON output."""
    env = dict(
        torch=torch.__version__,
        python=platform.python_version(),
        cpu=platform.processor() or platform.machine(),
        cpu_count=os.cpu_count(),
        threads=torch.get_num_threads(),
        loadavg_at_end=os.getloadavg())
    if device.startswith('cuda'):
        env['gpu'] = torch.cuda.get_device_name()
    return env


def run_step_benchmark(settings: StepBenchmarkSettings,
                       log: Callable[[str], None] = print) -> Dict[str, Any]:
    """Build, time, profile and measure every variant; print the table.

    Args:
        settings (StepBenchmarkSettings): What to measure.
        log (Callable): Where progress and tables go. Defaults to print.

    Returns:
        dict: The report (also written to ``settings.out``): ``args``,
        ``environment``, ``batch``, ``baseline``, ``memory_method``,
        ``results`` by variant (``time``, ``ratio_to_baseline``,
        ``paired_ratio_to_baseline``, ``ratio_to_student``,
        ``paired_ratio_to_student``, ``times_ms``, ``rdd_stats`` of the last
        step, ``checkpoint`` (:func:`checkpoint_sizes`), ``memory``) and
        ``profile``. With ``sizes_only``: :func:`run_sizes_only`.
    """
    if settings.threads:
        torch.set_num_threads(settings.threads)
    torch.backends.cudnn.benchmark = settings.cudnn_benchmark
    if settings.sizes_only:
        return run_sizes_only(settings, log)
    names = settings.all_variants
    for ref in (BASELINE, STUDENT):
        if ref not in names:
            log(f'note: {ref} not among the variants, no ratios to it')
    setup = load_setup(settings)
    for line in setup['stand_ins']:
        log(f'stand-in: {line}')
    data, s_state, t_state = prepare(settings, setup)
    crop = settings.crop if settings.synthetic else None
    label_shape = tuple(data['data_samples'][0].gt_sem_seg.data.shape[-2:])
    log(f'batch: {len(data["inputs"])} x {label_shape}, device '
        f'{settings.device}{" amp" if settings.amp else ""}, torch '
        f'{torch.__version__}, {torch.get_num_threads()} threads')
    models = {
        n: build_variant(n, setup, s_state, t_state, settings.device, crop)
        for n in names
    }
    optims = {
        n: build_optim(m, settings.lr, settings.amp, settings.device)
        for n, m in models.items()
    }
    log(f'built {", ".join(models)}; timing {settings.iters} steps each '
        f'after {settings.warmup} warm-up, alternating')
    times, rounds = time_variants(
        models,
        optims,
        data,
        settings.iters,
        settings.warmup,
        settings.round_size,
        settings.device,
        log=log,
        clock=settings.clock)
    base = np.median(times[BASELINE]) if BASELINE in times else None
    alone = np.median(times[STUDENT]) if STUDENT in times else None
    results = {}
    for name in names:
        _, log_vars = train_step(models[name], optims[name], data,
                                 settings.device)
        results[name] = dict(
            time=summarize(times[name]),
            ratio_to_baseline=(float(np.median(times[name]) /
                                     base) if base else None),
            paired_ratio_to_baseline=paired_ratio(rounds, name),
            ratio_to_student=(float(np.median(times[name]) /
                                    alone) if alone else None),
            paired_ratio_to_student=paired_ratio(rounds, name, STUDENT),
            times_ms=[1e3 * t for t in times[name]],
            rdd_stats=rdd_stats(log_vars),
            checkpoint=checkpoint_sizes(name, models[name]))
        if results[name]['rdd_stats']:
            log(f'{name} statistics of a step: ' +
                ', '.join(f'{k} {v:.3f}'
                          for k, v in results[name]['rdd_stats'].items()))
    profile = None
    if settings.profile:
        log(f'profiling {settings.profile} steps per variant')
        profile = profile_variants(models, optims, data, settings.device,
                                   settings.profile)
    del models, optims
    kinds = []
    if settings.memory == 'subprocess':
        log(f'memory: {", ".join(names)} (a process each, '
            f'{settings.memory_jobs} at a time)')
        with ThreadPoolExecutor(settings.memory_jobs) as pool:
            memories = list(
                pool.map(lambda n: memory_subprocess(settings, n), names))
        for name, memory in zip(names, memories):
            results[name]['memory'] = memory
            kinds.append(memory['kind'])
    log('\n' + format_table(results))
    if profile:
        log('\n' + format_profile(profile))
    report = dict(
        args=asdict(settings),
        environment=environment(settings.device),
        batch=dict(size=len(data['inputs']), label_shape=label_shape),
        baseline=BASELINE,
        stand_ins=setup['stand_ins'],
        memory_method=('one process per variant; ' +
                       '; '.join(sorted(set(kinds)))) if kinds else None,
        results=results,
        profile=profile)
    if settings.out:
        with open(settings.out, 'w') as f:
            json.dump(report, f, indent=1)
        log(f'\nwrote {settings.out}')
    return report


def parse_variant(text: str) -> Tuple[str, str]:
    """``NAME=CONFIG`` of ``--variant`` as a pair (an argparse type)."""
    name, sep, path = text.partition('=')
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(
            f'--variant {text!r}: write NAME=CONFIG, e.g. '
            'rdd+cirkd=configs/rdd/<config>.py')
    return name, path
