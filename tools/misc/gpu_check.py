# Copyright (c) mmrdd contributors. All rights reserved.
"""The Python steps of ``tools/misc/gpu_check.sh`` (docs/gpu_check.md).

    python tools/misc/gpu_check.py check-wheels DIR
    python tools/misc/gpu_check.py environment --out FILE
    python tools/misc/gpu_check.py train --config CFG --work DIR \\
        --scale {full,tiny}
    python tools/misc/gpu_check.py summary --out OUT --work DIR \\
        --mode {gpu,cpu-dry-run} --started UNIX_TIME
    python tools/misc/gpu_check.py verdict --out OUT

The code is :mod:`mmrdd_lab.gpu_check`; ``check-wheels`` needs only
``packaging`` (it runs before the set-up).
"""
import argparse
import json
import os.path as osp
import sys

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the repository (mmrdd from a clone) and tools/ (the lab, mmrdd_lab)
sys.path[:0] = [osp.dirname(TOOLS), TOOLS]


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    wheels = sub.add_parser(
        'check-wheels', help='is the carried wheel folder complete?')
    wheels.add_argument('folder')
    env = sub.add_parser('environment', help='versions, GPU, CPU as JSON')
    env.add_argument('--out', required=True)
    train = sub.add_parser(
        'train', help='synthetic Cityscapes + a tools/train.py --amp run')
    train.add_argument('--config', required=True)
    train.add_argument('--work', required=True)
    train.add_argument('--scale', choices=['full', 'tiny'], required=True)
    summary = sub.add_parser('summary', help='write OUT/summary.json')
    summary.add_argument('--out', required=True)
    summary.add_argument('--work', required=True)
    summary.add_argument('--mode', required=True)
    summary.add_argument('--started', type=float, required=True)
    verdict = sub.add_parser(
        'verdict', help='print the summary; exit 1 unless all passed')
    verdict.add_argument('--out', required=True)
    return parser.parse_args()


def main() -> None:
    from mmrdd_lab import gpu_check
    args = parse_args()
    if args.command == 'check-wheels':
        problems = gpu_check.check_wheels(args.folder)
        for problem in problems:
            print(f'[gpu_check] {problem}', file=sys.stderr)
        if problems:
            sys.exit(1)
        print(f'[gpu_check] {args.folder}: complete, for CPython 3.12 '
              'x86-64 Linux; every requirement is carried or on the GPU '
              'machine')
    elif args.command == 'environment':
        env = gpu_check.environment()
        print('[gpu_check] ' +
              ', '.join(f'{k} {v}' for k, v in env.items() if v is not None))
        with open(args.out, 'w') as f:
            json.dump(env, f, indent=1)
    elif args.command == 'train':
        gpu_check.run_train(args.config, args.work, args.scale)
    elif args.command == 'summary':
        gpu_check.write_summary(args.out, args.work, args.mode, args.started)
    else:
        with open(osp.join(args.out, 'summary.json')) as f:
            ok, lines = gpu_check.verdict(json.load(f))
        print('\n'.join(lines))
        print(f'[gpu_check] {"PASSED" if ok else "FAILED"}: '
              f'{osp.join(args.out, "summary.json")}')
        sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
