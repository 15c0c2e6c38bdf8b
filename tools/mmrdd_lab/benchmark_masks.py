# Copyright (c) mmrdd contributors. All rights reserved.
"""Micro-benchmark of RDD's difficulty masks, against a full-sort OHEM.

The command line is ``tools/analysis_tools/benchmark_masks.py``. At
realistic sizes (scale 1: a GPU batch of the reference, B=4 crops of
512x1024, 19 classes, logits at 1/8 i.e. 64x128) and at 2x and 4x the pixels
(``min_kept`` scales with the pixels so the selected fraction stays the
same), it times:

* ``q``: :func:`mmrdd.functional.gt_class_prob` (``log_softmax`` +
  ``gather``) on label-size logits, and its first form (``gather`` minus
  ``logsumexp``);
* ``select ours``: :func:`mmrdd.functional.ohem_hard_mask`, the O(N)
  selection on a given ``q``; ``k-th kthvalue`` / ``k-th topk``: its k-th
  value alone, :func:`~mmrdd.functional.kth_smallest` with
  ``use_topk=False`` / ``True`` (on CUDA ``kthvalue`` runs one thread block
  per slice, pytorch/pytorch#75599; ours picks ``topk`` there);
* ``select sort``: the same rule with a full ``argsort`` of ``q``
  (:func:`reference_ohem_mask`, the reference code's rule);
* ``select reference``: the reference code's whole ``OhemCrossEntropy2dTensor``
  selection (softmax materialised over classes, :func:`reference_gt_prob`,
  then :func:`reference_ohem_mask`, threshold read back to the host);
* ``TSE ours, 1 head``: one student head's stage-2 weight through the real
  code path (``RDDDistiller.step_record``, ``RDDDistiller.bind``,
  ``RDDPixelSampler.sample``): teacher logits (1/8) resized to the label
  size one image at a time, ``q`` and hard pixels of student and teacher,
  XOR, the class-weighted normalisation; ``TSE reference``: the same
  weight from the reference selection;
* ``TFE``: :meth:`~mmrdd.models.RDDTFEDifficulty.maps` at 1/8 then
  resized (the default), and with ``resize_logits=True``;
* ``RDDDistiller TSE / TFE, 2 heads``: what RDD adds to a training step for
  a student with a decode and an auxiliary head, statistics included.

Every timing is the median of ``reps`` repetitions after one untimed run
(``reps`` is divided by the scale, at least 3). Before timing, each scale
checks that our selection equals the full-sort one, that ``kthvalue`` and
``topk`` give the same k-th value, and reports how many pixels the reference
pipeline (its softmax rounds ``q`` differently) selects differently.
Synthetic logits agree with the labels as a trained network's do (most
pixels easy, ``q`` spread over (0, 1)).

:func:`reference_gt_prob` and :func:`reference_ohem_mask` are the test
oracles of ``tests/_oracles.py``: the benchmark times our selection against
the same reference the tests check it with.
"""
import os.path as osp
import statistics
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch import Tensor, nn

from mmrdd.functional import (gt_class_prob, kth_smallest, ohem_hard_mask,
                              selected_mean_weight)
from mmrdd.runtime import config_file
from .benchmark import CLOCKS, environment, sync_device

sys.path.insert(
    0,
    osp.join(
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tests'))
from _oracles import reference_gt_prob, reference_ohem_mask  # noqa: E402

#: The reference's 19 Cityscapes class weights of the stage-2 loss, read
#: from the one config base that defines them.
CITYSCAPES_CLASS_WEIGHT = Config.fromfile(
    config_file('mmrdd::_base_/distill/cityscapes_class_weight.py')
).cityscapes_class_weight


def gt_class_prob_logsumexp(logits: Tensor,
                            label: Tensor,
                            ignore_index: int = 255) -> Tensor:
    """The first form of :func:`gt_class_prob`: ``exp(z_y - logsumexp z)``.

    Timed as ``q (gather - logsumexp)``; on CPU it was slower than the
    ``log_softmax`` + ``gather`` form that replaced it.
    """
    logits = logits.float()
    valid = label != ignore_index
    logit_y = logits.gather(1, label.masked_fill(~valid, 0).long()[:, None])
    q = torch.exp(logit_y[:, 0] - torch.logsumexp(logits, dim=1))
    return q.masked_fill(~valid, 1.0)


def tse_reference(student: Tensor,
                  teacher_small: Tensor,
                  label: Tensor,
                  class_weight: Tensor,
                  thresh: float,
                  min_kept: int,
                  ignore_index: int = 255) -> Tensor:
    """One head's stage-2 weight from the reference selection.

    The teacher's logits resized for the whole batch, each hard set by
    :func:`reference_gt_prob` + :func:`reference_ohem_mask`, XOR, then
    :func:`~mmrdd.functional.selected_mean_weight` (MMSeg's CE divisor, all
    pixels).
    """
    teacher = F.interpolate(
        teacher_small,
        size=label.shape[-2:],
        mode='bilinear',
        align_corners=False)
    valid = label != ignore_index
    hard = [
        reference_ohem_mask(
            reference_gt_prob(z, label, ignore_index), valid, thresh, min_kept)
        for z in (student, teacher)
    ]
    return selected_mean_weight(hard[0] ^ hard[1], label, float(label.numel()),
                                class_weight)


# --------------------------------------------------------- the real path
class _TwoHeads(nn.Module):
    """A segmentor's heads only: an FCN decode and an auxiliary head (no
    convolutions), MMSeg CE losses with the aux weight 0.4."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        from mmseg.models.decode_heads import FCNHead
        from mmseg.utils import register_all_modules
        register_all_modules(init_default_scope=False)

        def head(loss_weight: float) -> FCNHead:
            return FCNHead(
                in_channels=num_classes,
                channels=num_classes,
                num_convs=0,
                concat_input=False,
                num_classes=num_classes,
                loss_decode=dict(
                    type='CrossEntropyLoss', loss_weight=loss_weight))

        self.decode_head = head(1.0)
        self.auxiliary_head = head(0.4)


class DistillerStep:
    """RDD's per-step weights through the public objects, on given logits.

    Builds an :class:`~mmrdd.models.RDDDistiller` prepared, as in training,
    from a student and a teacher with a decode and an auxiliary head (MMSeg
    CE, no class weight). A call does what one training step does for the
    heads' task losses: ``step_record`` with the teacher's logits,
    ``bind``, each head's ``RDDPixelSampler.sample`` on its label-size
    logits, ``log_vars``.

    Args:
        x (dict): :func:`make_inputs`.
        class_weight (Sequence[float]): TSE's class weights.
        thresh (float): TSE's threshold.
        min_kept (int): TSE's ``min_kept``.
    """

    def __init__(self, x: Dict[str, Tensor], class_weight: Sequence[float],
                 thresh: float, min_kept: int) -> None:
        from mmrazor.registry import MODELS
        num_classes = x['teacher'].shape[1]
        distiller = MODELS.build(
            dict(
                type='RDDDistiller',
                tse=dict(
                    type='RDDTSEDifficulty',
                    thresh=thresh,
                    min_kept=min_kept,
                    class_weight=list(class_weight))))
        distiller.prepare_from_student(_TwoHeads(num_classes))
        distiller.prepare_from_teacher(_TwoHeads(num_classes))
        self.distiller = distiller.to(x['label'].device)
        self.x = x

    def __call__(
        self,
        stage: str,
        heads: Sequence[str] = ('decode_head', 'auxiliary_head')
    ) -> Tuple[Dict[str, Tensor], Dict[str, Tensor]]:
        """One step's weights of ``heads`` in ``stage``.

        Returns:
            tuple[dict, dict]: The weights by head, (N, H, W), and the
            logged statistics.
        """
        d, x = self.distiller, self.x
        d.set_stage(stage)
        record = d.step_record(
            dict(decode_head=x['teacher'], auxiliary_head=x['aux']), {},
            x['label'].shape[-2:])
        logits = dict(
            decode_head=x['student'], auxiliary_head=x['student_aux'])
        label = x['label'][:, None]
        with d.bind(record):
            weights = {
                h: d.samplers[h].sample(logits[h], label)
                for h in heads
            }
        return weights, d.log_vars(record)


# -------------------------------------------------------------- equality
def compare_selection(q: Tensor, valid: Tensor, thresh: float,
                      min_kept: int) -> Dict[str, Any]:
    """Our selection vs the full-sort one, and the two k-th value forms.

    Returns:
        dict: ``selected`` (pixels selected by ours), ``mismatch`` (pixels
        on which ours and :func:`reference_ohem_mask` disagree; 0 when
        identical) and ``kth_equal`` (``kth_smallest`` gives the same value
        with ``topk`` and with ``kthvalue``).
    """
    ours = ohem_hard_mask(q, valid, thresh, min_kept)
    ref = reference_ohem_mask(q, valid, thresh, min_kept)
    flat = q.float().masked_fill(~valid, float('inf')).flatten()
    k = min(min_kept, flat.numel())
    kth_equal = bool(
        kth_smallest(flat, k, use_topk=True) == kth_smallest(
            flat, k, use_topk=False))
    return dict(
        selected=int(ours.sum()),
        mismatch=int((ours != ref).sum()),
        kth_equal=kth_equal)


def compare_with_reference(logits: Tensor,
                           label: Tensor,
                           thresh: float,
                           min_kept: int,
                           ignore_index: int = 255) -> Dict[str, int]:
    """Our selection (from logits) vs the reference pipeline's."""
    valid = label != ignore_index
    ours = ohem_hard_mask(
        gt_class_prob(logits, label, ignore_index), valid, thresh, min_kept)
    ref = reference_ohem_mask(
        reference_gt_prob(logits, label, ignore_index), valid, thresh,
        min_kept)
    return dict(selected=int(ours.sum()), mismatch=int((ours != ref).sum()))


# ------------------------------------------------------------------ inputs
def make_inputs(batch_size: int,
                num_classes: int,
                label_size: Sequence[int],
                stride: int,
                device: str,
                seed: int = 0) -> Dict[str, Tensor]:
    """Seeded labels and logits, trained-network-like.

    Labels are constant on 32x32 tiles (5% ignored). Logits at 1/``stride``
    are ``noise + margin * onehot(label)``: the teacher with margin 6, the
    student with margin 4 (less sure), the teacher's auxiliary head with
    extra noise. The student's logits are resized to the label size (the
    head does this before the sampler runs, so it is not timed).
    """
    g = torch.Generator().manual_seed(seed)
    h, w = label_size
    hs, ws = h // stride, w // stride
    tiles = torch.randint(
        0, num_classes, (batch_size, -(-h // 32), -(-w // 32)), generator=g)
    tiles[torch.rand(tiles.shape, generator=g) < 0.05] = 255
    label = tiles.repeat_interleave(32, 1).repeat_interleave(
        32, 2)[:, :h, :w].contiguous()
    small = label[:, stride // 2::stride, stride // 2::stride]
    onehot = F.one_hot(small.clamp(max=num_classes - 1),
                       num_classes).permute(0, 3, 1, 2).float()

    def logits(margin: float, noise: float) -> Tensor:
        return noise * torch.randn(
            batch_size, num_classes, hs, ws, generator=g) + margin * onehot

    teacher = logits(6.0, 2.0)
    aux = teacher + 1.5 * torch.randn(teacher.shape, generator=g)
    student = F.interpolate(
        logits(4.0, 2.0), size=(h, w), mode='bilinear', align_corners=False)
    student_aux = student + torch.randn(student.shape, generator=g)
    out = dict(
        label=label,
        teacher=teacher,
        aux=aux,
        student=student,
        student_aux=student_aux)
    return {k: v.to(device) for k, v in out.items()}


# ------------------------------------------------------------------ timing
def timed(fn: Callable,
          reps: int,
          device: str,
          clock: str = 'wall') -> Dict[str, float]:
    """Median and min ms of ``reps`` calls after one warm-up call."""
    timer = CLOCKS[clock]
    fn()
    times = []
    for _ in range(reps):
        sync_device(device)
        start = timer()
        fn()
        sync_device(device)
        times.append(1e3 * (timer() - start))
    return dict(
        median_ms=statistics.median(times), min_ms=min(times), reps=reps)


@dataclass
class MaskBenchmarkSettings:
    """What :func:`run_mask_benchmark` measures (the CLI's options).

    Args:
        device (str): Defaults to ``'cpu'``.
        batch_size (int): Images at scale 1. Defaults to 4.
        num_classes (int): Defaults to 19.
        label_size (tuple[int, int]): Defaults to (512, 1024).
        stride (int): Logit stride. Defaults to 8.
        scales (list[int]): Multiples of the batch. Defaults to [1, 2, 4].
        reps (int): Repetitions at scale 1. Defaults to 10.
        thresh (float): Defaults to 0.7.
        min_kept (int): At scale 1. Defaults to 100000.
        fixed_min_kept (bool): Do not scale ``min_kept`` with the pixels.
            Defaults to False.
        distiller (bool): Time the two-head ``RDDDistiller`` rows.
            Defaults to True.
        threads (int, optional): Defaults to None.
        clock (str): ``'wall'`` or ``'cpu'``. Defaults to ``'wall'``.
        seed (int): Defaults to 0.
        out (str, optional): Write JSON here. Defaults to None.
    """

    device: str = 'cpu'
    batch_size: int = 4
    num_classes: int = 19
    label_size: Tuple[int, int] = (512, 1024)
    stride: int = 8
    scales: List[int] = field(default_factory=lambda: [1, 2, 4])
    reps: int = 10
    thresh: float = 0.7
    min_kept: int = 100000
    fixed_min_kept: bool = False
    distiller: bool = True
    threads: Optional[int] = None
    clock: str = 'wall'
    seed: int = 0
    out: Optional[str] = None

    def __post_init__(self) -> None:
        if self.device == 'cuda' and not torch.cuda.is_available():
            raise ValueError('device cuda but CUDA is not available')
        if self.device == 'cuda' and self.clock == 'cpu':
            raise ValueError('clock cpu does not see GPU time')


def bench_scale(scale: int, s: MaskBenchmarkSettings) -> Dict[str, Any]:
    """All timings and checks at ``scale`` times the base pixels."""
    min_kept = s.min_kept if s.fixed_min_kept else s.min_kept * scale
    x = make_inputs(
        s.batch_size * scale,
        s.num_classes,
        s.label_size,
        s.stride,
        s.device,
        seed=s.seed)
    label = x['label']
    valid = label != 255
    cw = (
        CITYSCAPES_CLASS_WEIGHT[:s.num_classes]
        if s.num_classes <= 19 else [1.0] * s.num_classes)
    cw_t = torch.tensor(cw, device=s.device)
    step = DistillerStep(x, cw, s.thresh, min_kept)
    teacher_full = F.interpolate(
        x['teacher'],
        size=label.shape[-2:],
        mode='bilinear',
        align_corners=False)
    q_s = gt_class_prob(x['student'], label)
    q_t = gt_class_prob(teacher_full, label)
    q_old = gt_class_prob_logsumexp(x['student'], label)
    hard_s = ohem_hard_mask(q_s, valid, s.thresh, min_kept)
    w_ours = step('tse', ('decode_head', ))[0]['decode_head']
    w_ref = tse_reference(x['student'], x['teacher'], label, cw_t, s.thresh,
                          min_kept)
    checks = dict(
        student_ours_vs_sort=compare_selection(q_s, valid, s.thresh, min_kept),
        teacher_ours_vs_sort=compare_selection(q_t, valid, s.thresh, min_kept),
        student_ours_vs_reference=compare_with_reference(
            x['student'], label, s.thresh, min_kept),
        teacher_ours_vs_reference=compare_with_reference(
            teacher_full, label, s.thresh, min_kept),
        tse_weight_max_abs_diff=float((w_ours - w_ref).abs().max()),
        logsumexp_q_max_abs_diff=float((q_old - q_s).abs().max()),
        logsumexp_q_mask_mismatch=int((ohem_hard_mask(
            q_old, valid, s.thresh, min_kept) != hard_s).sum()),
        valid_pixels=int(valid.sum()),
        min_kept=min_kept,
        student_hard_fraction=float(hard_s.sum() / valid.sum()))
    del teacher_full
    flat = q_s.masked_fill(~valid, float('inf')).flatten()
    k = min(min_kept, flat.numel())
    from mmrazor.registry import TASK_UTILS
    tfe = TASK_UTILS.build(dict(type='RDDTFEDifficulty'))
    tfe_full = TASK_UTILS.build(
        dict(type='RDDTFEDifficulty', resize_logits=True))
    size = tuple(label.shape[-2:])
    rows = {
        'q (gt_class_prob)':
        lambda: gt_class_prob(x['student'], label),
        'q (gather - logsumexp)':
        lambda: gt_class_prob_logsumexp(x['student'], label),
        'select ours':
        lambda: ohem_hard_mask(q_s, valid, s.thresh, min_kept),
        'k-th kthvalue':
        lambda: kth_smallest(flat, k, use_topk=False),
        'k-th topk':
        lambda: kth_smallest(flat, k, use_topk=True),
        'select sort':
        lambda: reference_ohem_mask(q_s, valid, s.thresh, min_kept),
        'select reference (softmax+argsort)':
        lambda: reference_ohem_mask(
            reference_gt_prob(x['student'], label), valid, s.thresh, min_kept),
        'TSE ours, 1 head':
        lambda: step('tse', ('decode_head', )),
        'TSE reference':
        lambda: tse_reference(x['student'], x['teacher'], label, cw_t, s.
                              thresh, min_kept),
        'TFE':
        lambda: tfe.maps(x['teacher'], x['aux'], size, False),
        'TFE resize_logits':
        lambda: tfe_full.maps(x['teacher'], x['aux'], size, False),
    }
    if s.distiller:
        rows['RDDDistiller TSE, 2 heads'] = lambda: step('tse')
        rows['RDDDistiller TFE, 2 heads'] = lambda: step('tfe')
    reps = max(3, s.reps // scale)
    times = {
        name: timed(fn, reps, s.device, s.clock)
        for name, fn in rows.items()
    }
    return dict(
        scale=scale,
        batch=s.batch_size * scale,
        pixels=int(label.numel()),
        reps=reps,
        times=times,
        checks=checks)


def format_tables(results: List[Dict]) -> str:
    """Timings (ms) per scale, ns per pixel and ratios, and the checks."""
    names = list(results[0]['times'])
    lines = [
        'median ms (reps: ' + ', '.join(f"x{r['scale']} {r['reps']}"
                                        for r in results) + ')',
        f"{'':<38}" + ''.join(f"{'x%d (B=%d)' % (r['scale'], r['batch']):>14}"
                              for r in results)
    ]
    for name in names:
        lines.append(f'{name:<38}' +
                     ''.join(f"{r['times'][name]['median_ms']:>14.1f}"
                             for r in results))
    lines += ['', 'ns per pixel']
    for name in ('select ours', 'select sort',
                 'select reference (softmax+argsort)', 'TSE ours, 1 head',
                 'TSE reference'):
        lines.append(f'{name:<38}' + ''.join(
            f"{1e6 * r['times'][name]['median_ms'] / r['pixels']:>14.2f}"
            for r in results))
    for label, num, den in (('sort / ours', 'select sort',
                             'select ours'), ('k-th topk / kthvalue',
                                              'k-th topk', 'k-th kthvalue'),
                            ('TSE reference / ours', 'TSE reference',
                             'TSE ours, 1 head')):
        ratios = [
            r['times'][num]['median_ms'] / r['times'][den]['median_ms']
            for r in results
        ]
        lines.append(f'{label:<38}' + ''.join(f'{x:>14.2f}' for x in ratios))
    lines += ['', 'checks (mismatching pixels of the hard masks)']
    for r in results:
        c = r['checks']
        srt_s, srt_t = c['student_ours_vs_sort'], c['teacher_ours_vs_sort']
        ref_s = c['student_ours_vs_reference']
        ref_t = c['teacher_ours_vs_reference']
        lines.append(
            f"x{r['scale']}: ours vs sort student {srt_s['mismatch']}, "
            f"teacher {srt_t['mismatch']}; k-th topk == kthvalue "
            f"{srt_s['kth_equal'] and srt_t['kth_equal']}; ours vs "
            f"reference student {ref_s['mismatch']}, teacher "
            f"{ref_t['mismatch']} of {c['valid_pixels']} valid; TSE weight "
            f"max |diff| {c['tse_weight_max_abs_diff']:.2e}; logsumexp q "
            f"max |diff| {c['logsumexp_q_max_abs_diff']:.1e}, mask "
            f"mismatch {c['logsumexp_q_mask_mismatch']}; min_kept "
            f"{c['min_kept']}, student hard "
            f"{100 * c['student_hard_fraction']:.1f}%")
    return '\n'.join(lines)


def run_mask_benchmark(settings: MaskBenchmarkSettings,
                       log: Callable[[str], None] = print) -> List[Dict]:
    """Every scale's timings and checks; print the tables.

    Returns:
        list[dict]: Per scale: ``scale``, ``batch``, ``pixels``, ``reps``,
        ``times`` (by row: ``median_ms``, ``min_ms``, ``reps``) and
        ``checks``. Also written to ``settings.out`` with the settings and
        the environment.
    """
    if settings.threads:
        torch.set_num_threads(settings.threads)
    s = settings
    log(f'torch {torch.__version__}, {s.device}, '
        f'{torch.get_num_threads()} threads, base B={s.batch_size} '
        f'C={s.num_classes} labels {s.label_size[0]}x{s.label_size[1]}, '
        f'logits 1/{s.stride}')
    results = []
    with torch.no_grad():
        for scale in s.scales:
            results.append(bench_scale(scale, s))
            log(f'scale x{scale} done')
    log(format_tables(results))
    if s.out:
        import json
        with open(s.out, 'w') as f:
            json.dump(
                dict(
                    args=asdict(s),
                    environment=environment(s.device),
                    results=results),
                f,
                indent=1)
        log(f'wrote {s.out}')
    return results
