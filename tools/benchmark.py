"""Time an RDD training step against plain KD, side by side, in one process.

Usage::

    # an RDD config: the variants are derived from it
    python tools/benchmark.py \\
        configs/rdd/rdd_logits_..._cityscapes-512x1024.py --synthetic \\
        --device cuda --batch-size 4 --crop 512 1024 --out bench.json
    # or a student config and a teacher config (RDD from
    # configs/_base_/distill/rdd_logits.py)
    python tools/benchmark.py \\
        configs/toy/deeplabv3_toy-r18-d8_1xb8-2k_toyseg-96x96.py \\
        configs/toy/deeplabv3_toy-r50-d8_1xb8-4k_toyseg-96x96.py \\
        --synthetic --batch-size 8 --crop 96 96

Every variant is built in this process from the same configs, gets the same
student and teacher weights (copied from one reference build) and trains on
the same batch:

==================  ==========================================================
``student``         the student alone (plain MMSeg ``EncoderDecoder``)
``mmrazor-kd``      MMRazor's stock ``SingleTeacherDistill`` +
                    ``ConfigurableDistiller`` + ``KLDivergence`` (batchmean:
                    ``H*W`` times our pixel KD; for timing only)
``pixel-kd``        ``RDDSingleTeacherDistill`` + plain
                    ``ConfigurableDistiller`` + ``RDDWeightedKLDivergence``
                    (our pixel KD, the baseline of the ratios)
``rdd-tfe``         RDD, ``RDDDistiller`` in stage 1 (``set_stage('tfe')``)
``rdd-tse``         RDD, ``RDDDistiller`` in stage 2 (``set_stage('tse')``)
``*-nocheck``       ``pixel-kd`` / ``rdd-tfe`` / ``rdd-tse`` with
                    ``check_teacher_finite=False`` (opt-in, via
                    ``--variants``): the cost of its host-device sync
==================  ==========================================================

A step is ``model.train_step(data, optim_wrapper)``: data preprocessing,
forward, backward and the SGD update, exactly what MMEngine's training loop
runs (hooks aside). After ``--warmup`` steps per variant, ``--iters`` steps
per variant are timed, the variants alternating in rounds (``--round-size``
steps each, the order rotating every round) so that drift (thermal, other
processes) hits all of them alike. On CUDA the step is bracketed by
``torch.cuda.synchronize()``. Reported: median ms/step and its IQR, the ratio
of medians to ``pixel-kd`` and the median of per-round paired ratios. On a
shared CPU machine, ``--clock cpu --threads 1`` times the process's CPU time
instead of wall time: other processes then barely move the numbers.

Peak memory (``--memory subprocess``, the default): each variant is built
alone in a fresh process that runs a few steps and reports
``torch.cuda.max_memory_allocated()`` on CUDA, or on CPU the peak resident
set size over those steps (Linux ``VmHWM``, reset to the current RSS just
before them through ``/proc/self/clear_refs``; ``resource.getrusage(
RUSAGE_SELF).ru_maxrss`` where that is unavailable). Why a process per
variant: PyTorch's default CPU allocator keeps no statistics, and a CPU
process with five models in it cannot tell which variant owns its peak RSS
(nor can a CUDA one without counting the other variants' weights). glibc's
mmap threshold is pinned in that process (``MALLOC_MMAP_THRESHOLD_``) so that
freed tensors leave the RSS instead of staying cached in the heap. ``peak``
is the high-water mark (imports, models, optimizer state and the step),
``step`` the part above the memory held just before the steps
(activations, gradients, workspace): compare variants on ``step``.

``--profile N`` also runs ``torch.profiler`` over N steps of each variant and
prints the time spent in the step's parts (teacher pass, student loss, RDD
weights, distillation loss, backward + update) and the top operators.

What the ratios contain: ``pixel-kd`` runs the teacher's backbone and decode
head only; RDD also runs the teacher's auxiliary head (TFE compares the two
heads, TSE pairs the student's auxiliary head with the teacher's), so the
RDD overhead is that head's forward plus the difficulty weights. When an
RDD config has an algorithm-level ``data_preprocessor`` (e.g. CutMix), every
distillation variant uses it; ``student`` keeps the student's own.

Options:

* ``--device cpu|cuda``; ``--amp`` (CUDA: MMEngine's ``AmpOptimWrapper``,
  fp16 with dynamic loss scale; CPU: bf16 autocast); ``--threads N``.
* ``--batch-size``, ``--crop H W`` (the synthetic image size, and the data
  preprocessor's pad size with ``--synthetic``).
* ``--synthetic``: random images and labels with the config's number of
  classes; otherwise the first batch of the config's ``train_dataloader``
  (``--cfg-options train_dataloader.dataset.data_root=...``).
* ``--labels teacher|tiles`` (synthetic): by default the reference teacher's
  classifier is scaled to confident logits and its predictions become the
  labels, so that TSE selects a share of the pixels as in training (with
  random networks every pixel is hard for both and XOR selects nothing);
  ``tiles``: random classes on 16x16 tiles. 5% ignored either way. No code
  path of RDD branches on the data: this changes what the masks look like,
  not what a step costs.
* ``--iters`` (timed steps per variant), ``--warmup``, ``--round-size``,
  ``--clock wall|cpu``, ``--variants``, ``--lr`` (SGD, momentum 0.9, weight
  decay 5e-4), ``--seed``.
* ``--min-kept N|auto``: override TSE's ``min_kept``; ``auto`` scales the
  reference 100000 per 4x512x1024 to the batch.
* ``--teacher-ckpt PATH``: teacher weights. No checkpoint is ever
  downloaded: the config's ``teacher_ckpt`` is ignored.
* ``--memory subprocess|none``, ``--memory-steps``, ``--profile N``,
  ``--cfg-options`` (applied to the first config), ``--out FILE`` (JSON:
  arguments, environment, every step time, summaries, memory, profile).
"""
import argparse
import contextlib
import copy
import json
import os
import os.path as osp
import platform
import resource
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(HERE)
sys.path.insert(0, ROOT)
import mmrdd  # noqa: E402,F401  (torch-2 compatibility before mmrazor loads)
from mmengine.config import Config, ConfigDict, DictAction  # noqa: E402
from mmengine.optim import OptimWrapper, build_optim_wrapper  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402
from mmrazor.registry import MODELS as RAZOR_MODELS  # noqa: E402
from mmseg.registry import MODELS as SEG_MODELS  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402
from mmseg.utils import register_all_modules  # noqa: E402

BASE_VARIANTS = ('student', 'mmrazor-kd', 'pixel-kd', 'rdd-tfe', 'rdd-tse')
EXTRA_VARIANTS = ('pixel-kd-nocheck', 'rdd-tfe-nocheck', 'rdd-tse-nocheck')
ALL_VARIANTS = BASE_VARIANTS + EXTRA_VARIANTS
BASELINE = 'pixel-kd'
DEFAULT_DISTILLER = osp.join(ROOT, 'configs', '_base_', 'distill',
                             'rdd_logits.py')
#: RDD loss type -> MMRazor's stock loss of the same family.
RAZOR_LOSSES = {
    'RDDWeightedKLDivergence': 'KLDivergence',
    'RDDWeightedChannelWiseDivergence': 'ChannelWiseDivergence',
}
#: The reference min_kept and the batch it was set for (4 x 512 x 1024).
REF_MIN_KEPT, REF_PIXELS = 100000, 4 * 512 * 1024
MEMORY_CHILD_FLAG = '--memory-child'


# ----------------------------------------------------------------- configs
def _plain(cfg: Any) -> Any:
    """A deep, plain-``dict`` copy of a (nested) config."""
    if isinstance(cfg, ConfigDict):
        return copy.deepcopy(cfg.to_dict())
    return copy.deepcopy(cfg)


def resolve_model_cfg(cfg: dict,
                      crop: Optional[Tuple[int, int]] = None) -> dict:
    """An MMSeg segmentor config with an explicit type and scope.

    ``dict(cfg_path='mmseg::...', pretrained=False)`` (MMRazor's way of
    naming a model-zoo model) is expanded into the model dict of that config,
    with its top-level ``data_preprocessor``. Backbone pretraining is
    dropped (nothing is downloaded). If ``crop`` is given, the data
    preprocessor pads to it (instead of, e.g., Cityscapes' 512x1024).
    """
    cfg = _plain(cfg)
    if 'cfg_path' in cfg and 'type' not in cfg:
        from mmengine.hub import get_config
        full = get_config(cfg['cfg_path'])
        model = _plain(full.model)
        if 'data_preprocessor' in full:
            model['data_preprocessor'] = _plain(full.data_preprocessor)
        model['_scope_'] = cfg['cfg_path'].split('::')[0]
        model.update({k: v for k, v in cfg.items()
                      if k not in ('cfg_path', 'pretrained')})
    else:
        model = cfg
        model.setdefault('_scope_', 'mmseg')
    if 'pretrained' in model:
        model['pretrained'] = None
    backbone = model.get('backbone', {})
    if (backbone.get('init_cfg') or {}).get('type') == 'Pretrained':
        backbone['init_cfg'] = None
    if crop is not None and model.get('data_preprocessor') is not None:
        model['data_preprocessor']['size'] = tuple(crop)
    return model


def _segmentor_from_file(path: str, options: Optional[dict]) -> Config:
    cfg = Config.fromfile(path)
    if options:
        cfg.merge_from_dict(options)
    return cfg


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
    """
    d = _plain(rdd)
    d['type'] = 'ConfigurableDistiller'
    for key in ('tfe', 'tse', 'teacher_logits_recorder',
                'teacher_aux_recorder', 'weighted_losses'):
        d.pop(key, None)
    defaults = dict(
        logits=dict(type='ModuleOutputs', source='decode_head.conv_seg'))
    for side, from_student in (('student_recorders', True),
                               ('teacher_recorders', False)):
        recorders = d.get(side) or {}
        used = _used_recorders(d, from_student)
        kept = {k: v for k, v in recorders.items() if k in used}
        for name in used - set(kept):
            if name not in defaults:
                raise ValueError(f'the distill losses read the {side[:-10]} '
                                 f'recorder {name!r}, which is not defined')
            kept[name] = copy.deepcopy(defaults[name])
        d[side] = kept
    if razor_losses:
        for loss in d.get('distill_losses', {}).values():
            if loss['type'] in RAZOR_LOSSES:
                loss['type'] = RAZOR_LOSSES[loss['type']]
                if loss['type'] == 'KLDivergence':
                    loss['reduction'] = 'batchmean'
    return d


def load_setup(args: argparse.Namespace) -> Dict[str, Any]:
    """Student, teacher and RDD distiller configs (plain dicts), and data.

    Returns:
        dict: ``student``, ``teacher`` (segmentor configs), ``distiller``
        (the RDD distiller config), ``check_teacher_finite``,
        ``train_dataloader`` (or None), ``num_classes``, ``ignore_index``.
    """
    register_all_modules(init_default_scope=False)
    crop = tuple(args.crop) if args.synthetic else None
    first = _segmentor_from_file(args.configs[0], args.cfg_options)
    if len(args.configs) == 1:
        model = first.model
        if model.get('type') != 'RDDSingleTeacherDistill':
            raise ValueError(
                f'{args.configs[0]} is not an RDD config (model.type is '
                f"{model.get('type')!r}): give an RDD config, or a student "
                'config and a teacher config.')
        student = resolve_model_cfg(model['architecture'], crop)
        teacher = resolve_model_cfg(model['teacher'], crop)
        distiller = _plain(model['distiller'])
        check = bool(model.get('check_teacher_finite', True))
        algo_preprocessor = _plain(model.get('data_preprocessor'))
        if algo_preprocessor is not None and crop is not None:
            algo_preprocessor['size'] = crop
    elif len(args.configs) == 2:
        tcfg = _segmentor_from_file(args.configs[1], None)
        s_model = _plain(first.model)
        t_model = _plain(tcfg.model)
        for m, c in ((s_model, first), (t_model, tcfg)):
            if m.get('data_preprocessor') is None and 'data_preprocessor' in c:
                m['data_preprocessor'] = _plain(c.data_preprocessor)
        student = resolve_model_cfg(s_model, crop)
        teacher = resolve_model_cfg(t_model, crop)
        distiller = _plain(Config.fromfile(DEFAULT_DISTILLER).model.distiller)
        check = True
        algo_preprocessor = None
    else:
        raise ValueError('give one RDD config, or a student config and a '
                         'teacher config')
    head = student['decode_head']
    setup = dict(
        student=student,
        teacher=teacher,
        distiller=distiller,
        check_teacher_finite=check,
        algorithm_data_preprocessor=algo_preprocessor,
        train_dataloader=_plain(first.get('train_dataloader')),
        num_classes=int(head['num_classes']),
        ignore_index=int(head.get('ignore_index', 255)))
    if args.min_kept is not None and distiller.get('type') == 'RDDDistiller':
        tse = distiller.setdefault('tse', dict(type='RDDTSEDifficulty'))
        if args.min_kept == 'auto':
            pixels = args.batch_size * args.crop[0] * args.crop[1]
            tse['min_kept'] = max(1, round(REF_MIN_KEPT * pixels /
                                           REF_PIXELS))
        else:
            tse['min_kept'] = int(args.min_kept)
    return setup


def variant_cfg(name: str, setup: Dict[str, Any]) -> dict:
    """The model config of one variant (see the module docstring)."""
    if name not in ALL_VARIANTS:
        raise ValueError(f'unknown variant {name!r}; choose from '
                         f'{ALL_VARIANTS}')
    student = copy.deepcopy(setup['student'])
    teacher = copy.deepcopy(setup['teacher'])
    if name == 'student':
        return student
    # the RDD config's own algorithm-level preprocessor (e.g. CutMix), for
    # every distillation variant alike; else the student's
    extra = {}
    if setup.get('algorithm_data_preprocessor') is not None:
        extra['data_preprocessor'] = copy.deepcopy(
            setup['algorithm_data_preprocessor'])
    if name == 'mmrazor-kd':
        return dict(
            _scope_='mmrazor',
            type='SingleTeacherDistill',
            architecture=student,
            teacher=teacher,
            distiller=plain_distiller(setup['distiller'], razor_losses=True),
            **extra)
    distiller = (plain_distiller(setup['distiller'])
                 if name.startswith('pixel-kd') else copy.deepcopy(
                     setup['distiller']))
    return dict(
        **extra,
        _scope_='mmrazor',
        type='RDDSingleTeacherDistill',
        architecture=student,
        teacher=teacher,
        teacher_ckpt=None,
        check_teacher_finite=(setup['check_teacher_finite']
                              and not name.endswith('-nocheck')),
        distiller=distiller)


@contextlib.contextmanager
def _quiet_logs():
    """Silence MMEngine's per-build warnings (e.g. 'no teacher_ckpt')."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(40)
    try:
        yield
    finally:
        logger.setLevel(level)


def build_variant(name: str,
                  setup: Dict[str, Any],
                  student_state: Optional[dict] = None,
                  teacher_state: Optional[dict] = None,
                  device: str = 'cpu') -> torch.nn.Module:
    """Build one variant, copy in the reference weights, set the stage."""
    cfg = variant_cfg(name, setup)
    with _quiet_logs():
        if name == 'student':
            model = SEG_MODELS.build(cfg)
        else:
            model = RAZOR_MODELS.build(cfg)
    if name == 'student':
        if student_state is not None:
            model.load_state_dict(student_state)
    else:
        if student_state is not None:
            model.student.load_state_dict(student_state)
        if teacher_state is not None:
            model.teacher.load_state_dict(teacher_state)
        if name.startswith('rdd-'):
            model.distiller.set_stage(name.split('-')[1])
    model.to(device)
    model.train()
    return model


class _CPUAutocastOptimWrapper(OptimWrapper):
    """OptimWrapper whose forward runs under CPU bf16 autocast."""

    @contextlib.contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=torch.bfloat16):
            yield


def build_optim(model: torch.nn.Module, lr: float, amp: bool,
                device: str) -> OptimWrapper:
    """SGD (momentum 0.9, weight decay 5e-4) in MMEngine's wrapper."""
    optimizer = dict(type='SGD', lr=lr, momentum=0.9, weight_decay=5e-4)
    if amp and device.startswith('cuda'):
        return build_optim_wrapper(
            model,
            dict(type='AmpOptimWrapper', optimizer=optimizer,
                 loss_scale='dynamic'))
    wrapper = build_optim_wrapper(
        model, dict(type='OptimWrapper', optimizer=optimizer))
    if amp:
        return _CPUAutocastOptimWrapper(wrapper.optimizer)
    return wrapper


# -------------------------------------------------------------------- data
def synthetic_batch(batch_size: int, crop: Sequence[int], num_classes: int,
                    ignore_index: int = 255, seed: int = 0,
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


def dataset_batch(dataloader_cfg: Optional[dict], batch_size: int,
                  options_hint: str) -> Dict[str, list]:
    """The first batch of the config's ``train_dataloader``."""
    if not dataloader_cfg:
        raise ValueError('the config has no train_dataloader: use '
                         '--synthetic')
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    cfg = copy.deepcopy(dataloader_cfg)
    cfg.update(batch_size=batch_size, num_workers=0,
               persistent_workers=False)
    try:
        with DefaultScope.overwrite_default_scope('mmseg'):
            loader = Runner.build_dataloader(cfg)
            return next(iter(loader))
    except (FileNotFoundError, OSError) as e:
        raise SystemExit(
            f'cannot load the training data ({e}): generate or link the '
            f'data set, set its path with {options_hint}, or use '
            '--synthetic') from e


def copy_batch(data: Dict[str, list]) -> Dict[str, list]:
    """A copy the data preprocessor may modify (it pads in place)."""
    return dict(
        inputs=list(data['inputs']),
        data_samples=[copy.deepcopy(s) for s in data['data_samples']])


# ------------------------------------------------------------------ timing
def sync_device(device: str) -> None:
    """Wait for the device's queued work (CUDA); nothing on CPU."""
    if device.startswith('cuda'):
        torch.cuda.synchronize()


#: ``--clock`` choices: wall time, or the CPU time of this process (all its
#: threads), which other processes on a shared machine barely disturb.
CLOCKS = {'wall': time.perf_counter, 'cpu': time.process_time}


def train_step(model: torch.nn.Module, optim: OptimWrapper,
               data: Dict[str, list], device: str,
               clock: str = 'wall') -> Tuple[float, Dict]:
    """One timed ``train_step``; returns (seconds, log_vars)."""
    timer = CLOCKS[clock]
    data = copy_batch(data)
    sync_device(device)
    start = timer()
    log_vars = model.train_step(data, optim)
    sync_device(device)
    return timer() - start, log_vars


def summarize(times: Sequence[float]) -> Dict[str, float]:
    """Median, quartiles, IQR, mean, min (ms) of step times (s)."""
    ms = np.asarray(times, dtype=np.float64) * 1e3
    q1, med, q3 = np.percentile(ms, [25, 50, 75])
    return dict(
        median_ms=float(med), q1_ms=float(q1), q3_ms=float(q3),
        iqr_ms=float(q3 - q1), mean_ms=float(ms.mean()),
        min_ms=float(ms.min()), n=int(ms.size))


def time_variants(models: Dict[str, torch.nn.Module],
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
    rotates by one each round. Returns the step times (s) per variant and
    the per-round median times per variant (for paired ratios). ``clock``
    is ``'wall'`` or ``'cpu'`` (process CPU time; CPU device only).
    """
    if clock == 'cpu' and device.startswith('cuda'):
        raise ValueError('--clock cpu does not see GPU time: use wall')
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
                train_step(models[name], optims[name], data, device,
                           clock)[0] for _ in range(steps)
            ]
            times[name].extend(this)
            rounds[name].append(float(np.median(this)))
        if log and (r + 1) % max(1, n_rounds // 5) == 0:
            log(f'  round {r + 1}/{n_rounds}: ' + ', '.join(
                f'{n} {1e3 * np.median(times[n]):.1f}' for n in names) +
                ' ms (running medians)')
    return times, rounds


def _check_finite(name: str, log_vars: Dict) -> None:
    bad = [k for k, v in log_vars.items()
           if not np.isfinite(float(torch.as_tensor(v).detach()))]
    if bad:
        raise FloatingPointError(
            f'{name}: non-finite losses {bad} (lower --lr)')


def paired_ratio(rounds: Dict[str, List[float]], name: str,
                 baseline: str) -> Optional[float]:
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


def _peak_rss_bytes(reset: bool) -> int:
    """VmHWM since the last reset, else ``ru_maxrss`` (since start)."""
    if reset:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure_memory_here(model: torch.nn.Module, optim: OptimWrapper,
                        data: Dict[str, list], device: str,
                        steps: int) -> Dict[str, float]:
    """Peak memory of ``steps`` steps in this process (run it alone).

    CUDA: ``max_memory_allocated`` (reset first). CPU: the peak resident
    set size over the steps: Linux's ``VmHWM``, reset to the current RSS
    just before the steps (``/proc/self/clear_refs``), else
    ``ru_maxrss``, whose high-water mark then includes the imports and the
    build. ``step_mib`` is the peak above the memory held before the steps.
    """
    if device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        for _ in range(steps):
            train_step(model, optim, data, device)
        peak = torch.cuda.max_memory_allocated()
        return dict(kind='cuda max_memory_allocated',
                    peak_mib=peak / 2**20,
                    step_mib=(peak - before) / 2**20,
                    reserved_mib=torch.cuda.max_memory_reserved() / 2**20)
    before = _rss_bytes()
    reset = _reset_peak_rss()
    for _ in range(steps):
        train_step(model, optim, data, device)
    peak = _peak_rss_bytes(reset)
    return dict(kind='peak RSS (VmHWM, reset before the steps)'
                if reset else 'ru_maxrss (peak RSS since start)',
                peak_mib=peak / 2**20,
                step_mib=(peak - before) / 2**20)


def memory_child(args: argparse.Namespace) -> None:
    """Entry point of the per-variant memory subprocess."""
    (name, ) = args.variants
    setup = load_setup(args)
    data, s_state, t_state = prepare(args, setup)
    model = build_variant(name, setup, s_state, t_state, args.device)
    del s_state, t_state
    optim = build_optim(model, args.lr, args.amp, args.device)
    # first steps allocate the optimizer state and warm the allocator
    for _ in range(max(1, min(args.warmup, 2))):
        train_step(model, optim, data, args.device)
    result = measure_memory_here(model, optim, data, args.device,
                                 args.memory_steps)
    print('@@MEMORY@@' + json.dumps(result), flush=True)


def memory_subprocess(args: argparse.Namespace, name: str) -> Dict:
    """Run :func:`memory_child` for one variant in a fresh interpreter."""
    child = dict(vars(args), variants=[name])
    cmd = [sys.executable, osp.abspath(__file__), MEMORY_CHILD_FLAG,
           json.dumps(child)]
    # A fixed mmap threshold makes glibc return every freed tensor to the
    # OS, so RSS follows the memory in use rather than the heap's cache.
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='131072')
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          env=env)
    for line in proc.stdout.splitlines():
        if line.startswith('@@MEMORY@@'):
            return json.loads(line[len('@@MEMORY@@'):])
    raise RuntimeError(f'memory measurement of {name} failed:\n'
                       f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')


# --------------------------------------------------------------- profiling
def _labelled(fn: Callable, label: str) -> Callable:

    def wrapper(*a, **kw):
        with torch.profiler.record_function(label):
            return fn(*a, **kw)

    return wrapper


#: record_function labels of the parts of a step, in order.
PARTS = ('bench::teacher', 'bench::student_loss', 'bench::rdd_weight',
         'bench::distill_losses', 'bench::update_params')


def instrument(model: torch.nn.Module, optim: OptimWrapper) -> None:
    """Label the parts of a step for the profiler (instance attributes)."""
    optim.update_params = _labelled(optim.update_params,
                                    'bench::update_params')
    student = getattr(model, 'student', model)
    student.loss = _labelled(student.loss, 'bench::student_loss')
    if not hasattr(model, 'distiller'):
        return
    if hasattr(model, 'teacher_forward'):
        model.teacher_forward = _labelled(model.teacher_forward,
                                          'bench::teacher')
    else:
        model.teacher.forward = _labelled(model.teacher.forward,
                                          'bench::teacher')
    distiller = model.distiller
    distiller.compute_distill_losses = _labelled(
        distiller.compute_distill_losses, 'bench::distill_losses')
    if hasattr(distiller, 'pixel_weight'):
        distiller.pixel_weight = _labelled(distiller.pixel_weight,
                                           'bench::rdd_weight')


def profile_variants(models, optims, data, device: str, steps: int,
                     top: int = 15) -> Dict[str, Dict]:
    """Profile ``steps`` steps per variant; part times and top operators."""
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU]
    if device.startswith('cuda'):
        activities.append(ProfilerActivity.CUDA)
    out = {}
    for name, model in models.items():
        instrument(model, optims[name])
        train_step(model, optims[name], data, device)
        with profile(activities=activities) as prof:
            for _ in range(steps):
                train_step(model, optims[name], data, device)
        events = prof.key_averages()
        attr = 'device_time_total' if device.startswith(
            'cuda') else 'cpu_time_total'
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
                dict(op=e.key, self_cpu_ms=e.self_cpu_time_total / 1e3 /
                     steps, calls=e.count // steps) for e in ops
            ])
    return out


# -------------------------------------------------------------------- main
def make_batch(args: argparse.Namespace, setup: Dict) -> Dict[str, list]:
    """The synthetic batch, or the first batch of the train dataloader."""
    if args.synthetic:
        return synthetic_batch(args.batch_size, args.crop,
                               setup['num_classes'], setup['ignore_index'],
                               seed=args.seed)
    return dataset_batch(setup['train_dataloader'], args.batch_size,
                         '--cfg-options train_dataloader.dataset.data_root=')


@torch.no_grad()
def teacher_pseudo_labels(teacher: torch.nn.Module, data: Dict[str, list],
                          ignore_index: int = 255,
                          logit_std: float = 6.0) -> None:
    """Make a random teacher confident and label the batch with it.

    With random weights both networks give every class about the same
    probability, every valid pixel is OHEM-hard for both and TSE's XOR
    selects nothing. So that the masks look like training's (the teacher
    sure of most pixels, the student not yet), each head's classifier
    (``conv_seg``) is scaled to logits of standard deviation ``logit_std``
    and the labels become the decode head's argmax, keeping the ignored
    pixels. In place; the cost of a step does not depend on either.
    """
    teacher.eval()
    inputs = teacher.data_preprocessor(copy_batch(data), False)['inputs']
    feats = teacher.extract_feat(inputs)
    heads = [teacher.decode_head]
    if getattr(teacher, 'auxiliary_head', None) is not None:
        heads.append(teacher.auxiliary_head)
    for head in heads:
        std = head(feats).std().clamp_min(1e-6)
        head.conv_seg.weight.mul_(logit_std / std)
        if head.conv_seg.bias is not None:
            head.conv_seg.bias.mul_(logit_std / std)
    logits = teacher.decode_head(feats)
    for i, sample in enumerate(data['data_samples']):
        label = sample.gt_sem_seg.data
        pred = torch.nn.functional.interpolate(
            logits[i:i + 1], size=label.shape[-2:], mode='bilinear',
            align_corners=teacher.decode_head.align_corners).argmax(1)
        sample.gt_sem_seg.data = torch.where(label == ignore_index, label,
                                             pred.to(label))


def prepare(args: argparse.Namespace, setup: Dict
            ) -> Tuple[Dict[str, list], dict, dict]:
    """The batch and the reference student and teacher weights.

    Built under ``args.seed`` so that every process (the memory ones too)
    gets the same. With ``--synthetic`` the labels are the teacher's
    predictions (:func:`teacher_pseudo_labels`).
    """
    torch.manual_seed(args.seed)
    data = make_batch(args, setup)
    with _quiet_logs():
        ref_student = SEG_MODELS.build(copy.deepcopy(setup['student']))
        ref_teacher = SEG_MODELS.build(copy.deepcopy(setup['teacher']))
    if args.teacher_ckpt:
        from mmrdd.utils import load_checkpoint_strict
        load_checkpoint_strict(ref_teacher, args.teacher_ckpt)
    if args.synthetic and args.labels == 'teacher':
        # on the benchmark's device: a full-size teacher pass is slow on CPU
        teacher_pseudo_labels(ref_teacher.to(args.device), data,
                              setup['ignore_index'])

    def cpu_state(model: torch.nn.Module) -> dict:
        return {k: v.detach().to('cpu', copy=True)
                for k, v in model.state_dict().items()}

    return data, cpu_state(ref_student), cpu_state(ref_teacher)


def format_table(results: Dict[str, Dict]) -> str:
    """The results as a fixed-width text table."""
    head = (f"{'variant':<18}{'ms/step':>10}{'IQR':>9}{'x pixel-kd':>12}"
            f"{'paired':>8}{'peak MiB':>10}{'step MiB':>10}{'x pixel-kd':>12}")
    lines = [head, '-' * len(head)]
    base_mem = results.get(BASELINE, {}).get('memory') or {}
    for name, r in results.items():
        t = r['time']
        mem = r.get('memory') or {}
        ratio = r.get('ratio_to_baseline')
        paired = r.get('paired_ratio_to_baseline')
        mem_ratio = (mem['step_mib'] / base_mem['step_mib']
                     if mem and base_mem and base_mem['step_mib'] > 0 else
                     None)

        def fmt(x, spec):
            return format(x, spec) if x is not None else '-'

        lines.append(
            f"{name:<18}{t['median_ms']:>10.1f}{t['iqr_ms']:>9.1f}"
            f"{fmt(ratio, '.3f'):>12}{fmt(paired, '.3f'):>8}"
            f"{fmt(mem.get('peak_mib'), '.0f'):>10}"
            f"{fmt(mem.get('step_mib'), '.0f'):>10}"
            f"{fmt(mem_ratio, '.3f'):>12}")
    return '\n'.join(lines)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Time RDD training steps against plain KD, side by '
        'side (see the module docstring).')
    parser.add_argument(
        'configs', nargs='+',
        help='an RDD config, or a student config and a teacher config')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision (CUDA fp16 AmpOptimWrapper, '
                        'CPU bf16 autocast)')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--crop', type=int, nargs=2, default=[128, 256],
                        metavar=('H', 'W'),
                        help='synthetic image size (also the data '
                        "preprocessor's pad size with --synthetic)")
    parser.add_argument('--synthetic', action='store_true',
                        help='random images and labels instead of the '
                        "config's train_dataloader")
    parser.add_argument('--labels', default='teacher',
                        choices=['teacher', 'tiles'],
                        help='synthetic labels: the (sharpened) teacher\'s '
                        'predictions, so that TSE selects a realistic share, '
                        'or random classes on 16x16 tiles')
    parser.add_argument('--iters', type=int, default=30,
                        help='timed steps per variant')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed steps per variant first')
    parser.add_argument('--round-size', type=int, default=1,
                        help='steps of one variant before the next one')
    parser.add_argument('--clock', default='wall', choices=list(CLOCKS),
                        help='wall time, or (CPU device) the process CPU '
                        'time, steadier on a shared machine, best with '
                        '--threads 1')
    parser.add_argument('--variants', nargs='+', default=list(BASE_VARIANTS),
                        choices=ALL_VARIANTS, metavar='VARIANT',
                        help=f'any of {", ".join(ALL_VARIANTS)}; default '
                        'the first five')
    parser.add_argument('--min-kept', default=None,
                        help="override TSE's min_kept (an int, or 'auto': "
                        '100000 scaled from 4x512x1024 to the batch)')
    parser.add_argument('--teacher-ckpt', default=None,
                        help='load these teacher weights (never the '
                        "config's teacher_ckpt)")
    parser.add_argument('--lr', type=float, default=0.01, help='SGD lr')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch.set_num_threads (CPU)')
    parser.add_argument('--memory', default='subprocess',
                        choices=['subprocess', 'none'],
                        help='peak memory: one subprocess per variant, or '
                        'skip')
    parser.add_argument('--memory-steps', type=int, default=3,
                        help='steps measured by each memory subprocess')
    parser.add_argument('--profile', type=int, default=0, metavar='N',
                        help='also profile N steps per variant')
    parser.add_argument('--out', default=None, help='write JSON here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the (first) config')
    args = parser.parse_args(argv)
    if args.min_kept not in (None, 'auto'):
        args.min_kept = int(args.min_kept)
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda but CUDA is not available')
    if args.device == 'cuda' and args.clock == 'cpu':
        parser.error('--clock cpu does not see GPU time: use --clock wall')
    if BASELINE not in args.variants:
        print(f'note: {BASELINE} not among the variants, no ratios',
              file=sys.stderr)
    return args


def environment(device: str) -> Dict[str, Any]:
    """Versions, CPU, threads, load and GPU name, for the JSON output."""
    env = dict(torch=torch.__version__, python=platform.python_version(),
               cpu=platform.processor() or platform.machine(),
               cpu_count=os.cpu_count(), threads=torch.get_num_threads(),
               loadavg_at_end=os.getloadavg())
    if device.startswith('cuda'):
        env['gpu'] = torch.cuda.get_device_name()
    return env


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == MEMORY_CHILD_FLAG:
        args = argparse.Namespace(**json.loads(argv[1]))
        if args.threads:
            torch.set_num_threads(args.threads)
        memory_child(args)
        return {}
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    setup = load_setup(args)
    data, s_state, t_state = prepare(args, setup)
    label_shape = tuple(data['data_samples'][0].gt_sem_seg.data.shape[-2:])
    print(f'batch: {len(data["inputs"])} x {label_shape}, '
          f'{setup["num_classes"]} classes, device {args.device}'
          f'{" amp" if args.amp else ""}, torch {torch.__version__}, '
          f'{torch.get_num_threads()} threads')
    if setup['distiller'].get('type') == 'RDDDistiller':
        tse = setup['distiller'].get('tse') or {}
        min_kept = tse.get('min_kept', REF_MIN_KEPT)
        pixels = len(data['inputs']) * label_shape[0] * label_shape[1]
        print(f'TSE min_kept {min_kept} of {pixels} pixels per batch')
        if min_kept >= pixels:
            print('  note: min_kept >= pixels, every valid pixel is hard '
                  'for both (see --min-kept auto)')

    models, optims = {}, {}
    for name in args.variants:
        models[name] = build_variant(name, setup, s_state, t_state,
                                     args.device)
        optims[name] = build_optim(models[name], args.lr, args.amp,
                                   args.device)
    print(f'built {", ".join(models)}; timing {args.iters} steps each '
          f'after {args.warmup} warm-up, alternating')
    times, rounds = time_variants(models, optims, data, args.iters,
                                  args.warmup, args.round_size, args.device,
                                  log=print, clock=args.clock)
    results = {}
    base = np.median(times[BASELINE]) if BASELINE in times else None
    for name in args.variants:
        results[name] = dict(
            time=summarize(times[name]),
            ratio_to_baseline=(float(np.median(times[name]) / base)
                               if base else None),
            paired_ratio_to_baseline=paired_ratio(rounds, name, BASELINE),
            times_ms=[1e3 * t for t in times[name]])
        stats = getattr(getattr(models[name], 'distiller', None), 'stats',
                        None)
        if stats:
            results[name]['rdd_stats'] = {
                k: float(v) for k, v in stats.items()}
            print(f'{name} last-step statistics: ' + ', '.join(
                f'{k} {float(v):.3f}' for k, v in stats.items()))
    profile = None
    if args.profile:
        print(f'profiling {args.profile} steps per variant')
        profile = profile_variants(models, optims, data, args.device,
                                   args.profile)
    del models, optims
    if args.memory == 'subprocess':
        for name in args.variants:
            print(f'memory: {name} (own process)', flush=True)
            results[name]['memory'] = memory_subprocess(args, name)
    print()
    print(format_table(results))
    if profile:
        print()
        print(format_profile(profile))
    report = dict(
        args=vars(args), environment=environment(args.device),
        batch=dict(size=len(data['inputs']), label_shape=label_shape),
        baseline=BASELINE,
        memory_method=None if args.memory == 'none' else (
            'one subprocess per variant; ' +
            ('torch.cuda.max_memory_allocated' if args.device == 'cuda'
             else 'resource.getrusage(RUSAGE_SELF).ru_maxrss')),
        results=results, profile=profile)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)
        print(f'\nwrote {args.out}')
    return report


def format_profile(profile: Dict[str, Dict]) -> str:
    """Per-variant time in each part of the step (profiler, ms/step)."""
    names = list(profile)
    lines = ['profiled ms/step per part (inclusive; parts nest: '
             'rdd_weight is inside student_loss)',
             f"{'part':<24}" + ''.join(f'{n:>14}' for n in names)]
    for part in PARTS:
        lines.append(f'{part:<24}' + ''.join(
            f"{profile[n]['parts_ms'].get(part, float('nan')):>14.2f}"
            for n in names))
    for n in names:
        lines.append(f'\ntop operators by self CPU time, {n}:')
        for op in profile[n]['top_ops']:
            lines.append(f"  {op['op']:<44}{op['self_cpu_ms']:>9.2f} ms "
                         f"x{op['calls']}")
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
