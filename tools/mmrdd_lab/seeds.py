# Copyright (c) mmrdd contributors. All rights reserved.
"""Multi-seed toy comparison: N seeds x {student, pixel KD, RDD + KD}.

One seed ``s`` fixes, for every variant alike, the student's initial weights
(a checkpoint drawn once from ``s``, see :func:`init_checkpoint`), the data
order and the augmentation (MMEngine's ``randomness.seed=s``). The variants
of a seed are thus paired: they differ only in the method (and in the dropout
masks, which the distillation's extra modules draw from the same RNG). Every
run is scored on the held-out ``test`` split of ToySeg.

A finished run is reused only when its content key (:mod:`.fingerprint`:
the config, the teacher's and the initial weights, the data set, the other
options and the thread count) equals the new run's; otherwise it is trained
again, and the console says why.

:func:`summarize` turns the per-run results into mean +- std per variant and
the paired per-seed difference of two variants (default RDD + KD minus pixel
KD) with a seeded percentile-bootstrap 95% interval over seeds;
:func:`seeds_report` is what the seeds tool writes as JSON.
"""
import os
import os.path as osp
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .fingerprint import (fingerprint_changes, read_json, run_fingerprint,
                          write_json)
from .train_runs import (REPO_ROOT, data_root_options, last_checkpoint,
                         make_progress, read_scalars, run_training,
                         schedule_options)

#: The toy student's config (the teacher's is
#: :data:`mmrdd_lab.toy_teacher.TEACHER_CFG`).
STUDENT_CFG = 'configs/toy/deeplabv3_toy-r18-d8_1xb8-2k_toyseg-96x96.py'
#: variant -> (label, config); the first three are the default comparison.
#: A variant is one entry here (e.g. a per-class TSE config).
VARIANTS: Dict[str, Tuple[str, str]] = {
    'student': ('student alone', STUDENT_CFG),
    'kd': (
        'pixel KD',
        'configs/rdd/kd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501
    ),  # noqa: E501
    'rdd': (
        'RDD + pixel KD',
        'configs/rdd/rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501
    ),  # noqa: E501
    'rdd-wkd': (
        'RDD + weighted KD',
        'configs/rdd/rdd-wkd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501
    ),  # noqa: E501
    'rdd+cwd': (
        'RDD + KD + CWD',
        'configs/rdd/rdd+cwd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501
    ),  # noqa: E501
    'rdd-cutmix': (
        'RDD + KD, CutMix',
        'configs/rdd/rdd-cutmix_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501
    ),  # noqa: E501
    'rdd-keep': (
        'RDD + KD, starved kept',
        'configs/rdd/rdd-keepstarved_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501
    ),  # noqa: E501
}
DEFAULT_VARIANTS = ('student', 'kd', 'rdd')
#: What a run's entry in the seeds tool's JSON keeps (no paths, no
#: checkpoints: the file is committed).
REPORT_RUN_KEYS = ('variant', 'name', 'seed', 'mIoU', 'per_class', 'aAcc',
                   'num_images', 'time_s', 'cpu_s', 'val_curve', 'fingerprint')


def is_distill(variant: str) -> bool:
    """Whether a variant distils from the teacher (all but ``student``)."""
    return variant != 'student'


def init_checkpoint(seed: int, out_dir: str, config: str = STUDENT_CFG) -> str:
    """The student's initial weights for ``seed``, drawn once and saved.

    The same file initialises the student of every variant of the seed
    (``init_cfg=dict(type='Pretrained', checkpoint=...)``), so the student
    alone and the distilled students start from identical weights even
    though a distillation run builds more modules (the teacher) before the
    student's ``init_weights`` would otherwise draw them.

    Args:
        seed (int): The seed.
        out_dir (str): Folder of the checkpoint, ``student_init_seed{S}.pth``.
        config (str): The student config. Defaults to :data:`STUDENT_CFG`.

    Returns:
        str: The checkpoint path (reused when it exists; the runs key it by
        its weights, so a changed file is noticed).
    """
    path = osp.join(out_dir, f'student_init_seed{seed}.pth')
    if osp.isfile(path):
        return path
    import logging

    import torch
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.registry import DefaultScope
    from mmengine.runner import set_random_seed
    from mmseg.registry import MODELS

    import mmrdd  # noqa: F401  (registers the toy data set and modules)
    cfg = Config.fromfile(
        config if osp.isabs(config) else osp.join(REPO_ROOT, config))
    set_random_seed(seed)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    os.makedirs(out_dir, exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(seed=seed)), tmp)
    os.replace(tmp, path)
    return path


def run_options(
    variant: str,
    seed: int,
    init_ckpt: str,
    data_root: str,
    teacher_ckpt: Optional[str],
    iters: Optional[int],
    val_interval: Optional[int] = None,
    extra: Sequence[str] = ()
) -> List[str]:  # noqa: E125
    """All ``--cfg-options`` of one run of the comparison."""
    prefix = 'model.architecture' if is_distill(variant) else 'model'
    opts = data_root_options(data_root) + [
        f'randomness.seed={seed}',
        f'{prefix}.init_cfg.type=Pretrained',
        f'{prefix}.init_cfg.checkpoint={init_ckpt}',
    ] + schedule_options(iters, 'rdd' in variant, val_interval)
    if is_distill(variant):
        if not teacher_ckpt:
            raise ValueError(f'variant {variant!r} needs a teacher_ckpt')
        opts.append(f'model.teacher_ckpt={teacher_ckpt}')
    return opts + list(extra)


def student_checkpoint(variant: str, run_dir: str) -> str:
    """A plain MMSeg checkpoint of the run's final student (distilled
    checkpoints are converted once to ``<run_dir>/student.pth``)."""
    ckpt = last_checkpoint(run_dir)
    if not is_distill(variant):
        return ckpt
    import torch

    from mmrdd.runtime import kd_to_student_checkpoint
    student = osp.join(run_dir, 'student.pth')
    torch.save(
        kd_to_student_checkpoint(torch.load(ckpt, map_location='cpu')),
        student)
    return student


_EVAL_LOCK = threading.Lock()


def _val_curve(run_dir: str) -> List[List]:
    """[iteration, val mIoU] pairs of a run, from its ``scalars.json``."""
    return [[int(r['step']), float(r['mIoU'])] for r in read_scalars(run_dir)
            if 'mIoU' in r]


def _tse_classes(run_dir: str) -> Dict:
    """What TSE kept of each class in an RDD run, from its logs.

    Returns:
        dict: ``kept`` {class: mean of the logged ``rdd/tse_kept/<class>``
        over the run's logging intervals (NaN ones left out)} and
        ``starved`` [classes named by the selection watch's warning, in
        order]; empty for a run without TSE.
    """
    import re
    values: Dict[str, List[float]] = {}
    for record in read_scalars(run_dir):
        for key, value in record.items():
            if key.startswith('rdd/tse_kept/') and value == value:
                values.setdefault(key[len('rdd/tse_kept/'):], []).append(value)
    starved: List[str] = []
    log = osp.join(run_dir, 'train.log')
    if osp.isfile(log):
        with open(log) as f:
            for line in f:
                if 'RDD: TSE starves' in line:
                    starved += re.findall(r"'([^']+)' \(kept", line)
    if not values:
        return {}
    return dict(
        kept={c: float(np.mean(v))
              for c, v in values.items()},
        starved=starved)


def _say(progress, message: str) -> None:
    """A line on the progress display's console, or on stdout."""
    if progress is not None:
        progress.console.print(message, highlight=False, markup=False)
    else:
        print(message, flush=True)


def run_variant(variant: str,
                seed: int,
                run_dir: str,
                init_ckpt: str,
                data_root: str,
                teacher_ckpt: Optional[str],
                iters: Optional[int] = None,
                progress=None,
                description: Optional[str] = None,
                threads: Optional[int] = None,
                val_interval: Optional[int] = None,
                extra: Sequence[str] = (),
                reuse: bool = False) -> Dict:
    """Train one variant for one seed and score it on the test split.

    With ``reuse`` an existing ``<run_dir>/result.json`` is returned as it
    is when its ``fingerprint`` equals this run's
    (:func:`~mmrdd_lab.fingerprint.run_fingerprint`: same config content,
    teacher and initial weights, data set, other options and threads);
    when anything differs the run is trained again and the console says
    what changed.

    Returns:
        dict: ``variant``, ``name``, ``seed``, ``mIoU``, ``per_class``,
        ``aAcc``, ``num_images`` (test split), ``time_s`` and ``cpu_s``
        (training wall and CPU time, seconds), ``run_dir``,
        ``checkpoint``, ``options``, ``fingerprint``, ``val_curve``
        ([iteration, val mIoU] pairs, from ``scalars.json``) and
        ``tse_classes`` (what TSE kept of each class, see
        :func:`_tse_classes`); also written to ``<run_dir>/result.json``.
    """
    from .evaluate import evaluate_segmentor
    result_path = osp.join(run_dir, 'result.json')
    name, config = VARIANTS[variant]
    label = description or f'seed {seed} {name}'
    opts = run_options(variant, seed, init_ckpt, data_root, teacher_ckpt,
                       iters, val_interval, extra)
    fingerprint = run_fingerprint(config, opts, threads, REPO_ROOT)
    done = read_json(result_path) if reuse else None
    if done is not None:
        changes = fingerprint_changes(done.get('fingerprint'), fingerprint)
        if not changes:
            _say(
                progress, f'{label}: reusing the finished run {run_dir} '
                f'({done["mIoU"]:.2f} mIoU; same config, teacher, initial '
                'weights, data, options and threads)')
            return done
        _say(
            progress,
            f'{label}: training again, the finished run in {run_dir} '
            'does not apply: ' + '; '.join(changes))
    spent = run_training(config, run_dir, opts, label, progress, threads)
    with _EVAL_LOCK:
        ckpt = student_checkpoint(variant, run_dir)
        scores = evaluate_segmentor(
            STUDENT_CFG, ckpt, data_root, split='test_dataloader')
    result = dict(
        variant=variant,
        name=name,
        seed=seed,
        time_s=spent.wall_s,
        cpu_s=spent.cpu_s,
        run_dir=run_dir,
        checkpoint=ckpt,
        options=opts,
        fingerprint=fingerprint,
        val_curve=_val_curve(run_dir),
        tse_classes=_tse_classes(run_dir),
        **scores)
    write_json(result_path, result)
    return result


def run_seeds(
    seeds: Sequence[int],
    work_dir: str,
    data_root: str,
    teacher_ckpt: Optional[str],
    variants: Sequence[str] = DEFAULT_VARIANTS,
    iters: Optional[int] = None,
    jobs: int = 2,
    threads: Optional[int] = 1,
    extra: Sequence[str] = (),
    reuse: bool = True,
    val_interval: Optional[int] = None,
    progress=None,
    labels: Optional[Mapping[Tuple[int, str], str]] = None
) -> List[Dict]:  # noqa: E125
    """Train and score ``len(seeds) x len(variants)`` runs, ``jobs`` at once.

    Runs go to ``<work_dir>/seed{S}/{variant}``; with ``reuse`` a finished
    run with the same content key is not trained again (an interrupted
    comparison continues where it stopped; see :func:`run_variant`).
    ``threads`` is each training process's ``OMP_NUM_THREADS`` (and this
    process's torch threads, which score the runs); ``val_interval`` adds a
    validation curve (val split) to every run; validating during training
    changes later dropout draws, so such runs are keyed apart from runs
    validated at the end only.

    Args:
        progress (Progress, optional): A started progress display to draw
            the runs' bars on. Defaults to None (a new one).
        labels (Mapping[tuple[int, str], str], optional): Bar label of each
            ``(seed, variant)``. Defaults to ``run k/N seed S variant``.
        Others: as above.

    Returns:
        list[dict]: The results of :func:`run_variant`, ordered by seed,
        then variant.
    """
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f'unknown variants {unknown}; choose from '
                         f'{sorted(VARIANTS)}')
    if jobs < 1:
        raise ValueError(f'jobs must be >= 1, got {jobs}')
    if threads:
        import torch
        torch.set_num_threads(threads)
    init_dir = osp.join(work_dir, 'init')
    inits = {s: init_checkpoint(s, init_dir) for s in seeds}
    todo = [(s, v) for s in seeds for v in variants]
    labels = labels or {
        item: f'run {k}/{len(todo)} seed {item[0]} {item[1]}'
        for k, item in enumerate(todo, 1)
    }

    def one(item, bars):
        seed, variant = item
        return run_variant(
            variant,
            seed,
            osp.join(work_dir, f'seed{seed}', variant),
            inits[seed],
            data_root,
            teacher_ckpt,
            iters,
            bars,
            labels[item],
            threads,
            val_interval,
            extra=extra,
            reuse=reuse)

    display = make_progress() if progress is None else nullcontext(progress)
    with display as bars, ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda item: one(item, bars), todo))


def report_run(result: Dict) -> Dict:
    """A run's entry in the seeds tool's JSON (:data:`REPORT_RUN_KEYS`)."""
    return {key: result[key] for key in REPORT_RUN_KEYS if key in result}


def bootstrap_mean_ci(values: Sequence[float],
                      num_boot: int = 10000,
                      seed: int = 0,
                      level: float = 0.95) -> Tuple[float, float]:
    """Percentile-bootstrap interval of the mean of ``values``.

    Args:
        values (Sequence[float]): Per-seed values (e.g. paired differences),
            at least 2.
        num_boot (int): Bootstrap resamples. Defaults to 10000.
        seed (int): Seed of the resampling (``numpy.random.default_rng``).
            Defaults to 0.
        level (float): Coverage. Defaults to 0.95.

    Returns:
        tuple[float, float]: The lower and upper bound.
    """
    values = np.asarray(values, np.float64)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError('the bootstrap needs at least 2 values, got '
                         f'{values.tolist()}')
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(values), size=(num_boot, len(values)))
    means = values[index].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


def _mean_tse_kept(runs: Sequence[Dict]) -> Dict[str, float]:
    """Mean over runs of each class's kept share (``tse_classes``)."""
    kept = [
        r['tse_classes']['kept'] for r in runs
        if (r.get('tse_classes') or {}).get('kept')
    ]
    if not kept:
        return {}
    return {c: float(np.mean([k[c] for k in kept if c in k])) for c in kept[0]}


def summarize(results: Sequence[Dict],
              pairs: Sequence[Tuple[str,
                                    str]] = (('rdd', 'kd'), ('kd', 'student'),
                                             ('rdd', 'student'),
                                             ('rdd-keep', 'rdd'), ('rdd-keep',
                                                                   'kd')),
              num_boot: int = 10000,
              boot_seed: int = 0) -> Dict:
    """Mean +- std per variant and paired per-seed differences.

    Args:
        results (Sequence[dict]): Per-run results (``variant``, ``seed``,
            ``mIoU``, ``per_class``).
        pairs (Sequence[tuple[str, str]]): ``(a, b)`` pairs whose per-seed
            difference ``a - b`` is reported, when both ran. Defaults to
            RDD - KD, KD - student, RDD - student, and our option that
            keeps starved classes against RDD and KD.
        num_boot (int): Bootstrap resamples. Defaults to 10000.
        boot_seed (int): Seed of the bootstrap. Defaults to 0.

    Returns:
        dict: ``variants`` {variant: {name, n, seeds, mIoU, mean, std,
        per_class_mean, val_curve, tse_kept_mean}} (``std`` with ddof 1;
        ``val_curve``: [iteration, mean val mIoU, number of runs] where runs
        have one; ``tse_kept_mean``: {class: mean over the runs of the kept
        share of :func:`_tse_classes`}, empty without TSE)
        and ``paired`` {"a-b": {seeds, diffs, mean, std, ci95, wins,
        num_boot, boot_seed, per_class}}, ``per_class`` {class: {diffs,
        mean, ci95}} the same for each class's IoU (``mean`` NaN and
        ``ci95`` None when a run has no IoU for the class).
    """
    by = {}
    for r in results:
        by.setdefault(r['variant'], {})[int(r['seed'])] = r
    variants = {}
    for variant, runs in by.items():
        seeds = sorted(runs)
        miou = [runs[s]['mIoU'] for s in seeds]
        classes = list(runs[seeds[0]]['per_class'])
        curves = {}
        for s in seeds:
            for step, value in runs[s].get('val_curve') or []:
                curves.setdefault(int(step), []).append(value)
        variants[variant] = dict(
            val_curve=[[step, float(np.mean(v)),
                        len(v)] for step, v in sorted(curves.items())],
            name=runs[seeds[0]].get('name', variant),
            n=len(seeds),
            seeds=seeds,
            mIoU=miou,
            mean=float(np.mean(miou)),
            std=float(np.std(miou, ddof=1)) if len(miou) > 1 else 0.0,
            per_class_mean={
                c: float(np.nanmean([runs[s]['per_class'][c] for s in seeds]))
                for c in classes
            },
            tse_kept_mean=_mean_tse_kept([runs[s] for s in seeds]))
    paired = {}
    for a, b in pairs:
        if a not in by or b not in by:
            continue
        seeds = sorted(set(by[a]) & set(by[b]))
        diffs = [by[a][s]['mIoU'] - by[b][s]['mIoU'] for s in seeds]
        entry = dict(
            seeds=seeds,
            diffs=diffs,
            mean=float(np.mean(diffs)) if diffs else float('nan'),
            std=float(np.std(diffs, ddof=1)) if len(diffs) > 1 else 0.0,
            wins=int(sum(d > 0 for d in diffs)),
            num_boot=num_boot,
            boot_seed=boot_seed,
            ci95=None)
        if len(diffs) >= 2:
            entry['ci95'] = list(bootstrap_mean_ci(diffs, num_boot, boot_seed))
        entry['per_class'] = {}
        for c in (by[a][seeds[0]]['per_class'] if seeds else {}):
            d = [
                by[a][s]['per_class'][c] - by[b][s]['per_class'][c]
                for s in seeds
            ]
            finite = bool(np.isfinite(d).all())
            entry['per_class'][c] = dict(
                diffs=d,
                mean=float(np.mean(d)) if finite else float('nan'),
                ci95=list(bootstrap_mean_ci(d, num_boot, boot_seed))
                if finite and len(d) >= 2 else None)
        paired[f'{a}-{b}'] = entry
    return dict(variants=variants, paired=paired)


def format_summary(summary: Dict) -> str:
    """A plain-text table of :func:`summarize`'s output."""
    lines = [
        f'{"variant":<18} {"n":>2} {"mean":>7} {"std":>6}  per seed', '-' * 60
    ]
    for variant, v in summary['variants'].items():
        per = ' '.join(f'{x:5.2f}' for x in v['mIoU'])
        lines.append(f'{v["name"]:<18} {v["n"]:>2} {v["mean"]:7.2f} '
                     f'{v["std"]:6.2f}  {per}')
    for variant, v in summary['variants'].items():
        if v.get('val_curve'):
            lines.append(f'val-split curve of {v["name"]} (iteration: mean '
                         'mIoU): ' +
                         ', '.join(f'{step}: {m:.2f}'
                                   for step, m, _ in v['val_curve']))
    for key, p in summary['paired'].items():
        ci = ('[{:+.2f}, {:+.2f}]'.format(
            *p['ci95']) if p['ci95'] else '(n < 2)')
        lines.append(f'paired {key:<11} mean {p["mean"]:+.2f}, '
                     f'95% bootstrap CI {ci}, higher in {p["wins"]} of '
                     f'{len(p["diffs"])} seeds')
        if p.get('per_class'):
            lines.append('  per class (mean IoU difference): ' +
                         ', '.join(f'{c} {v["mean"]:+.2f}'
                                   for c, v in p['per_class'].items()))
    return '\n'.join(lines)


def seeds_report(results: Sequence[Dict], summary: Dict,
                 teacher: Optional[Dict], settings: Dict,
                 command: str) -> Dict:
    """What the seeds tool writes as JSON (small enough to commit).

    Args:
        results (Sequence[dict]): The runs (:func:`run_variant`'s results).
        summary (dict): :func:`summarize` of them.
        teacher (dict, optional): The teacher's source, SHA-256 and test
            scores; None when no variant distils.
        settings (dict): The tool's settings.
        command (str): The command line that made the report.

    Returns:
        dict: ``command``, ``date`` (UTC), ``environment`` (torch, Python,
        CPU count), ``settings``, ``teacher``, ``runs`` (each run's
        :data:`REPORT_RUN_KEYS`), ``variants`` and ``paired``.
    """
    import datetime
    import platform

    import torch
    return dict(
        command=command,
        date=datetime.datetime.now(
            datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
        environment=dict(
            torch=torch.__version__,
            python=platform.python_version(),
            machine=platform.machine(),
            cpu_count=os.cpu_count()),
        settings=settings,
        teacher=teacher,
        runs=[report_run(r) for r in results],
        **summary)


def format_markdown(report: Dict) -> str:
    """The seeds tool's JSON as Markdown tables (the docs' tables).

    Args:
        report (dict): :func:`seeds_report`'s output.

    Returns:
        str: A per-seed table of the variants' test mIoU (with the first
        paired difference per seed and mean +- std), then the paired
        differences with their bootstrap intervals.
    """
    variants = report['variants']
    names = [v['name'] for v in variants.values()]
    first = next(iter(report['paired']), None)
    head = ['seed'] + names + ([_pair_label(first, variants)] if first else [])
    lines = [
        '| ' + ' | '.join(head) + ' |', '| --- |' + ' ---: |' * (len(head) - 1)
    ]
    seeds = sorted({s for v in variants.values() for s in v['seeds']})
    for seed in seeds:
        cells = [str(seed)]
        for v in variants.values():
            cells.append(f'{v["mIoU"][v["seeds"].index(seed)]:.2f}' if seed in
                         v['seeds'] else '-')
        if first:
            p = report['paired'][first]
            cells.append(f'{p["diffs"][p["seeds"].index(seed)]:+.2f}'
                         if seed in p['seeds'] else '-')
        lines.append('| ' + ' | '.join(cells) + ' |')
    cells = ['mean ± std'] + [
        f'{v["mean"]:.2f} ± {v["std"]:.2f}' for v in variants.values()
    ]
    if first:
        p = report['paired'][first]
        cells.append(f'{p["mean"]:+.2f} ± {p["std"]:.2f}')
    lines += ['| ' + ' | '.join(cells) + ' |', '']
    lines += [
        '| comparison | mean | 95% interval | ahead in |',
        '| --- | ---: | --- | ---: |'
    ]
    for key, p in report['paired'].items():
        ci = ('[{:+.2f}, {:+.2f}]'.format(
            *p['ci95']) if p['ci95'] else '(n < 2)')
        lines.append(f'| {_pair_label(key, variants)} | {p["mean"]:+.2f} '
                     f'| {ci} | {p["wins"]} of {len(p["diffs"])} |')
    return '\n'.join(lines)


def pair_names(key: str, variants: Dict) -> Tuple[str, str]:
    """The names of the two variants of a paired key of :func:`summarize`
    (``rdd-kd`` -> ``('RDD + pixel KD', 'pixel KD')``; variant keys may
    hold ``-`` themselves)."""
    for a in variants:
        b = key[len(a) + 1:]
        if key.startswith(a + '-') and b in variants:
            return variants[a]['name'], variants[b]['name']
    raise KeyError(f'{key!r} is not <variant>-<variant> of {list(variants)}')


def _pair_label(key: str, variants: Dict) -> str:
    """``RDD + pixel KD − pixel KD`` for ``rdd-kd``."""
    return ' − '.join(pair_names(key, variants))
