# Copyright (c) OpenMMLab. All rights reserved. Adapted for mmrdd.
"""Strip a distillation checkpoint down to the student, for plain MMSeg.

    mmrdd-convert work_dirs/rdd_.../iter_40000.pth
    mmrdd-test STUDENT_CONFIG work_dirs/rdd_.../iter_40000_student.pth

(from a clone: ``python tools/model_converters/convert_kd_ckpt_to_student.py``
and ``python tools/test.py``, the same :func:`main`).
"""
import argparse
import os
from pathlib import Path

import torch

import mmrdd  # noqa: F401  (safe loading of mmengine checkpoints)
from mmrdd.runtime import kd_to_student_checkpoint, read_checkpoint


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Convert KD checkpoint to student-only checkpoint')
    parser.add_argument('checkpoint', help='input checkpoint filename')
    parser.add_argument('--out-path', help='directory of the output file')
    parser.add_argument(
        '--inplace', action='store_true', help='replace origin ckpt')
    return parser.parse_args()


def main() -> None:
    """Convert and save; print where the student checkpoint went."""
    args = parse_args()
    checkpoint = read_checkpoint(args.checkpoint, 'distillation')
    try:
        student = kd_to_student_checkpoint(checkpoint)
    except KeyError as e:
        raise SystemExit(f'{args.checkpoint}: {e.args[0]}') from None
    if args.inplace:
        out = Path(args.checkpoint)
    else:
        ckpt_path = Path(args.checkpoint)
        out_dir = Path(args.out_path) if args.out_path else ckpt_path.parent
        out_dir.mkdir(parents=True, exist_ok=True)
        out = out_dir / f'{ckpt_path.stem}_student.pth'
    # write beside and rename: an interrupted save (or --inplace) never
    # leaves a half-written file under the final name
    partial = out.with_name(out.name + '.partial')
    torch.save(student, partial)
    os.replace(partial, out)
    print(f'student checkpoint ({len(student["state_dict"])} tensors): {out}')
    if args.inplace:
        # MMEngine's --resume would fail later with KeyError: 'message_hub'
        print(f'{out} was replaced: it no longer holds the training state '
              '(optimizer, message hub, iteration), so --resume cannot '
              'continue the run from it (convert without --inplace to keep '
              'it).')


if __name__ == '__main__':
    main()
