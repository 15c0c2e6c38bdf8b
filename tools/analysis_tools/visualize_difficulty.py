# Copyright (c) mmrdd contributors. All rights reserved.
"""Render what RDD sees for a few images, as PNG files.

    python tools/analysis_tools/visualize_difficulty.py CONFIG CHECKPOINT \
        --images a.png b.png
    python tools/analysis_tools/visualize_difficulty.py CONFIG TEACHER.pth \
        STUDENT.pth --images a.png --labels a_label.png --out-dir vis/

CONFIG is an RDD distillation config. One checkpoint: a distillation
checkpoint; its teacher comes from ``--teacher-ckpt`` (default: the config's
``model.teacher_ckpt``), as in training, where checkpoints do not hold the
frozen teacher (one that does is loaded whole), and must be the teacher the run
recorded (its sha256). Two: a teacher and a student checkpoint (plain MMSeg, or
the student of a distillation checkpoint). Each image gives
``<out-dir>/<name>_rdd.png`` with, left to right: the image, the ground truth,
the teacher's and the student's predictions, the TFE difficulty ``1 - w``
(bright = down-weighted in stage 1) and the TSE mask (red: hard for the student
only, blue: hard for the teacher only, both kept by XOR; grey: hard for both,
dropped; dark: ignored). Labels default to the MMSeg layout (``img_dir`` ->
``ann_dir``, same file name with the seg-map suffix).
"""
import argparse
import os
import os.path as osp

import cv2
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmrazor.registry import MODELS
from mmseg.registry import DATASETS

import mmrdd  # noqa: F401
from mmrdd.runtime import load_checkpoint_strict
from mmrdd.runtime import load_weights as load_student
from mmrdd.runtime import read_checkpoint, state_dict_sha256
from mmrdd.runtime.run_fingerprint import META_KEY, TEACHER_PREFIX
from mmrdd.runtime.weights import load_strictly, state_dict_of
from mmrdd.visualization import difficulty_maps, difficulty_panel


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='RDD distillation config')
    parser.add_argument(
        'checkpoints',
        nargs='+',
        help='distillation checkpoint, or TEACHER STUDENT')
    parser.add_argument(
        '--teacher-ckpt',
        help='the teacher of a one-checkpoint call (default: the '
        "config's model.teacher_ckpt)")
    parser.add_argument('--images', nargs='+', required=True)
    parser.add_argument('--labels', nargs='+', help='label maps (PNG)')
    parser.add_argument('--out-dir', default='work_dirs/rdd_visualization')
    parser.add_argument(
        '--min-kept',
        type=int,
        help='TSE min_kept per image (default: the config value divided by '
        'the training batch size, i.e. one image\'s share)')
    parser.add_argument(
        '--scale', type=int, default=2, help='upscaling of the tiles')
    return parser.parse_args()


def load_weights(model, checkpoints, teacher_ckpt=None) -> None:
    """Load one distillation checkpoint (and the teacher from
    ``teacher_ckpt``), or a teacher and a student one."""
    if len(checkpoints) == 1:
        checkpoint = read_checkpoint(checkpoints[0], 'distillation')
        state = state_dict_of(checkpoint)
        if any(k.startswith(TEACHER_PREFIX) for k in state):  # self-contained
            load_strictly(model, state, checkpoints[0], 'distillation',
                          'distillation model')
            return
        if not teacher_ckpt:
            raise ValueError(
                f'{checkpoints[0]} holds no teacher (training saves it '
                'without the frozen teacher): give the teacher it was '
                'trained with, --teacher-ckpt PATH.')
        load_checkpoint_strict(model.teacher, teacher_ckpt, 'teacher')
        recorded = ((checkpoint.get('meta') or {}).get(META_KEY)
                    or {}).get('teacher') or {}
        sha = state_dict_sha256(model.teacher.state_dict())
        if recorded.get('sha256') not in (None, sha):
            raise ValueError(
                f'--teacher-ckpt {teacher_ckpt} is not the teacher that '
                f'{checkpoints[0]} was trained with (sha256 {sha[:12]}, '
                f'the run recorded {recorded["sha256"][:12]}, '
                f'{recorded.get("ckpt")}): give that file.')
        load_student(model, checkpoint, checkpoints[0], 'distillation')
        return
    if len(checkpoints) != 2:
        raise ValueError('give one distillation checkpoint or TEACHER '
                         f'STUDENT checkpoints, got {len(checkpoints)}')
    load_checkpoint_strict(model.teacher, checkpoints[0], 'teacher')
    # a student, raw distillation or segmentor checkpoint, loaded strictly
    student = read_checkpoint(checkpoints[1], 'student')
    load_student(model.student, student, checkpoints[1], 'student')


def label_path(image: str, suffix: str) -> str:
    """The MMSeg-layout label of ``image`` (img_dir -> ann_dir)."""
    parts = image.split(os.sep)
    if 'img_dir' not in parts:
        raise ValueError(f'cannot infer the label of {image}: pass --labels')
    parts[len(parts) - 1 - parts[::-1].index('img_dir')] = 'ann_dir'
    return osp.splitext(os.sep.join(parts))[0] + suffix


def main() -> None:
    """Render one panel per image."""
    args = parse_args()
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = cfg.model.copy()
    teacher_ckpt = args.teacher_ckpt or model_cfg.get('teacher_ckpt')
    model_cfg['teacher_ckpt'] = None  # loaded below, with the checks
    model = MODELS.build(model_cfg)
    load_weights(model, args.checkpoints, teacher_ckpt)
    model.eval()

    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cls = DATASETS.get(dataset_cfg.type)
    palette = dataset_cls.METAINFO['palette']
    suffix = dataset_cfg.get('seg_map_suffix',
                             getattr(dataset_cls, 'seg_map_suffix', '.png'))
    pipeline = Compose(dataset_cfg.pipeline)
    labels = args.labels or [label_path(p, suffix) for p in args.images]
    if len(labels) != len(args.images):
        raise ValueError('give one --labels entry per image')
    min_kept = args.min_kept or max(
        1, model.distiller.tse.min_kept //
        cfg.train_dataloader.get('batch_size', 1))
    ignore = model.distiller.head_specs[
        model.distiller.student_main].ignore_index
    os.makedirs(args.out_dir, exist_ok=True)
    for image_path, label_file in zip(args.images, labels):
        data = pipeline(
            dict(
                img_path=image_path,
                seg_map_path=label_file,
                reduce_zero_label=dataset_cfg.get('reduce_zero_label', False),
                seg_fields=[]))
        batch = model.data_preprocessor(
            dict(inputs=[data['inputs']], data_samples=[data['data_samples']]),
            False)
        label = batch['data_samples'][0].gt_sem_seg.data.to(torch.long)
        maps = difficulty_maps(model, batch['inputs'], label, min_kept)
        gt = label[0].numpy()
        image = cv2.cvtColor(cv2.imread(image_path), cv2.COLOR_BGR2RGB)
        image = cv2.resize(image, gt.shape[::-1])
        panel = difficulty_panel(
            maps,
            image,
            gt,
            palette,
            ignore,
            scale=args.scale,
            classes=dataset_cls.METAINFO.get('classes'))
        out = osp.join(args.out_dir,
                       osp.splitext(osp.basename(image_path))[0] + '_rdd.png')
        cv2.imwrite(out, cv2.cvtColor(panel, cv2.COLOR_RGB2BGR))
        frac = maps['tse_mask'][0][gt != ignore].float().mean().item()
        print(f'{out}: TSE selects {100 * frac:.1f}% of the valid pixels')


if __name__ == '__main__':
    main()
