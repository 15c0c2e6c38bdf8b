# Copyright (c) mmrdd contributors. All rights reserved.
"""Training runs of the toy experiments as quiet subprocesses.

``tools/demo.py`` and ``tools/analysis_tools/seeds.py`` train through
``tools/train.py`` in a subprocess each, so that every run is the command a
user would type. Here the subprocess's output goes to ``<run dir>/train.log``
(MMEngine also writes its own log and ``scalars.json`` there) and the console
shows one progress bar per run, fed by MMEngine's ``Iter(train)`` log lines:
iterations, ETA and the current loss.
"""
import argparse
import os
import os.path as osp
import re
import subprocess
import sys
import threading
import time
from typing import Dict, List, NamedTuple, Optional, Sequence

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn)

#: Root of the repository (``tools/`` and ``configs/`` live there).
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

_ITER = re.compile(r'Iter\(train\)\s*\[\s*(\d+)/\s*(\d+)\]')
_ETA = re.compile(r'\beta: (\S+)')
_LOSS = re.compile(r'\sloss: (\S+)')


class RunTime(NamedTuple):
    """Time of one training subprocess.

    Attributes:
        wall_s (float): Wall-clock seconds.
        cpu_s (float): CPU seconds (user + system) of the process and the
            processes it waited for (its data loader workers): what the run
            costs, nearly independent of other load on the machine.
    """
    wall_s: float
    cpu_s: float


def add_toy_run_arguments(parser: argparse.ArgumentParser,
                          jobs: int = 2) -> None:
    """The options ``tools/demo.py`` and ``tools/analysis_tools/seeds.py``
    share: where runs and data go, the teacher, the schedule, the toy data
    set's size, how many runs train at once on how many threads, and extra
    ``--cfg-options`` for every training run.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        jobs (int): Default of ``--jobs``. Defaults to 2.
    """
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/toyseg')
    teacher = parser.add_mutually_exclusive_group()
    teacher.add_argument(
        '--teacher-ckpt',
        help='a toy teacher checkpoint to distil from (default: the '
        'committed one, checkpoints/toy/, sha256 checked)')
    teacher.add_argument(
        '--retrain-teacher',
        action='store_true',
        help='train the teacher here (one thread, as the committed one) '
        'into <work-dir>/teacher.pth and distil from it; runs distilled '
        'from another teacher are trained again')
    parser.add_argument(
        '--iters',
        type=int,
        help='training iterations of every student run '
        '(default: the configs\'; the RDD switch moves to '
        '10%% of it)')
    parser.add_argument(
        '--teacher-iters',
        type=int,
        help='training iterations of the teacher, when it is trained '
        '(default: its config\'s, or twice --iters when given)')
    for split in ('train', 'val', 'test'):
        parser.add_argument(
            f'--num-{split}',
            type=int,
            help=f'toy {split} images (default: the generator\'s)')
    parser.add_argument(
        '--jobs',
        type=int,
        default=jobs,
        help=f'student runs trained at once (default {jobs})')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='OMP_NUM_THREADS of every student run (default 1; the '
        'results depend on it)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='extra --cfg-options for every training run')


def toy_data_sizes(args: argparse.Namespace) -> Dict[str, int]:
    """The toy data set sizes given on the command line, as keyword
    arguments of :func:`mmrdd.datasets.generate_toy_dataset`."""
    sizes = dict(
        num_train=args.num_train, num_val=args.num_val, num_test=args.num_test)
    return {k: v for k, v in sizes.items() if v}


def teacher_iters(args: argparse.Namespace) -> Optional[int]:
    """``--teacher-iters``, else twice ``--iters``, else None (the
    teacher config's schedule)."""
    return args.teacher_iters or (2 * args.iters if args.iters else None)


def _echo(line: str) -> bool:
    """Whether a log line goes to the console too: RDD's stage switch and
    RDD's own warnings."""
    return 'RDD stage' in line or ('WARNING' in line and 'RDD' in line)


def _console() -> Console:
    """A console on stdout; 120 columns wide off a terminal (logs, CI),
    where ``rich`` would otherwise assume 80 and cut the bars' counts."""
    console = Console()
    return console if console.is_terminal else Console(width=120)


def make_progress(console: Optional[Console] = None) -> Progress:
    """The progress display of the toy runs: one bar per run.

    Args:
        console (Console, optional): Where to draw. Defaults to a new
            ``rich`` console on stdout.

    Returns:
        Progress: Not started; use it as a context manager.
    """
    return Progress(
        TextColumn('{task.description:<28}'),
        BarColumn(bar_width=28),
        MofNCompleteColumn(),
        TextColumn('it  eta {task.fields[eta]:>8}'),
        TextColumn('loss {task.fields[loss]:>7}'),
        TimeElapsedColumn(),
        console=console or _console(),
        refresh_per_second=2)


def train_command(config: str,
                  work_dir: str,
                  options: List[str],
                  args: Sequence[str] = ()) -> List[str]:
    """The ``tools/train.py`` command line of one run (``args``: its other
    options, e.g. ``--amp``)."""
    cmd = [
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'train.py'), config, '--work-dir',
        work_dir, *args
    ]
    if options:
        cmd += ['--cfg-options'] + list(options)
    return cmd


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint MMEngine's CheckpointHook saved last in ``work_dir``."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def run_training(config: str,
                 work_dir: str,
                 options: List[str],
                 description: str,
                 progress: Optional[Progress] = None,
                 threads: Optional[int] = None,
                 echo_lock: Optional[threading.Lock] = None,
                 train_args: Optional[List[str]] = None) -> RunTime:
    """Train one run in a ``tools/train.py`` subprocess, showing a bar.

    Args:
        config (str): Config path, relative to the repository root or
            absolute.
        work_dir (str): The run's work directory; the subprocess's whole
            output goes to ``<work_dir>/train.log``.
        options (list[str]): ``--cfg-options`` of the run.
        description (str): Label of the progress bar (``run 2/4 pixel KD``).
        progress (Progress, optional): A started progress display; None
            prints one line at the start and one at the end instead.
        threads (int, optional): ``OMP_NUM_THREADS`` of the subprocess.
            Defaults to None (inherited).
        echo_lock (threading.Lock, optional): Serialises console output when
            several runs train at once. Defaults to None.
        train_args (list[str], optional): Other options of
            ``tools/train.py`` (e.g. ``--amp``). Defaults to None.

    Returns:
        RunTime: Wall and CPU time of the subprocess.

    Raises:
        RuntimeError: The subprocess failed; the message names its log and
            quotes the log's end.
    """
    os.makedirs(work_dir, exist_ok=True)
    log_path = osp.join(work_dir, 'train.log')
    cmd = train_command(config, work_dir, options, train_args or ())
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT] +
        [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p])
    if threads:
        env['OMP_NUM_THREADS'] = env['MKL_NUM_THREADS'] = str(threads)
    lock = echo_lock or threading.Lock()
    task = None
    if progress is not None:
        task = progress.add_task(description, total=None, eta='-', loss='-')
    else:
        with lock:
            print(f'[{description}] training, log: {log_path}', flush=True)
    start = time.perf_counter()
    tail: List[str] = []
    with open(log_path, 'w') as log:
        log.write('$ ' + ' '.join(cmd) + '\n')
        log.flush()
        proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1)
        for line in proc.stdout:
            log.write(line)
            log.flush()
            tail = (tail + [line])[-40:]
            match = _ITER.search(line)
            if match and task is not None:
                done, total = int(match.group(1)), int(match.group(2))
                eta = _ETA.search(line)
                loss = _LOSS.search(line)
                progress.update(
                    task,
                    completed=done,
                    total=total,
                    eta=eta.group(1) if eta else '-',
                    loss=loss.group(1) if loss else '-')
            elif _echo(line):
                msg = f'  [{description}] {line.split(" - ")[-1].strip()}'
                with lock:
                    if progress is not None:
                        progress.console.print(
                            msg, highlight=False, markup=False)
                    else:
                        print(msg, flush=True)
        # wait4: the exit status and the CPU time of the run and its workers
        _, status, usage = os.wait4(proc.pid, 0)
        returncode = proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if returncode != 0:
        raise RuntimeError(
            f'{description}: tools/train.py failed (exit {returncode}); '
            f'full log: {log_path}\n' + ''.join(tail))
    if task is not None:
        total = progress.tasks[task].total or 1
        progress.update(task, completed=total, total=total, eta='0:00:00')
    else:
        with lock:
            print(f'[{description}] done in {wall:.0f}s', flush=True)
    return RunTime(wall, usage.ru_utime + usage.ru_stime)


def schedule_options(iters: Optional[int],
                     switch: bool,
                     val_interval: Optional[int] = None) -> List[str]:
    """``--cfg-options`` that set the schedule length of a toy run.

    Args:
        iters (int, optional): Training iterations; None keeps the config's.
        switch (bool): The run is an RDD run: its TFE -> TSE switch moves
            by the reference's rule
            (:func:`~mmrdd.models.distillers.reference_switch_iter`).
        val_interval (int, optional): Validate every this many iterations
            (the validation curve). Defaults to None (once, at the end).

    Returns:
        list[str]: The options.
    """
    opts = []
    if iters:
        opts += [
            f'train_cfg.max_iters={iters}',
            f'param_scheduler.0.end={iters}',
            f'default_hooks.checkpoint.interval={iters}',
            f'train_cfg.val_interval={val_interval or iters}',
        ]
        if switch:
            from mmrdd.models.distillers import reference_switch_iter
            opts.append('model.distiller.switch_iter='
                        f'{reference_switch_iter(iters)}')
    elif val_interval:
        opts.append(f'train_cfg.val_interval={val_interval}')
    return opts


def data_root_options(data_root: str) -> List[str]:
    """``--cfg-options`` pointing every split of a toy config at
    ``data_root``."""
    return [
        f'{split}.dataset.data_root={data_root}'
        for split in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]


def read_scalars(work_dir: str) -> List[Dict]:
    """The records of MMEngine's ``scalars.json`` of a run (newest
    timestamp folder of ``work_dir``), one dict per logged step."""
    import json
    candidates = []
    for name in sorted(os.listdir(work_dir)):
        path = osp.join(work_dir, name, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            candidates.append(path)
    if not candidates:
        return []
    with open(candidates[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]
