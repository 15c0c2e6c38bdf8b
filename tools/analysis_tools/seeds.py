# Copyright (c) mmrdd contributors. All rights reserved.
"""N seeds x {student alone, pixel KD, RDD + KD} on the toy data set.

    python tools/analysis_tools/seeds.py --seeds 0 1 2 3 4 \\
        [--variants student kd rdd] [--jobs 2 --threads 1] \\
        [--work-dir work_dirs/demo] [--out work_dirs/demo/seeds.json]
    python tools/analysis_tools/seeds.py --show docs/results/seeds_toy.json

Every run is the demo's run of that seed (``tools/demo.py --seed S``, same
work directory layout ``<work-dir>/seed{S}/{variant}``, same teacher: the
committed one unless ``--teacher-ckpt`` or ``--retrain-teacher``), scored on
the held-out test split. A finished run is reused when its content key
(config, teacher and initial weights, data set, options, threads) is this
run's, so an interrupted comparison continues and the demo's seed counts as
one of them; otherwise it is trained again and the console says why. Prints
mean +- std per variant and the paired per-seed differences (RDD + KD -
pixel KD, and each against the student alone) with a seeded bootstrap 95%
interval, and writes them with the per-run results, the teacher's score and
this command line as JSON. ``--show`` prints a written JSON's tables (plain
and Markdown) without training.
"""
import argparse
import os
import os.path as osp
import shlex
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
        '--val-interval',
        type=int,
        help='also validate every N iterations (val split)')
    parser.add_argument('--num-boot', type=int, default=10000)
    parser.add_argument('--boot-seed', type=int, default=0)
    parser.add_argument(
        '--no-reuse', action='store_true', help='train every run again')
    parser.add_argument(
        '--show',
        metavar='JSON',
        help='print the tables of a JSON this tool wrote, train nothing')
    return parser.parse_args()


def main() -> None:
    """Train, score, summarise, write the JSON."""
    args = parse_args()
    from mmrdd_lab.fingerprint import read_json, write_json
    from mmrdd_lab.seeds import format_markdown, format_summary
    if args.show:
        report = read_json(args.show)
        if report is None:
            raise SystemExit(f'error: {args.show} is not a JSON file')
        print(f'{args.show}: written by\n    {report["command"]}\n'
              f'on {report["date"]}\n' + format_summary(report) + '\n\n' +
              format_markdown(report))
        return
    from mmrdd.datasets import generate_toy_dataset
    from mmrdd_lab.evaluate import evaluate_segmentor
    from mmrdd_lab.seeds import is_distill, run_seeds, seeds_report, summarize
    from mmrdd_lab.toy_teacher import TEACHER_CFG, choose_teacher
    from mmrdd_lab.train_runs import toy_data_sizes

    start = time.perf_counter()
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    generate_toy_dataset(args.data_root, **toy_data_sizes(args))
    extra = list(args.cfg_options)
    teacher = None
    if any(is_distill(v) for v in args.variants):  # else: no teacher needed
        teacher = choose_teacher(args, work_dir)
        print(f'[seeds] teacher: {teacher["note"]}', flush=True)
    results = run_seeds(
        args.seeds,
        work_dir,
        args.data_root,
        teacher and teacher['checkpoint'],
        args.variants,
        args.iters,
        args.jobs,
        args.threads,
        extra,
        reuse=not args.no_reuse,
        val_interval=args.val_interval)
    summary = summarize(
        results, num_boot=args.num_boot, boot_seed=args.boot_seed)
    if teacher:
        scores = evaluate_segmentor(
            TEACHER_CFG,
            teacher['checkpoint'],
            args.data_root,
            split='test_dataloader')
        teacher = dict(
            source=teacher['source'],
            file_sha256=teacher['file_sha256'],
            time_s=teacher['time_s'],
            **scores)
    out = args.out or osp.join(work_dir, 'seeds.json')
    settings = dict(
        seeds=args.seeds,
        variants=args.variants,
        iters=args.iters,
        jobs=args.jobs,
        threads=args.threads,
        split='test',
        cfg_options=extra)
    command = 'python tools/analysis_tools/seeds.py ' + shlex.join(
        sys.argv[1:])
    write_json(
        out, seeds_report(results, summary, teacher, settings,
                          command.strip()))
    if teacher:
        print(f'\n[seeds] teacher {teacher["mIoU"]:.2f} mIoU (test split)')
    print('[seeds] student runs, test-split mIoU:\n' + format_summary(summary))
    print(f'[seeds] {len(results)} runs in '
          f'{time.perf_counter() - start:.0f}s; JSON: {out}')


if __name__ == '__main__':
    main()
