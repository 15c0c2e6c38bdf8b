# Copyright (c) mmrdd contributors. All rights reserved.
"""The main job on the toy data set (``make demo``, ``tools/demo.py``).

:func:`run_demo` generates the data, trains (or reuses) the teacher, trains
the student alone, with pixel KD and with RDD + pixel KD for one seed (the
runs of that seed of :mod:`mmrdd_lab.seeds`), scores every run on the test
split, draws the summary figure and RDD's difficulty maps, and prints the
table beside :data:`MULTI_SEED_VERDICT`.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List

from mmengine.config import Config

from mmrdd.datasets import generate_toy_dataset
from mmrdd.models.distillers import reference_switch_iter
from .demo_summary import plot_demo_summary
from .evaluate import evaluate_segmentor
from .seeds import (DEFAULT_VARIANTS, TEACHER_CFG, VARIANTS, init_checkpoint,
                    run_variant, train_teacher)
from .train_runs import (REPO_ROOT, last_checkpoint, make_progress,
                         teacher_iters, toy_data_sizes)

#: What ``tools/analysis_tools/seeds.py`` measured on 5 seeds (README,
#: "Over seeds"); printed beside the one-seed table.
MULTI_SEED_VERDICT = """\
multi-seed verdict (README, "Over seeds"), measured with
    python tools/analysis_tools/seeds.py --seeds 0 1 2 3 4
  on the test split, 5 seeds (this demo's run is seed 0 of it):
  student alone 54.94 +- 1.42, pixel KD 57.51 +- 1.02,
  RDD + pixel KD 58.25 +- 0.61 mIoU.
  RDD + KD - pixel KD, paired: +0.73, 95% bootstrap CI [-0.14, +1.50],
  ahead in 4 of 5 seeds: not significant at 5 seeds. Both distillations
  beat the student alone in every seed (pixel KD +2.57 [+1.89, +3.07],
  RDD + KD +3.30 [+2.06, +4.41]). One seed is one draw from this spread."""


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


def run_demo(args: argparse.Namespace) -> None:
    """Run the whole pipeline and print the table.

    Args:
        args (argparse.Namespace): The options of ``tools/demo.py``: those of
            :func:`~mmrdd_lab.train_runs.add_toy_run_arguments` and
            ``seed``, ``retrain_teacher``, ``rerun``, ``num_vis``.
    """
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    start = time.perf_counter()
    meta = generate_toy_dataset(args.data_root, **toy_data_sizes(args))
    print(
        f'[demo] toy data set in {args.data_root}: {meta["num_train"]} '
        f'train, {meta["num_val"]} val, {meta["num_test"]} test images '
        f'(the table is on test)',
        flush=True)
    extra = list(args.cfg_options)
    num_runs = len(DEFAULT_VARIANTS) + 1
    rows, run_dirs = [], {}
    with make_progress() as progress:
        teacher_ckpt, teacher_time = train_teacher(
            work_dir,
            args.data_root,
            teacher_iters(args),
            progress,
            f'run 1/{num_runs} teacher',
            extra=extra,
            retrain=args.retrain_teacher)
        if teacher_time is None:
            progress.console.print(
                f'[demo] run 1/{num_runs}: reusing the teacher '
                f'{teacher_ckpt} (--retrain-teacher to train it again)',
                highlight=False)
        else:
            run_dirs['teacher'] = osp.join(work_dir, 'teacher')
        init = init_checkpoint(args.seed, osp.join(work_dir, 'init'))
        results = []
        for k, variant in enumerate(DEFAULT_VARIANTS, 2):
            name = VARIANTS[variant][0]
            result = run_variant(
                variant,
                args.seed,
                osp.join(work_dir, f'seed{args.seed}', variant),
                init,
                args.data_root,
                teacher_ckpt,
                args.iters,
                progress,
                f'run {k}/{num_runs} {name}',
                extra=extra,
                reuse=not args.rerun)
            results.append(result)
            run_dirs[name] = result['run_dir']
    teacher = evaluate_segmentor(
        TEACHER_CFG, teacher_ckpt, args.data_root, split='test_dataloader')
    rows.append(dict(name='teacher', time_s=teacher_time, **teacher))
    for r in results:
        rows.append({
            k: r[k]
            for k in ('name', 'time_s', 'mIoU', 'per_class', 'aAcc',
                      'num_images')
        })

    vis_dir = osp.join(work_dir, 'difficulty')
    os.makedirs(vis_dir, exist_ok=True)
    rdd = results[-1]
    test_dir = osp.join(args.data_root, 'img_dir', 'test')
    images = [
        osp.join(test_dir, i)
        for i in sorted(os.listdir(test_dir))[:args.num_vis]
    ]
    tool = osp.join(REPO_ROOT, 'tools', 'analysis_tools',
                    'visualize_difficulty.py')
    cmd = [
        sys.executable, tool, VARIANTS['rdd'][1],
        _final_checkpoint(rdd['run_dir']), '--images', *images, '--out-dir',
        vis_dir
    ]
    with open(osp.join(vis_dir, 'visualize.log'), 'w') as log:
        subprocess.run(
            cmd,
            cwd=REPO_ROOT,
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT)

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
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(
            dict(
                rows=rows,
                classes=classes,
                seed=args.seed,
                iters=iters,
                split='test'),
            f,
            indent=2)
    with open(osp.join(work_dir, 'results.txt'), 'w') as f:
        f.write(table + '\n')
    print(f'\n[demo] test-split results, seed {args.seed} (per-class IoU '
          f'in %):\n' + table)
    print('\n[demo] ' + MULTI_SEED_VERDICT.replace('\n', '\n[demo] '))
    print(f'\n[demo] summary figure: {summary_png}')
    print(f'[demo] difficulty maps: {vis_dir}')
    print(f'[demo] total {time.perf_counter() - start:.0f}s; everything is '
          f'in {work_dir}')


def _final_checkpoint(run_dir: str) -> str:
    """The final (distillation) checkpoint of a run, looked up in
    ``run_dir`` by name (a reused run may have been trained elsewhere)."""
    return osp.join(run_dir, osp.basename(last_checkpoint(run_dir)))


def _config_iters(config: str) -> int:
    """``train_cfg.max_iters`` of a config."""
    return int(Config.fromfile(config).train_cfg.max_iters)
