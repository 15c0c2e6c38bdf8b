# Copyright (c) mmrdd contributors. All rights reserved.
"""The main job on the built-in toy data set: RDD end to end, on a CPU.

    python tools/demo.py [--work-dir work_dirs/demo] [--iters N]

1. generates the toy data set (once, deterministic) under ``data/toyseg``;
2. trains the toy teacher (or reuses ``<work-dir>/teacher.pth``);
3. trains the toy student three ways on the same schedule and seed: alone,
   with pixel KD, and with RDD (+ pixel KD);
4. evaluates each on the validation split and prints mIoU, per-class IoU and
   wall time per run, with the teacher's mIoU;
5. renders RDD's difficulty maps for a few validation images.

Everything goes under one work directory, named at the end. The training
runs go through ``tools/train.py`` so MMEngine's log lines show progress.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Dict, List

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(HERE)
sys.path.insert(0, ROOT)

TEACHER_CFG = 'configs/_base_/toy_teacher.py'
STUDENT_CFG = 'configs/_base_/toy_student.py'
RUNS = [  # (name, config) of the student runs
    ('student alone', STUDENT_CFG),
    ('pixel KD', 'configs/rdd/kd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-1k_toyseg-96x96.py'),  # noqa: E501
    ('RDD + pixel KD', 'configs/rdd/rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-1k_toyseg-96x96.py'),  # noqa: E501
]


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/toyseg')
    parser.add_argument('--iters', type=int,
                        help='training iterations of every run (default: '
                        'the configs\'; the RDD switch moves with it)')
    parser.add_argument('--retrain-teacher', action='store_true')
    parser.add_argument('--num-vis', type=int, default=3,
                        help='validation images to visualise')
    parser.add_argument('--num-train', type=int,
                        help='toy training images (default: generator\'s)')
    parser.add_argument('--num-val', type=int,
                        help='toy validation images (default: generator\'s)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='extra --cfg-options for every training run')
    return parser.parse_args()


def train(config: str, work_dir: str, options: List[str]) -> float:
    """Run tools/train.py in a subprocess; return its wall time in s."""
    cmd = [sys.executable, osp.join(HERE, 'train.py'), config, '--work-dir',
           work_dir, '--cfg-options'] + options
    print(f'\n[demo] $ {" ".join(cmd)}', flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True)
    return time.perf_counter() - start


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint MMEngine's CheckpointHook saved last in ``work_dir``."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def schedule_options(args: argparse.Namespace, switch: bool) -> List[str]:
    """--cfg-options for the data root and, optionally, the iterations."""
    opts = [f'{split}.dataset.data_root={args.data_root}'
            for split in ('train_dataloader', 'val_dataloader',
                          'test_dataloader')] + list(args.cfg_options)
    if args.iters:
        opts += [
            f'train_cfg.max_iters={args.iters}',
            f'train_cfg.val_interval={args.iters}',
            f'param_scheduler.0.end={args.iters}',
            f'default_hooks.checkpoint.interval={args.iters}',
        ]
        if switch:
            opts.append(f'model.distiller.switch_iter={args.iters // 10}')
    return opts


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


def main() -> None:
    """Run the whole pipeline and print the table."""
    args = parse_args()
    os.chdir(ROOT)
    from mmrdd.apis import evaluate_segmentor
    from mmrdd.datasets import generate_toy_dataset
    from mmrdd.utils import kd_to_student_checkpoint

    import torch
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    start = time.perf_counter()
    print(f'[demo] toy data set in {args.data_root}', flush=True)
    sizes = {k: v for k, v in (('num_train', args.num_train),
                                ('num_val', args.num_val)) if v}
    generate_toy_dataset(args.data_root, **sizes)

    teacher_ckpt = osp.join(work_dir, 'teacher.pth')
    teacher_time = None
    if args.retrain_teacher or not osp.isfile(teacher_ckpt):
        teacher_dir = osp.join(work_dir, 'teacher')
        teacher_time = train(TEACHER_CFG, teacher_dir,
                             schedule_options(args, False))
        shutil.copy(last_checkpoint(teacher_dir), teacher_ckpt)
    else:
        print(f'[demo] reusing the teacher {teacher_ckpt}', flush=True)
    rows = [dict(name='teacher', time_s=teacher_time,
                 **evaluate_segmentor(TEACHER_CFG, teacher_ckpt,
                                      args.data_root))]

    rdd_ckpt = None
    for name, config in RUNS:
        run_dir = osp.join(work_dir, name.replace(' ', '_').replace('+', ''))
        opts = schedule_options(args, 'rdd_' in config)
        if config != STUDENT_CFG:
            opts.append(f'model.teacher_ckpt={teacher_ckpt}')
        wall = train(config, run_dir, opts)
        ckpt = last_checkpoint(run_dir)
        if config != STUDENT_CFG:
            student = osp.join(run_dir, 'student.pth')
            torch.save(kd_to_student_checkpoint(
                torch.load(ckpt, map_location='cpu')), student)
            if 'rdd_' in config:
                rdd_ckpt = ckpt
            ckpt = student
        rows.append(dict(name=name, time_s=wall,
                         **evaluate_segmentor(STUDENT_CFG, ckpt,
                                              args.data_root)))

    vis_dir = osp.join(work_dir, 'difficulty')
    images = sorted(os.listdir(osp.join(args.data_root, 'img_dir', 'val')))
    images = [osp.join(args.data_root, 'img_dir', 'val', i)
              for i in images[:args.num_vis]]
    subprocess.run([
        sys.executable, osp.join(HERE, 'visualize_difficulty.py'),
        RUNS[-1][1], rdd_ckpt, '--images', *images, '--out-dir', vis_dir
    ], cwd=ROOT, check=True)

    classes = list(rows[0]['per_class'])
    table = format_table(rows, classes)
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(dict(rows=rows, classes=classes), f, indent=2)
    with open(osp.join(work_dir, 'results.txt'), 'w') as f:
        f.write(table + '\n')
    print('\n[demo] validation results (per-class IoU in %):\n' + table)
    print(f'\n[demo] difficulty maps: {vis_dir}')
    print(f'[demo] total {time.perf_counter() - start:.0f}s; everything is '
          f'in {work_dir}')


if __name__ == '__main__':
    main()
