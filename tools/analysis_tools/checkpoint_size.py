# Copyright (c) mmrdd contributors. All rights reserved.
"""How much of a distillation checkpoint is the frozen teacher.

    python tools/analysis_tools/checkpoint_size.py [CONFIG ...]
        [--checkpoint FILE ...] [--out sizes.json]

For each CONFIG the model is built without loading any weights (no
download) and its checkpoint body (state dict + SGD momentum) is serialised
with and without the teacher; for each FILE, the file's size and its
teacher's bytes. See :mod:`mmrdd_lab.checkpoint_size`.
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import Config

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the repository (mmrdd from a clone) and tools/ (the lab, mmrdd_lab)
sys.path[:0] = [osp.dirname(TOOLS), TOOLS]
import mmrdd  # noqa: F401,E402
import mmrdd_lab.checkpoint_size as sizes  # noqa: E402
from mmrdd.runtime import config_file  # noqa: E402


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='*', help='distillation configs')
    parser.add_argument(
        '--checkpoint', nargs='*', default=[], help='checkpoint files')
    parser.add_argument('--out', help='write the sizes as JSON here')
    return parser.parse_args()


def main() -> None:
    """Measure and print (and write) the sizes."""
    args = parse_args()
    found = dict(configs={}, checkpoints={})
    for config in args.configs:
        model = sizes.build_model(Config.fromfile(config_file(config)))
        found['configs'][config] = sizes.model_checkpoint_bytes(model)
        del model
    for path in args.checkpoint:
        found['checkpoints'][path] = sizes.checkpoint_file_bytes(path)
    text = json.dumps(found, indent=2)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')


if __name__ == '__main__':
    main()
