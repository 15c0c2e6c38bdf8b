# Copyright (c) mmrdd contributors. All rights reserved.
"""Launch helpers shared by ``tools/train.py`` and ``tools/test.py``.

MMEngine's ``pytorch`` launcher assumes CUDA: it calls
``torch.cuda.set_device`` and its DDP wrapper passes
``device_ids=[LOCAL_RANK]``, both of which fail on a CPU-only machine.
:func:`setup_launcher` makes ``--launcher pytorch`` work on CPU with the
``gloo`` backend, and leaves GPU launches untouched. Likewise MMEngine's
``AmpOptimWrapper`` (``--amp``) needs a GPU: :func:`setup_amp`
swaps in bfloat16 CPU autocast where there is none.

:func:`add_launch_arguments`, :func:`load_tool_config` and
:func:`run_and_close` are what ``tools/train.py`` and ``tools/test.py``
share.
"""
import argparse
import logging
import os
import os.path as osp
from contextlib import nullcontext

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from .config_scope import config_file
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .data_options import (check_wrapper_data_roots, fix_persistent_workers,
                           set_data_root)
from .frozen_param_log_filter import frozen_params_summarised


def add_launch_arguments(parser: argparse.ArgumentParser) -> None:
    """Add MMSeg's ``--work-dir``, ``--cfg-options``, ``--launcher`` and
    ``--local_rank`` / ``--local-rank`` to a tool's parser."""
    parser.add_argument('--work-dir', help='the dir to save logs and results')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank, older versions
    # --local_rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_tool_config(args: argparse.Namespace) -> Config:
    """The config a tool runs: the file (a path, or ``mmrdd::``/``mmseg::``
    ``...``, see :func:`~mmrdd.runtime.config_scope.config_file`),
    ``--cfg-options`` merged, the launcher prepared (:func:`setup_launcher`)
    and ``work_dir`` set.

    ``--cfg-options data_root=PATH`` points every split's data sets at
    ``PATH`` (:func:`~mmrdd.runtime.data_options.set_data_root`; a split's
    own key given beside it wins); a ``data_root`` put on a wrapper such as
    VOC aug's ``ConcatDataset`` is an error that names the keys to use
    (:func:`~mmrdd.runtime.data_options.check_wrapper_data_roots`); a loader
    with ``num_workers=0`` gets ``persistent_workers=False``
    (:func:`~mmrdd.runtime.data_options.fix_persistent_workers`).

    ``work_dir`` is, in this priority: ``--work-dir``, the config's own,
    ``./work_dirs/<config name>``.

    Args:
        args (argparse.Namespace): Parsed by a parser that has
            :func:`add_launch_arguments` and a ``config`` argument.

    Returns:
        Config: The config, ready for ``Runner.from_cfg``.
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    cfg = Config.fromfile(config_file(args.config))
    if args.cfg_options is not None:
        if 'data_root' in args.cfg_options:
            set_data_root(cfg, args.cfg_options['data_root'])
        cfg.merge_from_dict(args.cfg_options)
        check_wrapper_data_roots(cfg)
    fix_persistent_workers(cfg)
    setup_launcher(cfg, args.launcher)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def setup_launcher(cfg: Config, launcher: str) -> None:
    """Record the launcher in ``cfg`` and prepare a CPU-only distributed run.

    On a machine with CUDA nothing but ``cfg.launcher`` is changed, so MMEngine
    sets the device and the NCCL process group as usual. Without CUDA and with
    ``launcher='pytorch'`` (``torchrun``), the ``gloo`` process group is
    initialised here from the torchrun environment (MMEngine then skips its own
    CUDA-only initialisation), and the DDP wrapper is told to use no
    ``device_ids``.

    Args:
        cfg (Config): The config to update in place.
        launcher (str): One of ``'none'``, ``'pytorch'``, ``'slurm'``,
            ``'mpi'``.
    """
    cfg.launcher = launcher
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} needs GPUs, and this machine has none. '
            'On CPU use tools/dist_train.sh (torchrun, --launcher pytorch).')
    backend = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend', 'gloo')
    if backend != 'gloo':
        cfg.env_cfg.dist_cfg.backend = 'gloo'
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    wrapper_cfg = cfg.get('model_wrapper_cfg',
                          None) or dict(type='MMDistributedDataParallel')
    # MMEngine fills device_ids=[LOCAL_RANK] unless the key is present;
    # DDP rejects device_ids for CPU modules.
    wrapper_cfg['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper_cfg
    os.environ.setdefault('LOCAL_RANK', '0')


def close_launcher() -> None:
    """Close the process group of a distributed run, all ranks together.

    Without this the ranks leave the process group to the interpreter's exit:
    a rank that finishes first tears its ``gloo`` pairs down under another
    rank still inside a collective or a store call, which then aborts with
    ``terminate called without an active exception`` (SIGABRT) after a run
    that trained and saved normally. A barrier first, so every rank is done
    with the group, then ``destroy_process_group``. A non-distributed run is
    left as it is.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return
    dist.barrier()
    dist.destroy_process_group()


def run_and_close(runner, mode: str) -> None:
    """The end of ``tools/train.py`` and ``tools/test.py``: check that the
    model can run on this machine, ``runner.train()`` (the frozen
    parameters logged in one line, :func:`frozen_params_summarised`) or
    ``runner.test()``, then :func:`close_launcher`.

    Args:
        runner (mmengine.runner.Runner): The built runner.
        mode (str): ``'train'`` or ``'test'``.
    """
    check_model_runs_here(runner.model)
    quiet = frozen_params_summarised(runner.model, runner.logger) \
        if mode == 'train' else nullcontext()
    with quiet:
        getattr(runner, mode)()
    close_launcher()


def setup_amp(cfg: Config) -> None:
    """Make a mixed-precision config (``AmpOptimWrapper``) run on this machine.

    With CUDA nothing changes. Without, MMEngine's ``AmpOptimWrapper`` cannot
    be built (it asserts a GPU); it is replaced by
    :class:`~mmrdd.runtime.CPUAmpOptimWrapper`, i.e. bfloat16
    autocast without loss scaling (``loss_scale`` and ``use_fsdp`` are
    dropped; a ``dtype`` other than bfloat16 is an error).

    Args:
        cfg (Config): The config to update in place.
    """
    wrapper = cfg.get('optim_wrapper', None)
    if (torch.cuda.is_available() or not wrapper or wrapper.get('type')
            not in ('AmpOptimWrapper', 'mmengine.AmpOptimWrapper')):
        return
    for key in ('loss_scale', 'use_fsdp'):
        wrapper.pop(key, None)
    wrapper['type'] = CPUAmpOptimWrapper.__name__
    print_log(
        'No CUDA: mixed precision runs as bfloat16 CPU autocast '
        f'({CPUAmpOptimWrapper.__name__}, no loss scaling).',
        logger='current',
        level=logging.WARNING)


def check_model_runs_here(model: torch.nn.Module) -> None:
    """Fail early, with the fix, when ``model`` cannot run on this machine.

    SyncBN has no CPU implementation of its cross-process synchronisation: the
    published MMSeg configs use it, so a distributed CPU run needs plain BN (a
    single CPU process is fine: SyncBN then acts as BN).

    Args:
        model (nn.Module): The built (possibly wrapped) model.

    Raises:
        RuntimeError: If the model holds SyncBN layers in a distributed run
            without GPUs.
    """
    if torch.cuda.is_available() or not dist.is_initialized():
        return
    sync = [
        n for n, m in model.named_modules()
        if isinstance(m, torch.nn.SyncBatchNorm)
    ]
    if sync:
        raise RuntimeError(
            f'{len(sync)} SyncBN layers (e.g. "{sync[0]}") cannot run on '
            'CPU processes. Use a config with '
            "norm_cfg=dict(type='BN', requires_grad=True) for every backbone "
            'and head (the toy configs under configs/_base_/ do), or run on '
            'GPUs.')
