# Copyright (c) mmrdd contributors. All rights reserved.
"""Launch helpers shared by ``tools/train.py`` and ``tools/test.py``.

MMEngine's ``pytorch`` launcher assumes CUDA: it calls
``torch.cuda.set_device`` and its DDP wrapper passes
``device_ids=[LOCAL_RANK]``, both of which fail on a CPU-only machine.
:func:`setup_launcher` makes ``--launcher pytorch`` work on CPU with the
``gloo`` backend, and leaves GPU launches untouched. Likewise MMEngine's
``AmpOptimWrapper`` (``--amp``) needs a GPU: :func:`setup_amp`
swaps in bfloat16 CPU autocast where there is none.
"""
import logging
import os

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log

from mmrdd.engine.optimizers import CPUAmpOptimWrapper


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


def setup_amp(cfg: Config) -> None:
    """Make a mixed-precision config (``AmpOptimWrapper``) run on this machine.

    With CUDA nothing changes. Without, MMEngine's ``AmpOptimWrapper`` cannot
    be built (it asserts a GPU); it is replaced by
    :class:`~mmrdd.engine.optimizers.CPUAmpOptimWrapper`, i.e. bfloat16
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
