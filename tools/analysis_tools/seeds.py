# Copyright (c) mmrdd contributors. All rights reserved.
"""N seeds x {student alone, pixel KD, RDD + KD} on the toy data set.

    python tools/analysis_tools/seeds.py --seeds 0 1 2 3 4 \\
        [--variants student kd rdd] [--jobs 2 --threads 1] \\
        [--work-dir work_dirs/demo] [--out work_dirs/demo/seeds.json]

Every run is the demo's run of that seed (``tools/demo.py --seed S``, same
work directory layout ``<work-dir>/seed{S}/{variant}``, same teacher
``<work-dir>/teacher.pth``, trained first when missing), scored on the
held-out test split; finished runs are reused, so an interrupted comparison
continues and the demo's seed counts as one of them. Prints mean +- std per
variant and the paired per-seed differences (RDD + KD - pixel KD, and each
against the student alone) with a seeded bootstrap 95% interval, and writes
everything, per-run results included, as JSON.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the repository (mmrdd from a clone) and tools/ (the lab, mmrdd_lab)
sys.path[:0] = [osp.dirname(TOOLS), TOOLS]


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    from mmrdd_lab.seeds import DEFAULT_VARIANTS, VARIANTS
    from mmrdd_lab.train_runs import add_toy_run_arguments
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_toy_run_arguments(parser)
    parser.add_argument(
        '--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    parser.add_argument(
        '--variants',
        nargs='+',
        default=list(DEFAULT_VARIANTS),
        choices=sorted(VARIANTS))
    parser.add_argument(
        '--out', help='JSON output (default: '
        '<work-dir>/seeds.json)')
    parser.add_argument(
        '--jobs', type=int, default=2, help='runs trained at once')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='OMP_NUM_THREADS of every training process')
    parser.add_argument(
        '--val-interval',
        type=int,
        help='also validate every N iterations (val split)')
    parser.add_argument('--num-boot', type=int, default=10000)
    parser.add_argument('--boot-seed', type=int, default=0)
    parser.add_argument(
        '--no-reuse', action='store_true', help='train every run again')
    return parser.parse_args()


def main() -> None:
    """Train, score, summarise, write the JSON."""
    args = parse_args()
    from mmrdd.datasets import generate_toy_dataset
    from mmrdd_lab.evaluate import evaluate_segmentor
    from mmrdd_lab.seeds import (TEACHER_CFG, format_summary, is_distill,
                                 run_seeds, summarize, train_teacher)
    from mmrdd_lab.train_runs import teacher_iters, toy_data_sizes

    start = time.perf_counter()
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    generate_toy_dataset(args.data_root, **toy_data_sizes(args))
    extra = list(args.cfg_options)
    teacher_ckpt = teacher_time = None
    if any(is_distill(v) for v in args.variants):  # else: no teacher needed
        teacher_ckpt, teacher_time = train_teacher(
            work_dir,
            args.data_root,
            teacher_iters(args),
            None,
            'teacher',
            threads=None,
            extra=extra)
    results = run_seeds(
        args.seeds,
        work_dir,
        args.data_root,
        teacher_ckpt,
        args.variants,
        args.iters,
        args.jobs,
        args.threads,
        extra,
        reuse=not args.no_reuse,
        val_interval=args.val_interval)
    summary = summarize(
        results, num_boot=args.num_boot, boot_seed=args.boot_seed)
    teacher = {}
    if teacher_ckpt:
        teacher = evaluate_segmentor(
            TEACHER_CFG, teacher_ckpt, args.data_root, split='test_dataloader')
        teacher = dict(checkpoint=teacher_ckpt, time_s=teacher_time, **teacher)
    out = args.out or osp.join(work_dir, 'seeds.json')
    report = dict(
        settings=dict(
            seeds=args.seeds,
            variants=args.variants,
            iters=args.iters,
            jobs=args.jobs,
            threads=args.threads,
            split='test',
            cfg_options=extra,
            data_root=args.data_root),
        teacher=teacher or None,
        runs=results,
        **summary)
    with open(out, 'w') as f:
        json.dump(report, f, indent=2)
    if teacher:
        print(f'\n[seeds] teacher {teacher["mIoU"]:.2f} mIoU (test split)')
    print('[seeds] student runs, test-split mIoU:\n' + format_summary(summary))
    print(f'[seeds] {len(results)} runs in '
          f'{time.perf_counter() - start:.0f}s; JSON: {out}')


if __name__ == '__main__':
    main()
