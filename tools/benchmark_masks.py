"""Micro-benchmark of RDD's difficulty masks, against a full-sort OHEM.

Usage::

    python tools/benchmark_masks.py [--device cpu|cuda] [--scales 1 2 4]
        [--reps 10] [--batch-size 4] [--num-classes 19]
        [--label-size 512 1024] [--stride 8] [--out masks.json]

Times, at realistic sizes (scale 1: a GPU batch of the reference, B=4 crops
of 512x1024, 19 classes, logits at 1/8 i.e. 64x128) and at 2x and 4x the
pixels (2x and 4x the batch; ``min_kept`` scales with the pixels so the
selected fraction stays the same):

* ``q``: :func:`mmrdd.functional.gt_class_prob` (``log_softmax`` +
  ``gather``) on label-size logits, and its first form (``gather`` minus
  ``logsumexp``);
* ``select ours``: :func:`mmrdd.functional.ohem_hard_mask`, the O(N)
  selection on a given ``q`` (:func:`~mmrdd.functional.kth_smallest`:
  ``kthvalue`` on CPU, ``topk`` on CUDA);
* ``select kthvalue``: the same with ``torch.kthvalue`` on every device;
* ``select sort``: the same OHEM rule with a full sort of ``q``
  (``sort()`` + ``threshold_index``, as the reference code);
* ``select topk``: the same rule with ``topk(k, largest=False)`` on every
  device (on CUDA ``kthvalue`` runs one thread block per slice,
  pytorch/pytorch#75599);
* ``TSE ours``: the whole stage-2 selection of one head as
  :class:`~mmrdd.models.RDDDistiller` runs it: teacher logits (1/8) resized
  to the label size one image at a time inside ``gt_class_prob``, ``q`` and
  hard pixels of student and teacher, XOR,
  :func:`~mmrdd.functional.selected_mean_weight` (19 class weights);
* ``TSE reference``: the same with the reference code's
  ``OhemCrossEntropy2dTensor`` selection (teacher logits resized for the
  whole batch, softmax materialised over classes, ``argsort`` of ``q``,
  threshold read back to the host);
* ``TFE``: :func:`~mmrdd.functional.tfe_difficulty` at 1/8 plus
  :func:`~mmrdd.functional.resize_map` to the label size (the default),
  and ``TFE resize_logits`` (both heads' logits resized first);
* ``RDDDistiller TSE / TFE, 2 heads``: what RDD adds to a training step,
  through the real code path (``RDDPixelSampler.sample`` ->
  ``RDDDistiller.pixel_weight``) for a student with a decode and an
  auxiliary head, statistics included (``--no-distiller`` skips it).

Every timing is the median of ``--reps`` repetitions after one untimed run
(``--reps`` is divided by the scale, at least 3). Before timing, each scale
checks that our, kthvalue, topk and full-sort selections are identical and reports how
many pixels the reference pipeline (its softmax rounds ``q`` differently)
selects differently. Synthetic logits agree with the labels as a trained
network's do (most pixels easy, ``q`` spread over (0, 1)).
"""
import argparse
import json
import os.path as osp
import statistics
import sys
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, osp.join(HERE, '..'))
sys.path.insert(0, HERE)
from benchmark import CLOCKS, environment, sync_device  # noqa: E402
from mmrdd.functional import (gt_class_prob, ohem_hard_mask,  # noqa: E402
                              resize_map, selected_mean_weight,
                              tfe_difficulty)

#: The reference's 19 Cityscapes class weights of the stage-2 loss.
CITYSCAPES_CLASS_WEIGHT = [
    0.8373, 0.918, 0.866, 1.0345, 1.0166, 0.9969, 0.9754, 1.0489, 0.8786,
    1.0023, 0.9539, 0.9843, 1.1116, 0.9037, 1.0865, 1.0955, 1.0865, 1.1529,
    1.0507
]


# ------------------------------------------------------- reference selection
def ohem_hard_mask_sort(q: torch.Tensor, valid: torch.Tensor,
                        thresh: float = 0.7,
                        min_kept: int = 100000) -> torch.Tensor:
    """:func:`ohem_hard_mask`'s rule with a full sort instead of kthvalue."""
    flat = q.float().masked_fill(~valid, float('inf')).flatten()
    k = min(min_kept, flat.numel())
    kth = flat.sort().values[k - 1]
    return valid & (q.float() <= kth.clamp_min(thresh))


def ohem_hard_mask_kthvalue(q: torch.Tensor, valid: torch.Tensor,
                            thresh: float = 0.7,
                            min_kept: int = 100000) -> torch.Tensor:
    """:func:`ohem_hard_mask`'s rule with ``torch.kthvalue`` on any device."""
    flat = q.float().masked_fill(~valid, float('inf')).flatten()
    k = min(min_kept, flat.numel())
    return valid & (q.float() <= flat.kthvalue(k).values.clamp_min(thresh))


def ohem_hard_mask_topk(q: torch.Tensor, valid: torch.Tensor,
                        thresh: float = 0.7,
                        min_kept: int = 100000) -> torch.Tensor:
    """:func:`ohem_hard_mask`'s rule with ``topk`` instead of kthvalue.

    The k-th smallest value is the largest of the k smallest. A candidate
    for CUDA, where ``torch.kthvalue`` runs one thread block per slice (one
    slice here: the whole batch; pytorch/pytorch#75599) while ``topk`` splits
    a large slice over many blocks.
    """
    flat = q.float().masked_fill(~valid, float('inf')).flatten()
    k = min(min_kept, flat.numel())
    kth = flat.topk(k, largest=False, sorted=False).values.max()
    return valid & (q.float() <= kth.clamp_min(thresh))


def ohem_reference(logits: torch.Tensor, label: torch.Tensor,
                   thresh: float = 0.7, min_kept: int = 100000,
                   ignore_index: int = 255) -> torch.Tensor:
    """The selection of the reference ``OhemCrossEntropy2dTensor``.

    Softmax over classes, transposed to (C, N*H*W); ``q`` gathered with the
    flattened target; ``argsort`` of ``q``; the threshold compared on the
    host. Returns the (N, H, W) boolean mask of kept pixels.
    """
    n, c, h, w = logits.shape
    target = label.reshape(-1)
    valid = target != ignore_index
    target = target * valid.long()
    num_valid = int(valid.sum())
    prob = F.softmax(logits.float(), dim=1).transpose(0, 1).reshape(c, -1)
    if min_kept > num_valid or num_valid == 0:
        return valid.view(n, h, w)
    prob = prob.masked_fill_(~valid, 1)
    mask_prob = prob[target, torch.arange(len(target), device=target.device)]
    threshold = thresh
    index = mask_prob.argsort()
    threshold_index = index[min(len(index), min_kept) - 1]
    if mask_prob[threshold_index] > thresh:
        threshold = mask_prob[threshold_index]
    kept = mask_prob.le(threshold)
    return (valid & kept).view(n, h, w)


def gt_class_prob_logsumexp(logits: torch.Tensor, label: torch.Tensor,
                            ignore_index: int = 255) -> torch.Tensor:
    """The first form of :func:`gt_class_prob`: ``exp(z_y - logsumexp z)``.

    Timed as ``q (gather - logsumexp)``; on CPU it was slower than the
    ``log_softmax`` + ``gather`` form that replaced it.
    """
    logits = logits.float()
    label = label.long()
    valid = label != ignore_index
    safe_label = label.masked_fill(~valid, 0)
    logit_y = logits.gather(1, safe_label.unsqueeze(1)).squeeze(1)
    q = torch.exp(logit_y - torch.logsumexp(logits, dim=1))
    return q.masked_fill(~valid, 1.0)


def tse_ours(student: torch.Tensor, teacher_small: torch.Tensor,
             label: torch.Tensor, class_weight: torch.Tensor,
             thresh: float, min_kept: int,
             ignore_index: int = 255) -> torch.Tensor:
    """Stage-2 weights of one head, as RDDDistiller computes them (its
    :class:`~mmrdd.models.RDDTSEDifficulty`, then ``selected_mean_weight``)."""
    from mmrdd.models import RDDTSEDifficulty
    tse = RDDTSEDifficulty(thresh=thresh, min_kept=min_kept)
    mask, _, _ = tse(student, teacher_small, label, ignore_index)
    return selected_mean_weight(mask, label, float(label.numel()), class_weight)


def distiller_weights(x: Dict, class_weight: Sequence[float],
                      thresh: float, min_kept: int) -> Callable[[str], tuple]:
    """RDD's real per-step path, both student heads, on given logits.

    Builds an :class:`~mmrdd.models.RDDDistiller` whose teacher records are
    ``x['teacher']`` / ``x['aux']`` and the two :class:`RDDPixelSampler` of
    a student with a decode and an auxiliary head (MMSeg CE, no class
    weight). Returns ``step(stage)``, which computes both heads' weights
    as one training step does (``x['student']`` and ``x['student_aux']``
    are the heads' label-size logits).
    """
    import types

    from mmrazor.registry import MODELS
    from mmseg.models.losses import CrossEntropyLoss

    from mmrdd.models.samplers import RDDPixelSampler
    distiller = MODELS.build(
        dict(type='RDDDistiller',
             tse=dict(type='RDDTSEDifficulty', thresh=thresh,
                      min_kept=min_kept, class_weight=list(class_weight))))
    distiller.teacher_has_aux = True
    records = dict(decode=x['teacher'], aux=x['aux'])
    distiller.teacher_logits = records.__getitem__
    samplers = []
    for role in ('decode', 'aux'):
        head = types.SimpleNamespace(
            ignore_index=255, num_classes=x['teacher'].shape[1],
            loss_decode=CrossEntropyLoss(loss_weight=1.0))
        samplers.append(RDDPixelSampler(distiller, role, head))
    label = x['label'][:, None]

    def step(stage: str) -> tuple:
        distiller.stage = stage
        distiller._tfe_cache = (None, None, None)  # a new step
        return (samplers[0].sample(x['student'], label),
                samplers[1].sample(x['student_aux'], label))

    return step


def tse_reference(student: torch.Tensor, teacher_small: torch.Tensor,
                  label: torch.Tensor, class_weight: torch.Tensor,
                  thresh: float, min_kept: int,
                  ignore_index: int = 255) -> torch.Tensor:
    """:func:`tse_ours` with the reference's OHEM selection."""
    teacher = F.interpolate(teacher_small, size=label.shape[-2:],
                            mode='bilinear', align_corners=False)
    hard_s = ohem_reference(student, label, thresh, min_kept, ignore_index)
    hard_t = ohem_reference(teacher, label, thresh, min_kept, ignore_index)
    mask = hard_s ^ hard_t
    return selected_mean_weight(mask, label, float(label.numel()), class_weight)


# -------------------------------------------------------------- equality
def compare_selection(q: torch.Tensor, valid: torch.Tensor, thresh: float,
                      min_kept: int) -> Dict[str, int]:
    """Our selection vs full-sort, kthvalue and topk on the same ``q``.

    Returns:
        dict: ``selected`` (pixels selected by ours), ``mismatch``
        (pixels on which ours and sort disagree; 0 when identical),
        ``mismatch_kthvalue`` and ``mismatch_topk`` (the same for the
        kthvalue and topk variants).
    """
    a = ohem_hard_mask(q, valid, thresh, min_kept)
    b = ohem_hard_mask_sort(q, valid, thresh, min_kept)
    c = ohem_hard_mask_topk(q, valid, thresh, min_kept)
    d = ohem_hard_mask_kthvalue(q, valid, thresh, min_kept)
    return dict(selected=int(a.sum()), mismatch=int((a != b).sum()),
                mismatch_kthvalue=int((a != d).sum()),
                mismatch_topk=int((a != c).sum()))


def compare_with_reference(logits: torch.Tensor, label: torch.Tensor,
                           thresh: float, min_kept: int,
                           ignore_index: int = 255) -> Dict[str, int]:
    """Our selection (from logits) vs the reference pipeline's."""
    valid = label != ignore_index
    ours = ohem_hard_mask(gt_class_prob(logits, label, ignore_index), valid,
                          thresh, min_kept)
    ref = ohem_reference(logits, label, thresh, min_kept, ignore_index)
    return dict(selected=int(ours.sum()), mismatch=int((ours != ref).sum()))


# ------------------------------------------------------------------ inputs
def make_inputs(batch_size: int, num_classes: int, label_size: Sequence[int],
                stride: int, device: str, seed: int = 0) -> Dict:
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
    tiles = torch.randint(0, num_classes, (batch_size, -(-h // 32),
                                           -(-w // 32)), generator=g)
    tiles[torch.rand(tiles.shape, generator=g) < 0.05] = 255
    label = tiles.repeat_interleave(32, 1).repeat_interleave(
        32, 2)[:, :h, :w].contiguous()
    small = label[:, stride // 2::stride, stride // 2::stride]
    onehot = F.one_hot(small.clamp(max=num_classes - 1),
                       num_classes).permute(0, 3, 1, 2).float()

    def logits(margin: float, noise: float) -> torch.Tensor:
        return noise * torch.randn(batch_size, num_classes, hs, ws,
                                   generator=g) + margin * onehot

    teacher = logits(6.0, 2.0)
    aux = teacher + 1.5 * torch.randn(teacher.shape, generator=g)
    student_small = logits(4.0, 2.0)
    student = F.interpolate(student_small, size=(h, w), mode='bilinear',
                            align_corners=False)
    student_aux = student + torch.randn(student.shape, generator=g)
    out = dict(label=label, teacher=teacher, aux=aux, student=student,
               student_aux=student_aux)
    return {k: v.to(device) for k, v in out.items()}


# ------------------------------------------------------------------ timing
def timed(fn: Callable, reps: int, device: str,
          clock: str = 'wall') -> Dict[str, float]:
    """Median and min ms of ``reps`` calls after one warm-up call.

    ``clock='cpu'`` times the process CPU time (steadier on a shared
    machine; CPU device only, best with one thread).
    """
    timer = CLOCKS[clock]
    fn()
    sync_device(device)
    times = []
    for _ in range(reps):
        sync_device(device)
        start = timer()
        fn()
        sync_device(device)
        times.append(1e3 * (timer() - start))
    return dict(median_ms=statistics.median(times), min_ms=min(times),
                reps=reps)


def bench_scale(scale: int, args: argparse.Namespace) -> Dict:
    """All timings and checks at ``scale`` times the base pixels."""
    batch = args.batch_size * scale
    min_kept = args.min_kept if args.fixed_min_kept else args.min_kept * scale
    x = make_inputs(batch, args.num_classes, args.label_size, args.stride,
                    args.device, seed=args.seed)
    label = x['label']
    valid = label != 255
    cw = torch.tensor(CITYSCAPES_CLASS_WEIGHT[:args.num_classes]
                      if args.num_classes <= 19 else [1.0] *
                      args.num_classes, device=args.device)
    teacher_full = F.interpolate(x['teacher'], size=label.shape[-2:],
                                 mode='bilinear', align_corners=False)
    q_s = gt_class_prob(x['student'], label)
    q_t = gt_class_prob(teacher_full, label)
    checks = dict(
        student_kth_vs_sort=compare_selection(q_s, valid, args.thresh,
                                              min_kept),
        teacher_kth_vs_sort=compare_selection(q_t, valid, args.thresh,
                                              min_kept),
        student_ours_vs_reference=compare_with_reference(
            x['student'], label, args.thresh, min_kept),
        teacher_ours_vs_reference=compare_with_reference(
            teacher_full, label, args.thresh, min_kept))
    w_ours = tse_ours(x['student'], x['teacher'], label, cw, args.thresh,
                      min_kept)
    w_ref = tse_reference(x['student'], x['teacher'], label, cw, args.thresh,
                          min_kept)
    checks['tse_weight_max_abs_diff'] = float((w_ours - w_ref).abs().max())
    q_old = gt_class_prob_logsumexp(x['student'], label)
    checks['logsumexp_q_max_abs_diff'] = float((q_old - q_s).abs().max())
    checks['logsumexp_q_mask_mismatch'] = int(
        (ohem_hard_mask(q_old, valid, args.thresh, min_kept) !=
         ohem_hard_mask(q_s, valid, args.thresh, min_kept)).sum())
    checks['valid_pixels'] = int(valid.sum())
    checks['min_kept'] = min_kept
    checks['student_hard_fraction'] = float(
        ohem_hard_mask(q_s, valid, args.thresh, min_kept).sum() /
        valid.sum())
    del teacher_full
    reps = max(3, args.reps // scale)
    t = {}
    t['q (gt_class_prob)'] = timed(lambda: gt_class_prob(x['student'], label),
                                   reps, args.device, args.clock)
    t['q (gather - logsumexp)'] = timed(
        lambda: gt_class_prob_logsumexp(x['student'], label), reps,
        args.device, args.clock)
    t['select ours'] = timed(
        lambda: ohem_hard_mask(q_s, valid, args.thresh, min_kept), reps,
        args.device, args.clock)
    t['select kthvalue'] = timed(
        lambda: ohem_hard_mask_kthvalue(q_s, valid, args.thresh, min_kept),
        reps, args.device, args.clock)
    t['select sort'] = timed(
        lambda: ohem_hard_mask_sort(q_s, valid, args.thresh, min_kept), reps,
        args.device, args.clock)
    t['select topk'] = timed(
        lambda: ohem_hard_mask_topk(q_s, valid, args.thresh, min_kept), reps,
        args.device, args.clock)
    t['select reference (softmax+argsort)'] = timed(
        lambda: ohem_reference(x['student'], label, args.thresh, min_kept),
        reps, args.device, args.clock)
    t['TSE ours'] = timed(
        lambda: tse_ours(x['student'], x['teacher'], label, cw, args.thresh,
                         min_kept), reps, args.device, args.clock)
    t['TSE reference'] = timed(
        lambda: tse_reference(x['student'], x['teacher'], label, cw,
                              args.thresh, min_kept), reps,
        args.device, args.clock)
    size = tuple(label.shape[-2:])
    t['TFE'] = timed(
        lambda: resize_map(tfe_difficulty(x['teacher'], x['aux']), size),
        reps, args.device, args.clock)
    t['TFE resize_logits'] = timed(
        lambda: tfe_difficulty(
            F.interpolate(x['teacher'], size, mode='bilinear'),
            F.interpolate(x['aux'], size, mode='bilinear')), reps,
        args.device, args.clock)
    if args.distiller:
        step = distiller_weights(x, cw.tolist(), args.thresh, min_kept)
        t['RDDDistiller TSE, 2 heads'] = timed(lambda: step('tse'), reps,
                                               args.device, args.clock)
        t['RDDDistiller TFE, 2 heads'] = timed(lambda: step('tfe'), reps,
                                               args.device, args.clock)
    pixels = int(label.numel())
    return dict(scale=scale, batch=batch, pixels=pixels, reps=reps,
                times=t, checks=checks)


def format_tables(results: List[Dict]) -> str:
    """Timings (ms) per scale, and ns per pixel of the two selections."""
    names = list(results[0]['times'])
    head = f"{'':<38}" + ''.join(
        f"{'x%d (B=%d)' % (r['scale'], r['batch']):>14}" for r in results)
    lines = ['median ms (reps: ' + ', '.join(
        f"x{r['scale']} {r['reps']}" for r in results) + ')', head]
    for name in names:
        lines.append(f'{name:<38}' + ''.join(
            f"{r['times'][name]['median_ms']:>14.1f}" for r in results))
    lines.append('')
    lines.append('ns per pixel')
    for name in ('select ours', 'select kthvalue', 'select sort',
                 'select topk',
                 'select reference (softmax+argsort)', 'TSE ours',
                 'TSE reference'):
        lines.append(f'{name:<38}' + ''.join(
            f"{1e6 * r['times'][name]['median_ms'] / r['pixels']:>14.2f}"
            for r in results))
    def ratio(r: Dict, num: str, den: str) -> float:
        return r['times'][num]['median_ms'] / r['times'][den]['median_ms']

    for label, num, den in (('sort / ours', 'select sort', 'select ours'),
                            ('kthvalue / ours', 'select kthvalue',
                             'select ours'),
                            ('topk / ours', 'select topk', 'select ours'),
                            ('TSE reference / ours', 'TSE reference',
                             'TSE ours')):
        lines.append(f'{label:<38}' + ''.join(
            f'{ratio(r, num, den):>14.2f}' for r in results))
    lines.append('')
    lines.append('checks (mismatching pixels of the hard masks)')
    for r in results:
        c = r['checks']
        kth_s, kth_t = c['student_kth_vs_sort'], c['teacher_kth_vs_sort']
        ref_s = c['student_ours_vs_reference']
        ref_t = c['teacher_ours_vs_reference']
        lines.append(
            f"x{r['scale']}: ours vs sort student {kth_s['mismatch']}, "
            f"teacher {kth_t['mismatch']} (vs kthvalue "
            f"{kth_s['mismatch_kthvalue']}, {kth_t['mismatch_kthvalue']}; vs"
            f" topk {kth_s['mismatch_topk']}, {kth_t['mismatch_topk']}); "
            f"ours vs "
            f"reference student {ref_s['mismatch']}, teacher "
            f"{ref_t['mismatch']} of {c['valid_pixels']} valid; TSE weight "
            f"max |diff| {c['tse_weight_max_abs_diff']:.2e}; logsumexp q "
            f"max |diff| {c['logsumexp_q_max_abs_diff']:.1e}, mask "
            f"mismatch {c['logsumexp_q_mask_mismatch']}; min_kept "
            f"{c['min_kept']}, student hard "
            f"{100 * c['student_hard_fraction']:.1f}%")
    return '\n'.join(lines)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Micro-benchmark of the RDD difficulty masks (see the '
        'module docstring).')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--num-classes', type=int, default=19)
    parser.add_argument('--label-size', type=int, nargs=2,
                        default=[512, 1024], metavar=('H', 'W'))
    parser.add_argument('--stride', type=int, default=8,
                        help='logit stride (1/8 for D8 models)')
    parser.add_argument('--scales', type=int, nargs='+', default=[1, 2, 4])
    parser.add_argument('--reps', type=int, default=10,
                        help='repetitions at scale 1 (divided by the scale, '
                        'at least 3)')
    parser.add_argument('--thresh', type=float, default=0.7)
    parser.add_argument('--min-kept', type=int, default=100000,
                        help='at scale 1 (scaled with the pixels)')
    parser.add_argument('--fixed-min-kept', action='store_true',
                        help='do not scale min_kept with the pixels')
    parser.add_argument('--no-distiller', dest='distiller',
                        action='store_false',
                        help='skip the RDDDistiller rows')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--clock', default='wall', choices=list(CLOCKS),
                        help="'cpu': process CPU time (CPU device; "
                        'steadier on a shared machine with --threads 1)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default=None, help='write JSON here')
    args = parser.parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda but CUDA is not available')
    if args.device == 'cuda' and args.clock == 'cpu':
        parser.error('--clock cpu does not see GPU time')
    return args


def main(argv: Optional[List[str]] = None) -> List[Dict]:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, {args.device}, '
          f'{torch.get_num_threads()} threads, base B={args.batch_size} '
          f'C={args.num_classes} labels {args.label_size[0]}x'
          f'{args.label_size[1]}, logits 1/{args.stride}', flush=True)
    results = []
    with torch.no_grad():
        for scale in args.scales:
            results.append(bench_scale(scale, args))
            print(f'scale x{scale} done', flush=True)
    print(format_tables(results))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(args=vars(args),
                           environment=environment(args.device),
                           results=results), f, indent=1)
        print(f'wrote {args.out}')
    return results


if __name__ == '__main__':
    main()
