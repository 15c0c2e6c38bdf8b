# Copyright (c) mmrdd contributors. All rights reserved.
"""Write the synthetic ToySeg data set (idempotent).

Example::

    python tools/misc/make_toy_dataset.py --out data/toyseg
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from mmrdd.datasets import generate_toy_dataset  # noqa: E402


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Generate the synthetic ToySeg segmentation data set')
    parser.add_argument(
        '--out', default='data/toyseg', help='output folder (data_root)')
    parser.add_argument(
        '--num-train', type=int, default=600, help='training images')
    parser.add_argument(
        '--num-val', type=int, default=120, help='validation images')
    parser.add_argument(
        '--num-test',
        type=int,
        default=300,
        help='held-out test images (the demo\'s table is on them)')
    parser.add_argument(
        '--size', type=int, default=128, help='side of the square images')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--force',
        action='store_true',
        help='regenerate even if meta.json matches the parameters')
    return parser.parse_args()


def main() -> None:
    """Generate the data set and print a summary."""
    args = parse_args()
    start = time.time()
    meta = generate_toy_dataset(
        args.out,
        num_train=args.num_train,
        num_val=args.num_val,
        num_test=args.num_test,
        size=args.size,
        seed=args.seed,
        force=args.force)
    if meta['skipped']:
        print(f'{args.out}: up to date (meta.json matches), nothing written')
    else:
        print(f'{args.out}: wrote {meta["num_train"]} train + '
              f'{meta["num_val"]} val + {meta["num_test"]} test images '
              f'of {meta["size"]}x'
              f'{meta["size"]} in {time.time() - start:.1f} s')
    for split in ('train', 'val', 'test'):
        pixels = meta['class_pixels'][split]
        total = sum(pixels.values())
        share = ', '.join(f'{name} {100 * n / total:.1f}%'
                          for name, n in pixels.items())
        print(f'  {split}: sha256 {meta["sha256"][split][:16]}  {share}')


if __name__ == '__main__':
    main()
