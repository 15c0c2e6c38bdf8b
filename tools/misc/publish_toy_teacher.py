# Copyright (c) mmrdd contributors. All rights reserved.
"""Publish a trained toy teacher as the repository's committed teacher.

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python tools/train.py \\
        configs/toy/deeplabv3_toy-r50-d8_1xb8-4k_toyseg-96x96.py \\
        --work-dir work_dirs/demo/teacher
    python tools/misc/publish_toy_teacher.py \\
        work_dirs/demo/teacher/iter_4000.pth [--data-root data/toyseg]

writes its float16 weights to ``checkpoints/toy/`` and their manifest (the
SHA-256 the demo checks, size, the commands, the teacher's test-split
scores); see :mod:`mmrdd_lab.toy_teacher`.
"""
import argparse
import os.path as osp
import shlex
import sys

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the repository (mmrdd from a clone) and tools/ (the lab, mmrdd_lab)
sys.path[:0] = [osp.dirname(TOOLS), TOOLS]


def main() -> None:
    """Convert, score and write the manifest."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='the teacher run\'s checkpoint')
    parser.add_argument('--data-root', default='data/toyseg')
    args = parser.parse_args()
    from mmrdd_lab.toy_teacher import PUBLISHED_MANIFEST, publish_teacher
    command = 'python tools/misc/publish_toy_teacher.py ' + shlex.join(
        sys.argv[1:])
    manifest = publish_teacher(
        osp.abspath(args.checkpoint), osp.abspath(args.data_root), command)
    print(f'{manifest["file"]}: {manifest["size_bytes"]} bytes, '
          f'{manifest["num_params"]} parameters, sha256 '
          f'{manifest["sha256"]}; test mIoU {manifest["test"]["mIoU"]:.2f}; '
          f'manifest {PUBLISHED_MANIFEST}')


if __name__ == '__main__':
    main()
