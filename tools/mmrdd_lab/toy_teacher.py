# Copyright (c) mmrdd contributors. All rights reserved.
"""The toy teacher of the demo and the seeds tool.

By default both use the teacher committed to the repository,
:data:`PUBLISHED_TEACHER`: the weights of the toy DeepLabV3-R50 trained by
:data:`TEACHER_CFG` (4k iterations, one thread), stored in float16 without
optimizer state (``{'state_dict': ..., 'meta': ...}``; the teacher is loaded
into a float32 model, so it runs in float32 with float16-rounded weights).
Its SHA-256 is checked against :data:`PUBLISHED_MANIFEST` before it is
used. ``--retrain-teacher`` trains it here instead, with the same command and
the same conversion (:func:`train_teacher`), and says whether the result
equals the committed file byte for byte.
"""
import argparse
import io
import os
import os.path as osp
import shutil
from typing import Dict, Optional, Sequence, Tuple

from .fingerprint import file_sha256, read_json
from .train_runs import (REPO_ROOT, data_root_options, last_checkpoint,
                         run_training, schedule_options, teacher_iters)

#: The toy teacher's config.
TEACHER_CFG = 'configs/toy/deeplabv3_toy-r50-d8_1xb8-4k_toyseg-96x96.py'
#: The committed teacher (float16 weights) and its manifest (sha256, the
#: command that trained it, its size and score), relative to the repository.
PUBLISHED_TEACHER = ('checkpoints/toy/'
                     'deeplabv3_toy-r50-d8_1xb8-4k_toyseg-96x96_fp16.pth')
PUBLISHED_MANIFEST = 'checkpoints/toy/deeplabv3_toy-r50-d8_1xb8-4k_fp16.json'
#: Threads of the teacher's training process: one, as the committed
#: teacher was trained (CPU results depend on the thread count).
TEACHER_THREADS = 1
#: The command that trained the committed teacher (``tools/demo.py
#: --retrain-teacher`` runs the same, then converts it as
#: :func:`publish_teacher` does).
TRAIN_COMMAND = (f'OMP_NUM_THREADS={TEACHER_THREADS} '
                 f'MKL_NUM_THREADS={TEACHER_THREADS} python tools/train.py '
                 f'{TEACHER_CFG} --work-dir work_dirs/demo/teacher')


def fp16_weights(checkpoint: Dict) -> Dict:
    """The weights of a checkpoint in float16, nothing else.

    Args:
        checkpoint (dict): An MMEngine checkpoint (``state_dict``,
            ``meta``, optimizer state, ...) or a bare state dict.

    Returns:
        dict: ``{'state_dict': ..., 'meta': {'dtype': 'float16'}}``;
        floating-point tensors are rounded to float16, integer buffers
        (BN's ``num_batches_tracked``) are kept as they are.
    """
    import torch
    state_dict = checkpoint.get('state_dict', checkpoint)
    weights = {
        key: (value.detach().to(torch.float16)
              if value.is_floating_point() else value.detach()).cpu().clone()
        for key, value in state_dict.items()
    }
    return dict(state_dict=weights, meta=dict(dtype='float16'))


def save_fp16_weights(src: str, dst: str) -> str:
    """Write the float16 weights of checkpoint ``src`` to ``dst``.

    The bytes depend only on the weights: ``torch.save`` writes to memory
    (its archive is named after the file it writes, so saving to a
    temporary name would change them), then the file is replaced at once.

    Args:
        src (str): An MMEngine checkpoint of the teacher.
        dst (str): The ``.pth`` file to write.

    Returns:
        str: The SHA-256 of the written file.
    """
    import torch

    import mmrdd  # noqa: F401  (MMEngine's checkpoint types, safely loaded)
    buffer = io.BytesIO()
    torch.save(fp16_weights(torch.load(src, map_location='cpu')), buffer)
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp = f'{dst}.tmp{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(buffer.getvalue())
    os.replace(tmp, dst)
    return file_sha256(dst)


def publish_teacher(src: str, data_root: str, command: str) -> Dict:
    """Commit-ready teacher: its float16 weights and their manifest.

    Writes :data:`PUBLISHED_TEACHER` from ``src`` and
    :data:`PUBLISHED_MANIFEST` with the file's SHA-256, size, parameter
    count, the commands that trained and converted it, the data set's
    SHA-256 and the teacher's scores on its test split (float16 weights in
    a float32 model, one thread, as the demo scores it).

    Args:
        src (str): The teacher's last MMEngine checkpoint of
            :data:`TRAIN_COMMAND`.
        data_root (str): The toy data set it was trained on.
        command (str): The command line that publishes it.

    Returns:
        dict: The manifest.
    """
    import datetime

    import torch

    from .evaluate import evaluate_segmentor
    from .fingerprint import dataset_sha256, write_json
    torch.set_num_threads(1)
    path = osp.join(REPO_ROOT, PUBLISHED_TEACHER)
    sha = save_fp16_weights(src, path)
    weights = torch.load(path, map_location='cpu')['state_dict']
    scores = evaluate_segmentor(
        osp.join(REPO_ROOT, TEACHER_CFG), path, data_root, 'test_dataloader')
    manifest = dict(
        file=PUBLISHED_TEACHER,
        sha256=sha,
        size_bytes=osp.getsize(path),
        num_params=sum(v.numel() for k, v in weights.items()
                       if v.is_floating_point() and 'running_' not in k),
        dtype='float16',
        config=TEACHER_CFG,
        trained_with=TRAIN_COMMAND,
        published_with=command,
        data_sha256=dataset_sha256(data_root),
        date=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d'),
        torch=torch.__version__,
        test=scores)
    write_json(osp.join(REPO_ROOT, PUBLISHED_MANIFEST), manifest)
    return manifest


def published_teacher() -> Tuple[str, Dict]:
    """The committed teacher, after checking its SHA-256.

    Returns:
        tuple[str, dict]: Its absolute path and its manifest.

    Raises:
        FileNotFoundError: The file or its manifest is missing.
        RuntimeError: The file's SHA-256 is not the manifest's.
    """
    path = osp.join(REPO_ROOT, PUBLISHED_TEACHER)
    manifest = read_json(osp.join(REPO_ROOT, PUBLISHED_MANIFEST))
    if manifest is None or not osp.isfile(path):
        raise FileNotFoundError(
            f'the committed toy teacher {PUBLISHED_TEACHER} (or its manifest '
            f'{PUBLISHED_MANIFEST}) is missing: restore it with git checkout '
            '-- checkpoints/toy, or train one with --retrain-teacher.')
    found = file_sha256(path)
    if found != manifest['sha256']:
        raise RuntimeError(
            f'the committed toy teacher {PUBLISHED_TEACHER} has sha256 '
            f'{found}, not {manifest["sha256"]} ({PUBLISHED_MANIFEST}): the '
            'file was changed. Restore it with git checkout -- '
            'checkpoints/toy, or train one with --retrain-teacher.')
    return path, manifest


def train_teacher(
    work_dir: str,
    data_root: str,
    iters: Optional[int] = None,
    progress=None,
    description: str = 'teacher',
    extra: Sequence[str] = ()
) -> Tuple[str, float]:  # noqa: E125
    """Train the toy teacher and keep its float16 weights.

    The run is ``tools/train.py`` :data:`TEACHER_CFG` on one thread in
    ``<work_dir>/teacher``; its last checkpoint is converted as the
    committed teacher was (:func:`save_fp16_weights`) to
    ``<work_dir>/teacher.pth``.

    Args:
        work_dir (str): Where the run and ``teacher.pth`` go.
        data_root (str): The toy data set.
        iters (int, optional): Training iterations. Defaults to None (the
            config's 4k).
        progress (Progress, optional): Shows the run's bar.
        description (str): The bar's label. Defaults to ``'teacher'``.
        extra (Sequence[str]): More ``--cfg-options``.

    Returns:
        tuple[str, float]: ``<work_dir>/teacher.pth`` and the training wall
        time in seconds.
    """
    run_dir = osp.join(work_dir, 'teacher')
    if osp.isdir(run_dir):  # a fresh run, not a resumed or mixed one
        shutil.rmtree(run_dir)
    opts = data_root_options(data_root) + schedule_options(iters, False) + \
        list(extra)
    wall = run_training(TEACHER_CFG, run_dir, opts, description, progress,
                        TEACHER_THREADS).wall_s
    teacher_ckpt = osp.join(work_dir, 'teacher.pth')
    save_fp16_weights(last_checkpoint(run_dir), teacher_ckpt)
    return teacher_ckpt, wall


def choose_teacher(args: argparse.Namespace,
                   work_dir: str,
                   progress=None,
                   description: str = 'teacher') -> Dict:
    """The teacher of a demo or seeds run, trained here when asked.

    Args:
        args (argparse.Namespace): The options of
            :func:`~mmrdd_lab.train_runs.add_toy_run_arguments`:
            ``teacher_ckpt`` (a toy teacher to use; default the committed
            one), ``retrain_teacher`` (train it here; the parser makes
            the two exclusive), and for training
            ``data_root``, ``teacher_iters`` / ``iters`` and
            ``cfg_options``.
        work_dir (str): Where a trained teacher goes.
        progress (Progress, optional): Shows the training's bar.
        description (str): The bar's label. Defaults to ``'teacher'``.

    Returns:
        dict: ``checkpoint`` (path), ``source`` (``'committed'``,
        ``'given'`` or ``'trained'``), ``file_sha256``, ``time_s`` (training
        wall time, None unless trained) and ``note`` (a line for the
        console).
    """
    time_s = None
    if args.retrain_teacher:
        path, time_s = train_teacher(work_dir, args.data_root,
                                     teacher_iters(args), progress,
                                     description, args.cfg_options)
        sha = file_sha256(path)
        manifest = read_json(osp.join(REPO_ROOT, PUBLISHED_MANIFEST)) or {}
        same = 'equal to' if sha == manifest.get('sha256') else 'not'
        note = (f'trained the teacher here ({time_s:.0f}s): {path}, sha256 '
                f'{sha[:12]}, {same} the committed {PUBLISHED_TEACHER}')
        source = 'trained'
    elif args.teacher_ckpt:
        path = osp.abspath(args.teacher_ckpt)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'--teacher-ckpt {args.teacher_ckpt} does not exist: give a '
                'toy teacher checkpoint, or leave the option out to use the '
                'committed one')
        sha = file_sha256(path)
        note = f'the teacher given: {path}, sha256 {sha[:12]}'
        source = 'given'
    else:
        path, manifest = published_teacher()
        sha = manifest['sha256']
        note = (f'the committed teacher {PUBLISHED_TEACHER} (sha256 '
                f'{sha[:12]} checked; --retrain-teacher trains it here)')
        source = 'committed'
    return dict(
        checkpoint=path,
        source=source,
        file_sha256=sha,
        time_s=time_s,
        note=note)
