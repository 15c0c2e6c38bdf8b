# Copyright (c) mmrdd contributors. All rights reserved.
"""The prepared GPU check's Python side (``tools/misc/gpu_check.sh``).

``tools/misc/gpu_check.py`` is its command line; the shell script runs the
phases and calls it for what needs Python:

* :func:`check_wheels` -- the carried wheel folder is complete, installs on
  the GPU machine's CPython 3.12 and, with what that machine has
  (``requirements/gpu_machine.txt``), meets every requirement of what it
  carries. Needs ``packaging`` only, so it runs before the set-up.
* :func:`make_cityscapes` and :func:`train_config` -- synthetic data in the
  Cityscapes on-disk format and the RDD Cityscapes config made trainable
  without a network; :func:`run_train` trains it through ``tools/train.py``.
* :func:`train_summary`, :func:`junit_summary`, :func:`bench_summary`,
  :func:`write_summary` -- what each phase measured, gathered into
  ``summary.json`` after every phase (a run stopped at its time limit still
  returns what it finished).

The docs page is ``docs/gpu_check.md``.
"""
import glob
import json
import os
import os.path as osp
import shutil
import tarfile
import time
import zipfile
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple
from xml.etree import ElementTree

#: Root of the repository.
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: What the GPU machine gets as wheels: ``name==version`` lines.
CARRIED = osp.join(REPO_ROOT, 'requirements', 'gpu_check.txt')
#: What the GPU machine has installed already: names.
MACHINE = osp.join(REPO_ROOT, 'requirements', 'gpu_machine.txt')
#: mmcv is carried as its source archive and built there.
MMCV_SDIST = 'mmcv-2.1.0.tar.gz'
#: A requirement met by another distribution of the same module: mmengine
#: and mmcv ask for ``opencv-python``, the image has the headless build.
PROVIDED_BY = {'opencv-python': 'opencv-python-headless'}
#: The GPU machine's interpreter, for environment markers.
TARGET_MARKERS = dict(
    python_version='3.12',
    python_full_version='3.12.3',
    implementation_name='cpython',
    platform_python_implementation='CPython',
    sys_platform='linux',
    platform_system='Linux',
    platform_machine='x86_64',
    os_name='posix',
    extra='')
#: The GPU machine's CPython and platform, for wheel tags.
TARGET_PYTHON = (3, 12)
TARGET_PLATFORMS = ['linux_x86_64', 'manylinux2014_x86_64'] + [
    f'manylinux_2_{minor}_x86_64' for minor in range(17, 36)
]

#: The two sizes of the training phase. ``full``: the paper's per-GPU
#: batch (4 crops of 512x1024 from 1024x2048 images), both RDD stages, a
#: log line (MMEngine's mean step time) every 10 iterations. ``tiny``: the
#: same sequence for the CPU dry run.
TRAIN_SCALES = dict(
    full=dict(
        image=(1024, 2048),
        crop=None,
        images=16,
        batch_size=4,
        iters=100,
        switch_iter=50,
        log_interval=10,
        num_workers=None),
    tiny=dict(
        image=(64, 128),
        crop=(32, 64),
        images=4,
        batch_size=2,
        iters=4,
        switch_iter=2,
        log_interval=1,
        num_workers=0))
#: The batch the reference's ``min_kept`` (100000) is set for: 4 x 512 x 1024.
REF_PIXELS = 4 * 512 * 1024
#: The paper's training time of RDD: 40k iterations on 4 x RTX 3090 (batch
#: 4 per GPU), 4 h 20 min (DESIGN.md, section 1).
PAPER_40K_HOURS = 4 + 20 / 60


# ------------------------------------------------------------------ wheels
def read_lines(path: str) -> List[str]:
    """Non-empty lines of a requirements file, comments dropped."""
    with open(path, encoding='utf-8') as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def _supported_tags() -> set:
    from packaging import tags
    interpreter = f'cp{TARGET_PYTHON[0]}{TARGET_PYTHON[1]}'
    return set(
        tags.cpython_tags(
            TARGET_PYTHON, abis=[interpreter],
            platforms=TARGET_PLATFORMS)) | set(
                tags.compatible_tags(
                    TARGET_PYTHON, interpreter, platforms=TARGET_PLATFORMS))


def archive_metadata(path: str) -> Tuple[str, str, List[str]]:
    """Name, version and requirements of a wheel or an sdist.

    Args:
        path (str): A ``.whl`` (its ``METADATA``) or a ``.tar.gz`` source
            archive (its ``PKG-INFO`` and ``*.egg-info/requires.txt``).

    Returns:
        tuple: ``(name, version, requirements)``; requirements as PEP 508
        strings (a wheel's extras keep their ``extra == ...`` marker; an
        sdist's extra sections are left out).
    """
    from email.parser import Parser
    if path.endswith('.whl'):
        with zipfile.ZipFile(path) as zf:
            meta = next(n for n in zf.namelist()
                        if n.endswith('.dist-info/METADATA'))
            msg = Parser().parsestr(zf.read(meta).decode('utf-8'))
        return msg['Name'], msg['Version'], msg.get_all('Requires-Dist') or []
    with tarfile.open(path) as tf:
        names = tf.getnames()
        info = min((n for n in names if n.endswith('PKG-INFO')), key=len)
        msg = Parser().parsestr(tf.extractfile(info).read().decode('utf-8'))
        requires = []
        found = [n for n in names if n.endswith('.egg-info/requires.txt')]
        if found:
            text = tf.extractfile(found[0]).read().decode('utf-8')
            section = ''
            for line in text.splitlines():
                line = line.strip()
                if line.startswith('['):
                    section = line[1:-1]
                elif line and section.split(':')[0] == '':
                    marker = section.partition(':')[2]
                    requires.append(line + (f'; {marker}' if marker else ''))
    return msg['Name'], msg['Version'], requires


def check_wheels(folder: str,
                 carried: Optional[Sequence[str]] = None,
                 machine: Optional[Iterable[str]] = None) -> List[str]:
    """What is wrong with a carried wheel folder; empty when nothing is.

    Checked: every ``name==version`` of ``carried`` has exactly one archive
    of that version in ``folder`` and nothing else is there (the set-up
    installs ``*.whl``); every wheel installs on CPython 3.12 on x86-64
    Linux; the mmcv source archive is there; every requirement of every
    carried archive (markers evaluated for that interpreter, extras left
    out) is met by a carried archive of a matching version or by a package
    of the GPU machine (by name: its versions are read there at run time),
    ``opencv-python`` by ``opencv-python-headless``.

    Args:
        folder (str): The wheel folder.
        carried (Sequence[str], optional): ``name==version`` pins. Defaults
            to ``requirements/gpu_check.txt``.
        machine (Iterable[str], optional): Names installed on the GPU
            machine. Defaults to ``requirements/gpu_machine.txt``.

    Returns:
        list[str]: One sentence per problem, naming the fix.
    """
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name, parse_wheel_filename
    carried = read_lines(CARRIED) if carried is None else list(carried)
    machine = read_lines(MACHINE) if machine is None else list(machine)
    pins = {}
    for line in carried:
        req = Requirement(line)
        pins[canonicalize_name(req.name)] = str(req.specifier).lstrip('=')
    on_machine = {canonicalize_name(n) for n in machine}
    problems: List[str] = []
    found: Dict[str, List[Tuple[str, str]]] = {}
    if not osp.isdir(folder):
        return [
            f'{folder} does not exist: run tools/misc/gpu_check.sh '
            '--prepare'
        ]
    supported = _supported_tags()
    requirements = []
    for fname in sorted(os.listdir(folder)):
        path = osp.join(folder, fname)
        if fname.endswith('.whl'):
            name, version, _, tags = parse_wheel_filename(fname)
            if not tags & supported:
                problems.append(f'{fname} does not install on CPython 3.12 '
                                'x86-64 Linux: download it with '
                                'tools/misc/gpu_check.sh --prepare')
        elif fname == MMCV_SDIST:
            name, version = 'mmcv', '2.1.0'
        else:
            problems.append(f'{fname} is not a carried archive: remove it')
            continue
        name = canonicalize_name(name)
        found.setdefault(name, []).append((fname, str(version)))
        _, _, reqs = archive_metadata(path)
        requirements += [(fname, r) for r in reqs]
    if MMCV_SDIST not in os.listdir(folder):
        problems.append(f'{MMCV_SDIST} is missing: run '
                        'tools/misc/gpu_check.sh --prepare')
    versions = dict(pins, mmcv='2.1.0')
    for name, version in pins.items():
        have = found.get(name, [])
        if not have:
            problems.append(f'{name}=={version} is missing: run '
                            'tools/misc/gpu_check.sh --prepare')
    for name, have in found.items():
        if name not in versions:
            problems.append(f'{have[0][0]} is not in '
                            'requirements/gpu_check.txt: remove it')
        elif len(have) > 1 or have[0][1] != versions[name]:
            problems.append(
                f'{name}: found {", ".join(f for f, _ in have)}, want only '
                f'{versions[name]}: remove the others (two versions stop '
                'the install)')
    for fname, line in requirements:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate(TARGET_MARKERS):
            continue
        name = canonicalize_name(req.name)
        if name in versions:
            if not req.specifier.contains(versions[name], prereleases=True):
                problems.append(f'{fname} needs {line}, the folder has '
                                f'{name} {versions[name]}')
        elif name not in on_machine and PROVIDED_BY.get(
                name) not in on_machine:
            problems.append(f'{fname} needs {line}, which is neither '
                            'carried (requirements/gpu_check.txt) nor on '
                            'the GPU machine (requirements/gpu_machine.txt)')
    return problems


# -------------------------------------------------------------------- data
def make_cityscapes(root: str,
                    num_images: int,
                    size: Sequence[int],
                    num_classes: int = 19,
                    seed: int = 0) -> List[str]:
    """Synthetic training images in the Cityscapes on-disk format.

    ``leftImg8bit/train/synth/synth_<i>_000019_leftImg8bit.png`` (BGR
    uint8) and ``gtFine/train/synth/synth_<i>_000019_gtFine_labelTrainIds
    .png`` (train ids ``0..num_classes-1``, 255 ignored), what MMSeg's
    ``CityscapesDataset`` reads. Labels are random classes on cells of 1/16
    of the image height (5% ignored); the image colours each class, adds a
    horizontal ramp and mild noise, so that PNG decoding costs about what
    photographs cost rather than what incompressible noise would.

    Args:
        root (str): The data root to create.
        num_images (int): Images to write.
        size (Sequence[int]): ``(H, W)`` of every image.
        num_classes (int): Classes. Defaults to 19 (Cityscapes).
        seed (int): Seed of the content. Defaults to 0.

    Returns:
        list[str]: The image paths.
    """
    import cv2
    import numpy as np
    h, w = int(size[0]), int(size[1])
    cell = max(4, h // 16)
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (num_classes, 3), dtype=np.uint8)
    img_dir = osp.join(root, 'leftImg8bit', 'train', 'synth')
    seg_dir = osp.join(root, 'gtFine', 'train', 'synth')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(seg_dir, exist_ok=True)
    ramp = np.linspace(-30, 30, w)[None, :, None]
    paths = []
    for i in range(num_images):
        cells = rng.integers(0, num_classes, (-(-h // cell), -(-w // cell)))
        cells[rng.random(cells.shape) < 0.05] = 255
        label = np.repeat(np.repeat(cells, cell, 0), cell, 1)[:h, :w]
        colour = palette[np.minimum(label, num_classes - 1)].astype(np.float32)
        noise = rng.normal(0, 4, (h, w, 1))
        image = np.clip(colour + ramp + noise, 0, 255).astype(np.uint8)
        stem = f'synth_{i:06d}_000019'
        path = osp.join(img_dir, f'{stem}_leftImg8bit.png')
        cv2.imwrite(path, image)
        cv2.imwrite(
            osp.join(seg_dir, f'{stem}_gtFine_labelTrainIds.png'),
            label.astype(np.uint8))
        paths.append(path)
    return paths


# ------------------------------------------------------------------ config
def expand_segmentor(model: dict, crop: Optional[Sequence[int]]) -> dict:
    """A segmentor named by ``cfg_path``, as the plain model it builds.

    MMRazor builds ``dict(cfg_path='mmseg::...', pretrained=False)`` with
    MMEngine's ``get_model``: the config's ``model`` with its top-level
    ``data_preprocessor``, in MMSeg's scope. This returns that model config
    with ``pretrained=None``: its ImageNet backbone initialisation is a
    download, which the GPU machine cannot make (the check measures time,
    not accuracy). A model without ``cfg_path`` is returned as it is.

    Args:
        model (dict): ``architecture`` or ``teacher`` of an MMRazor model.
        crop (Sequence[int], optional): New pad size of its data
            preprocessor. Defaults to None (kept).

    Returns:
        dict: A plain MMSeg model config.
    """
    from mmengine.config import ConfigDict
    from mmengine.hub import get_config
    if 'cfg_path' not in model:
        return model
    cfg = get_config(model['cfg_path'])
    out = cfg.model.to_dict() if isinstance(cfg.model, ConfigDict) else dict(
        cfg.model)
    if 'data_preprocessor' in cfg:
        out['data_preprocessor'] = cfg.data_preprocessor.to_dict()
    out['_scope_'] = 'mmseg'
    out['pretrained'] = None
    if crop is not None and out.get('data_preprocessor'):
        out['data_preprocessor']['size'] = tuple(crop)
    return out


def train_config(src: str, dst: str, data_root: str, scale: str) -> dict:
    """Write the config of the check's training run; return its schedule.

    ``src`` (an RDD Cityscapes config) with: the teacher and the student
    expanded by :func:`expand_segmentor` (no download), no teacher
    checkpoint (a random teacher: the cost of a step does not depend on its
    weights) and the teacher check off, ``data_root`` as the training data,
    no validation, no checkpoint, the schedule of :data:`TRAIN_SCALES`
    (``switch_iter`` inside it, so that both stages run) and, at ``tiny``,
    the resize and crop of the pipeline scaled to the tiny images and TSE's
    ``min_kept`` to the tiny batch (the reference's share of its pixels).

    Args:
        src (str): The source config.
        dst (str): Where to write the config.
        data_root (str): The synthetic Cityscapes root.
        scale (str): A key of :data:`TRAIN_SCALES`.

    Returns:
        dict: ``iters``, ``switch_iter``, ``batch_size``, ``crop`` of the
        run and the source's ``max_iters`` and ``switch_iter``.
    """
    from mmengine.config import Config
    sizes = TRAIN_SCALES[scale]
    cfg = Config.fromfile(src)
    crop = sizes['crop']
    model = cfg.model
    model.architecture = expand_segmentor(model.architecture.to_dict(), crop)
    model.teacher = expand_segmentor(model.teacher.to_dict(), crop)
    model.teacher_ckpt = None
    source = dict(
        max_iters=cfg.train_cfg.max_iters,
        switch_iter=model.distiller.switch_iter)
    model.distiller.switch_iter = sizes['switch_iter']
    if crop is not None:  # the reference's share of the batch's pixels
        tse = model.distiller.tse
        tse.min_kept = max(
            1,
            round(tse.min_kept * sizes['batch_size'] * crop[0] * crop[1] /
                  REF_PIXELS))
    loader = cfg.train_dataloader
    loader.batch_size = sizes['batch_size']
    if sizes['num_workers'] is not None:
        loader.num_workers = sizes['num_workers']
        loader.persistent_workers = sizes['num_workers'] > 0
    loader.dataset.data_root = data_root
    if crop is not None:
        for step in loader.dataset.pipeline:
            if step['type'] == 'RandomResize':
                step['scale'] = tuple(sizes['image'][::-1])
            elif step['type'] == 'RandomCrop':
                step['crop_size'] = tuple(crop)
    for key in ('val', 'test'):
        for part in ('dataloader', 'cfg', 'evaluator'):
            cfg[f'{key}_{part}'] = None
    cfg.train_cfg.max_iters = sizes['iters']
    cfg.train_cfg.val_interval = sizes['iters'] + 1
    cfg.teacher_check = dict(num_batches=0)
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = sizes['log_interval']
    # each logged time is the mean of its own interval only
    cfg.log_processor.window_size = sizes['log_interval']
    cfg.dump(dst)
    return dict(
        scale=scale,
        iters=sizes['iters'],
        switch_iter=sizes['switch_iter'],
        batch_size=sizes['batch_size'],
        crop=list(crop or cfg.crop_size),
        source=source)


def run_train(config: str, work: str, scale: str) -> None:
    """Data, config and a ``tools/train.py --amp`` run of the check.

    Writes ``<work>/data`` (:func:`make_cityscapes`), ``<work>/train_cfg.py``
    (:func:`train_config`), the run in ``<work>/run`` and the schedule in
    ``<work>/schedule.json``; the logs reach ``out`` through
    :func:`write_summary`.

    Args:
        config (str): The RDD Cityscapes config.
        work (str): The phase's work folder.
        scale (str): A key of :data:`TRAIN_SCALES`.
    """
    from mmrdd_lab.train_runs import run_training
    sizes = TRAIN_SCALES[scale]
    os.makedirs(work, exist_ok=True)
    start = time.perf_counter()
    make_cityscapes(osp.join(work, 'data'), sizes['images'], sizes['image'])
    print(
        f'[gpu_check] {sizes["images"]} synthetic Cityscapes images of '
        f'{sizes["image"][0]}x{sizes["image"][1]} in '
        f'{time.perf_counter() - start:.1f}s',
        flush=True)
    cfg_path = osp.join(work, 'train_cfg.py')
    schedule = train_config(config, cfg_path, osp.join(work, 'data'), scale)
    schedule['config'] = osp.relpath(config, REPO_ROOT)
    with open(osp.join(work, 'schedule.json'), 'w') as f:
        json.dump(schedule, f)
    wall = run_training(
        cfg_path,
        osp.join(work, 'run'), [],
        f'train {scale} {schedule["iters"]} iterations',
        train_args=['--amp']).wall_s
    schedule['wall_s'] = wall
    with open(osp.join(work, 'schedule.json'), 'w') as f:
        json.dump(schedule, f)


# --------------------------------------------------------------- summaries
def train_summary(work: str) -> Optional[Dict[str, Any]]:
    """Seconds per iteration of the check's training run, per RDD stage.

    MMEngine logs, every ``log_interval`` iterations, the mean ``time``
    (whole iteration) and ``data_time`` (waiting for the data) of the
    interval, and ``memory`` (``torch.cuda.max_memory_allocated``, MiB) on
    CUDA. The first interval (CUDA and cuDNN warm-up) and any interval that
    spans the stage switch are left out; the rest are averaged per stage
    (``rdd/stage`` 0 = TFE, 1 = TSE). The estimate of the reference's 40k
    iterations is ``switch_iter * tfe + (max_iters - switch_iter) * tse`` of
    the source config: one GPU's share of the paper's 4-GPU run (batch 4
    per GPU), DDP's gradient all-reduce not counted; made at the ``full``
    scale only.

    ``tse_selected`` is the mean share of valid pixels TSE selected: with
    the check's random teacher and student nearly every pixel is hard for
    both, so XOR selects almost none; the step costs the same (the weighted
    cross entropy runs on every pixel).

    Args:
        work (str): The training phase's work folder.

    Returns:
        dict | None: None before the run logged anything.
    """
    from mmrdd_lab.train_runs import read_scalars
    run = osp.join(work, 'run')
    schedule_path = osp.join(work, 'schedule.json')
    if not osp.isdir(run) or not osp.isfile(schedule_path):
        return None
    with open(schedule_path) as f:
        schedule = json.load(f)
    records = [r for r in read_scalars(run) if 'time' in r]
    if not records:
        return dict(schedule=schedule, logged_iters=0)
    per_stage: Dict[str, List[Tuple[float, float]]] = dict(tfe=[], tse=[])
    for r in records[1:]:
        stage = r.get('rdd/stage')
        if stage in (0, 0.0):
            per_stage['tfe'].append((r['time'], r['data_time']))
        elif stage in (1, 1.0):
            per_stage['tse'].append((r['time'], r['data_time']))

    def mean(values):
        return sum(values) / len(values) if values else None

    s_iter = {k: mean([t for t, _ in v]) for k, v in per_stage.items()}
    data_s = {k: mean([d for _, d in v]) for k, v in per_stage.items()}
    out = dict(
        schedule=schedule,
        logged_iters=int(records[-1].get('iter', 0)),
        intervals_used={k: len(v)
                        for k, v in per_stage.items()},
        s_per_iter=s_iter,
        data_s_per_iter=data_s,
        peak_memory_mib=max((r['memory'] for r in records if 'memory' in r),
                            default=None),
        tse_selected=mean([
            r['rdd/tse_selected'] for r in records if 'rdd/tse_selected' in r
        ]))
    src = schedule['source']
    if schedule['scale'] == 'full' and None not in s_iter.values():
        switch, total = src['switch_iter'], src['max_iters']
        seconds = switch * s_iter['tfe'] + (total - switch) * s_iter['tse']
        out['estimate'] = dict(
            iters=total,
            switch_iter=switch,
            hours_per_gpu=seconds / 3600,
            paper_hours_4x3090=PAPER_40K_HOURS,
            note='one GPU at batch 4 = one of the paper\'s 4 GPUs; DDP '
            'gradient all-reduce and validation not counted')
    return out


def junit_summary(path: str) -> Optional[Dict[str, Any]]:
    """Counts, failures and skip reasons of a pytest JUnit XML file."""
    if not osp.isfile(path):
        return None
    root = ElementTree.parse(path).getroot()
    suite = root if root.tag == 'testsuite' else root.find('testsuite')
    cases = suite.findall('testcase')
    failed, skipped = [], []
    for case in cases:
        name = f"{case.get('classname')}::{case.get('name')}"
        for tag in ('failure', 'error'):
            node = case.find(tag)
            if node is not None:
                failed.append(
                    dict(test=name, message=(node.get('message') or '')[:300]))
        node = case.find('skipped')
        if node is not None:
            skipped.append(
                dict(test=name, reason=(node.get('message') or '')[:200]))
    return dict(
        tests=len(cases),
        passed=len(cases) - len(failed) - len(skipped),
        failed=failed,
        skipped=skipped,
        seconds=float(suite.get('time', 0)))


def bench_summary(path: str) -> Optional[Dict[str, Any]]:
    """The step benchmark's report in short: per variant the median ms per
    step, its IQR, the ratio of medians and the paired ratio to pixel KD,
    and the peak memory (MiB) of its own process."""
    if not osp.isfile(path):
        return None
    with open(path) as f:
        report = json.load(f)
    args = report['args']
    variants = {}
    for name, r in report['results'].items():
        mem = r.get('memory') or {}
        variants[name] = dict(
            ms_per_step=r['time']['median_ms'],
            iqr_ms=r['time']['iqr_ms'],
            ratio_to_pixel_kd=r.get('ratio_to_baseline'),
            paired_ratio_to_pixel_kd=r.get('paired_ratio_to_baseline'),
            peak_mib=mem.get('peak_mib'),
            step_mib=mem.get('step_mib'),
            reserved_mib=mem.get('reserved_mib'))
    return dict(
        device=args['device'],
        amp=args['amp'],
        batch_size=args['batch_size'],
        crop=args['crop'],
        iters=args['iters'],
        memory_method=report.get('memory_method'),
        variants=variants)


def read_phases(work: str) -> Dict[str, Dict[str, Any]]:
    """``phases.tsv`` of the shell script: name, status, seconds, rc."""
    phases = {}
    path = osp.join(work, 'phases.tsv')
    if osp.isfile(path):
        with open(path) as f:
            for line in f:
                name, status, seconds, rc = line.rstrip('\n').split('\t')
                phases[name] = dict(
                    status=status,
                    seconds=int(seconds),
                    rc=None if rc == '-' else int(rc))
    return phases


def copy_train_logs(work: str, out: str) -> List[str]:
    """Copy the training run's MMEngine log and ``scalars.json`` to ``out``
    as ``train.log`` and ``train_scalars.json`` (the newest run folder)."""
    copied = []
    logs = sorted(glob.glob(osp.join(work, 'run', '*', '*.log')))
    scalars = sorted(
        glob.glob(osp.join(work, 'run', '*', 'vis_data', 'scalars.json')))
    for found, name in ((logs, 'train.log'), (scalars, 'train_scalars.json')):
        if found:
            shutil.copyfile(found[-1], osp.join(out, name))
            copied.append(name)
    return copied


def write_summary(out: str, work: str, mode: str,
                  started: float) -> Dict[str, Any]:
    """Gather every phase's result into ``<out>/summary.json``.

    Args:
        out (str): The output folder.
        work (str): The work folder of the shell script.
        mode (str): ``'gpu'`` or ``'cpu-dry-run'``.
        started (float): Start of the check (Unix time).

    Returns:
        dict: The summary.
    """
    env_path = osp.join(work, 'environment.json')
    env = None
    if osp.isfile(env_path):
        with open(env_path) as f:
            env = json.load(f)
    train_work = osp.join(work, 'train')
    copy_train_logs(train_work, out)
    phases = read_phases(work)
    summary = dict(
        mode=mode,
        wall_s=round(time.time() - started, 1),
        setup_s=phases.get('install', {}).get('seconds'),
        phases=phases,
        environment=env,
        cuda_tests=junit_summary(osp.join(out, 'cuda_tests.xml')),
        benchmark=bench_summary(osp.join(out, 'benchmark.json')),
        train=train_summary(train_work))
    with open(osp.join(out, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    return summary


def environment() -> Dict[str, Any]:
    """Versions of the stack, the GPU and the CPU of this machine."""
    import platform
    from importlib import metadata

    import torch
    env: Dict[str, Any] = dict(
        python=platform.python_version(),
        cpu_count=os.cpu_count(),
        torch=torch.__version__,
        cuda=torch.version.cuda,
        cudnn=torch.backends.cudnn.version(),
        cuda_available=torch.cuda.is_available())
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        env.update(
            gpu=props.name,
            gpu_memory_gib=round(props.total_memory / 2**30, 1),
            gpu_multiprocessors=props.multi_processor_count)
    for dist in ('numpy', 'opencv-python', 'opencv-python-headless', 'mmcv',
                 'mmengine', 'mmsegmentation', 'mmrazor', 'mmrdd',
                 'setuptools'):
        try:
            env[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            env[dist] = None
    return env


def verdict(summary: Dict[str, Any]) -> Tuple[bool, List[str]]:
    """Whether every phase passed, and a few lines that say so.

    A phase passes when its status is ``ok``; ``install`` may be
    ``skipped`` in the dry run (it uses the interpreter's stack). The CUDA
    tests must also have failed none and, on the GPU, skipped none.
    """
    lines, ok = [], True
    env = summary.get('environment') or {}
    if env:
        lines.append(', '.join(f'{k} {env[k]}'
                               for k in ('gpu', 'torch', 'python', 'numpy',
                                         'mmcv') if env.get(k)))
    for name in ('install', 'cuda_tests', 'benchmark', 'train'):
        phase = summary['phases'].get(name)
        status = phase['status'] if phase else 'not run'
        good = status == 'ok' or (name == 'install' and status == 'skipped'
                                  and summary['mode'] != 'gpu')
        ok &= good
        seconds = f" {phase['seconds']}s" if phase else ''
        lines.append(f'{name:<11} {status}{seconds}')
    tests = summary.get('cuda_tests')
    if tests:
        lines.append(f"cuda_tests  passed {tests['passed']}, failed "
                     f"{len(tests['failed'])}, skipped "
                     f"{len(tests['skipped'])}")
        ok &= not tests['failed'] and (summary['mode'] != 'gpu'
                                       or not tests['skipped'])
    bench = summary.get('benchmark')
    if bench:
        for name, v in bench['variants'].items():
            ratio = v['paired_ratio_to_pixel_kd']
            peak = v['peak_mib']
            lines.append(
                f"  {name:<12} {v['ms_per_step']:9.1f} ms/step" +
                (f'  x{ratio:.3f} paired' if ratio is not None else '') +
                (f'  peak {peak:.0f} MiB' if peak is not None else ''))
    train = summary.get('train')
    if train and train.get('s_per_iter'):
        s = train['s_per_iter']
        lines.append('train s/iter: ' +
                     ', '.join(f'{k} {v:.3f}'
                               for k, v in s.items() if v is not None))
        if train.get('estimate'):
            e = train['estimate']
            lines.append(f"estimate {e['iters']} iterations: "
                         f"{e['hours_per_gpu']:.2f} h per GPU (paper: "
                         f"{e['paper_hours_4x3090']:.2f} h on 4 x 3090)")
    return ok, lines
