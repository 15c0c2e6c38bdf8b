# Copyright (c) mmrdd contributors. All rights reserved.
"""The main job on the toy data set (``make demo``, ``tools/demo.py``).

:func:`run_demo` generates the data, takes the committed teacher (or trains
one), trains the student alone, with pixel KD and with RDD + pixel KD for one
seed at once (the runs of that seed of :mod:`mmrdd_lab.seeds`, same code
path), scores every run on the test split, draws the summary figure and
RDD's difficulty maps, and prints the table. Beside it, it prints the
multi-seed verdict read from the seeds tool's JSON (:data:`SEEDS_RESULT`),
as measured earlier with the command recorded there, and says whether this
run has the settings of one of its seeds (:func:`verdict_lines`).
"""
import argparse
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config

from mmrdd.datasets import generate_toy_dataset
from mmrdd.models.distillers import reference_switch_iter
from .demo_summary import plot_demo_summary
from .evaluate import evaluate_segmentor
from .fingerprint import fingerprint_changes, read_json, write_json
from .seeds import (DEFAULT_VARIANTS, VARIANTS, pair_names, report_run,
                    run_seeds)
from .toy_teacher import TEACHER_CFG, choose_teacher
from .train_runs import (REPO_ROOT, last_checkpoint, make_progress,
                         toy_data_sizes)

#: The seeds tool's JSON whose verdict the demo prints (committed).
SEEDS_RESULT = 'docs/results/seeds_toy.json'


def format_table(rows: List[Dict], classes: List[str]) -> str:
    """A fixed-width table: run, mIoU, per-class IoU, wall time."""
    abbrev = [c[:6] for c in classes]
    head = f'{"run":<16} {"mIoU":>6} ' + ' '.join(
        f'{a:>6}' for a in abbrev) + f' {"time":>7}'
    lines = [head, '-' * len(head)]
    for row in rows:
        per = ' '.join(f'{row["per_class"][c]:6.1f}' for c in classes)
        wall = f'{row["time_s"]:6.0f}s' if row.get('time_s') else '      -'
        lines.append(f'{row["name"]:<16} {row["mIoU"]:6.2f} {per} {wall}')
    return '\n'.join(lines)


def _interval(paired: Dict) -> str:
    """``+0.73, 95% bootstrap CI [-0.14, +1.50], ahead in 4 of 5 seeds``."""
    ci = ('95% bootstrap CI [{:+.2f}, {:+.2f}]'.format(
        *paired['ci95']) if paired.get('ci95') else 'no interval (n < 2)')
    return (f'{paired["mean"]:+.2f}, {ci}, ahead in {paired["wins"]} of '
            f'{len(paired["diffs"])} seeds')


def verdict_lines(report: Optional[Dict], source: str,
                  results: Sequence[Dict]) -> List[str]:
    """The multi-seed verdict as measured earlier, and how this run relates.

    Args:
        report (dict, optional): The seeds tool's JSON
            (:func:`~mmrdd_lab.seeds.seeds_report`); None when missing.
        source (str): Where the report was read from.
        results (Sequence[dict]): This demo's student runs (with
            ``fingerprint``).

    Returns:
        list[str]: Lines for the console. The report's numbers are printed
        as measured earlier with its command; this run is called one of its
        seeds only when every one of its runs has the fingerprint of that
        seed's run in the report (same config, teacher, initial weights,
        data, options and threads), and its mIoU is then compared with the
        report's.
    """
    if report is None:
        return [
            f'no multi-seed verdict: {source} is missing (written by '
            'python tools/analysis_tools/seeds.py --out ' + source + ')'
        ]
    variants = report['variants']
    seeds = sorted({s for v in variants.values() for s in v['seeds']})
    lines = [
        f'multi-seed verdict, measured earlier ({report["date"]}) with',
        f'    {report["command"]}',
        f'  and read from {source}; test split, seeds '
        f'{" ".join(map(str, seeds))}:'
    ]
    if report.get('teacher'):
        lines.append(f'  teacher {report["teacher"]["mIoU"]:.2f} mIoU; ' +
                     ', '.join(f'{v["name"]} {v["mean"]:.2f} +- '
                               f'{v["std"]:.2f}' for v in variants.values()))
    for key, paired in report['paired'].items():
        a, b = pair_names(key, variants)
        lines.append(f'  {a} - {b}, paired: {_interval(paired)}')
    lines.append('  (a property of this toy data set, not of toy problems '
                 'in general: docs/toy_regime.md)')
    lines += _this_run(report, results)
    return lines


def _this_run(report: Dict, results: Sequence[Dict]) -> List[str]:
    """Whether this demo's runs are those of one seed of the report."""
    runs = {(r['seed'], r['variant']): r for r in report['runs']}
    seed = results[0]['seed']
    changes = []
    for r in results:
        earlier = runs.get((seed, r['variant']))
        if earlier is None:
            changes.append(f'{r["name"]}: seed {seed} is not in it')
            continue
        changes += [
            f'{r["name"]}: {c}' for c in fingerprint_changes(
                earlier.get('fingerprint'), r['fingerprint'])
        ]
    if changes:
        return ['  this run is not part of it: ' + changes[0]
                ] + [f'    {c}' for c in changes[1:]]
    same = [
        f'{r["name"]} {r["mIoU"]:.2f}'
        f'{" (=)" if r["mIoU"] == runs[(seed, r["variant"])]["mIoU"] else ""}'
        for r in results
    ]
    equal = all(r['mIoU'] == runs[(seed, r['variant'])]['mIoU']
                for r in results)
    verdict = ('identical to it' if equal else
               'not identical (another CPU gives other float sums)')
    return [
        f'  this run has the settings of its seed {seed} (same configs, '
        'teacher, initial weights, data, options, threads); its mIoU is ' +
        verdict + ': ' + ', '.join(same)
    ]


def run_demo(args: argparse.Namespace) -> None:
    """Run the whole pipeline and print the table.

    Args:
        args (argparse.Namespace): The options of ``tools/demo.py``: those of
            :func:`~mmrdd_lab.train_runs.add_toy_run_arguments` and
            ``seed``, ``rerun``, ``num_vis``.
    """
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    clock = _PhaseClock()
    meta = generate_toy_dataset(args.data_root, **toy_data_sizes(args))
    clock.phase('data')
    print(
        f'[demo] toy data set in {args.data_root}: {meta["num_train"]} '
        f'train, {meta["num_val"]} val, {meta["num_test"]} test images '
        f'(the table is on test)',
        flush=True)
    num_runs = len(DEFAULT_VARIANTS) + 1
    labels = {(args.seed, v): f'run {k}/{num_runs} {VARIANTS[v][0]}'
              for k, v in enumerate(DEFAULT_VARIANTS, 2)}
    with make_progress() as progress:
        teacher = choose_teacher(args, work_dir, progress,
                                 f'run 1/{num_runs} teacher')
        progress.console.print(
            f'[demo] run 1/{num_runs}: {teacher["note"]}', highlight=False)
        clock.phase('teacher')
        results = run_seeds([args.seed],
                            work_dir,
                            args.data_root,
                            teacher['checkpoint'],
                            DEFAULT_VARIANTS,
                            args.iters,
                            args.jobs,
                            args.threads,
                            args.cfg_options,
                            reuse=not args.rerun,
                            progress=progress,
                            labels=labels)
    clock.phase('students')
    scores = evaluate_segmentor(
        TEACHER_CFG,
        teacher['checkpoint'],
        args.data_root,
        split='test_dataloader')
    rows = [dict(name='teacher', time_s=teacher['time_s'], **scores)]
    rows += [{
        k: r[k]
        for k in ('name', 'time_s', 'mIoU', 'per_class', 'aAcc', 'num_images')
    } for r in results]
    clock.phase('teacher_score')
    run_dirs = {r['name']: r['run_dir'] for r in results}
    if teacher['time_s'] is not None:
        run_dirs['teacher'] = osp.join(work_dir, 'teacher')

    vis_dir = _draw_difficulty(results[-1], teacher['checkpoint'],
                               args.data_root, work_dir, args.num_vis)
    classes = list(rows[0]['per_class'])
    table = format_table(rows, classes)
    iters = args.iters or _config_iters(VARIANTS['rdd'][1])
    summary_png = plot_demo_summary(
        rows,
        classes,
        run_dirs,
        osp.join(work_dir, 'summary.png'),
        switch_iter=reference_switch_iter(iters),
        title=f'toy demo, seed {args.seed}, {iters} iterations per student '
        'run, test split')
    clock.phase('pictures')
    report = read_json(osp.join(REPO_ROOT, SEEDS_RESULT))
    verdict = verdict_lines(report, SEEDS_RESULT, results)
    write_json(
        osp.join(work_dir, 'results.json'),
        dict(
            command='python tools/demo.py ' + shlex.join(sys.argv[1:]),
            rows=rows,
            classes=classes,
            seed=args.seed,
            iters=iters,
            split='test',
            teacher={
                k: teacher[k]
                for k in ('source', 'file_sha256', 'time_s')
            },
            runs=[report_run(r) for r in results],
            phases_s=clock.phases,
            total_s=clock.total()))
    with open(osp.join(work_dir, 'results.txt'), 'w') as f:
        f.write(table + '\n')
    print(f'\n[demo] test-split results, seed {args.seed} (per-class IoU '
          f'in %):\n' + table)
    print('\n' + '\n'.join('[demo] ' + line for line in verdict))
    print(f'\n[demo] summary figure: {summary_png}')
    print(f'[demo] difficulty maps: {vis_dir}')
    print(f'[demo] total {clock.total():.0f}s (' +
          ', '.join(f'{k} {v:.0f}s' for k, v in clock.phases.items()) +
          f'); everything is in {work_dir}')


class _PhaseClock:
    """Wall time of the demo's phases (``phases``: name -> seconds)."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.phases: Dict[str, float] = {}

    def phase(self, name: str) -> None:
        """Close the phase that ran since the last call as ``name``."""
        now = time.perf_counter()
        self.phases[name] = now - self.last
        self.last = now

    def total(self) -> float:
        """Seconds since the clock was made."""
        return time.perf_counter() - self.start


def _draw_difficulty(rdd: Dict, teacher_ckpt: str, data_root: str,
                     work_dir: str, num_vis: int) -> str:
    """RDD's difficulty maps of the first ``num_vis`` test images, drawn by
    ``tools/analysis_tools/visualize_difficulty.py``; returns their
    folder."""
    vis_dir = osp.join(work_dir, 'difficulty')
    os.makedirs(vis_dir, exist_ok=True)
    test_dir = osp.join(data_root, 'img_dir', 'test')
    images = [
        osp.join(test_dir, i) for i in sorted(os.listdir(test_dir))[:num_vis]
    ]
    tool = osp.join(REPO_ROOT, 'tools', 'analysis_tools',
                    'visualize_difficulty.py')
    cmd = [
        sys.executable, tool, VARIANTS['rdd'][1],
        _final_checkpoint(rdd['run_dir']), '--teacher-ckpt', teacher_ckpt,
        '--images', *images, '--out-dir', vis_dir
    ]
    with open(osp.join(vis_dir, 'visualize.log'), 'w') as log:
        subprocess.run(
            cmd,
            cwd=REPO_ROOT,
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT)
    return vis_dir


def _final_checkpoint(run_dir: str) -> str:
    """The final (distillation) checkpoint of a run, looked up in
    ``run_dir`` by name (a reused run may have been trained elsewhere)."""
    return osp.join(run_dir, osp.basename(last_checkpoint(run_dir)))


def _config_iters(config: str) -> int:
    """``train_cfg.max_iters`` of a config."""
    return int(Config.fromfile(config).train_cfg.max_iters)
