# Copyright (c) mmrdd contributors. All rights reserved.
"""Launch helpers shared by ``tools/train.py`` and ``tools/test.py``.

MMEngine's ``pytorch`` launcher assumes CUDA: it calls
``torch.cuda.set_device`` and its DDP wrapper passes
``device_ids=[LOCAL_RANK]``, both of which fail on a CPU-only machine.
:func:`setup_launcher` makes ``--launcher pytorch`` work on CPU with the
``gloo`` backend, and leaves GPU launches untouched. Likewise MMEngine's
``AmpOptimWrapper`` (``--amp``) needs a GPU: :func:`setup_amp`
swaps in bfloat16 CPU autocast where there is none.

:func:`add_launch_arguments`, :func:`load_tool_config`,
:func:`run_runner` and :func:`close_launcher` are what ``tools/train.py``
and ``tools/test.py`` share.
"""
import argparse
import gc
import logging
import os
import os.path as osp
from contextlib import nullcontext
from typing import Any, List, Optional

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from .config_scope import config_file
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .data_options import (check_wrapper_data_roots, fix_persistent_workers,
                           set_data_root)
from .frozen_param_log_filter import frozen_params_summarised
from .load_weights_hook import LoadWeightsHook
from .model_config import resolve_model_cfgs
from .weights import read_checkpoint

#: Norm layer types that synchronise across processes (MMCV's names).
SYNC_BN_TYPES = ('SyncBN', 'MMSyncBN')


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
    ``--cfg-options`` merged, ``cfg_path`` models resolved into model dicts
    with the overrides applied
    (:func:`~mmrdd.runtime.model_config.resolve_model_cfgs`), the config
    checked against the launcher (:func:`check_config_runs_here`), the
    launcher prepared (:func:`setup_launcher`) and ``work_dir`` set.

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
    resolve_model_cfgs(cfg)
    check_config_runs_here(cfg, args.launcher)
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

    Call it after the tool has dropped its runner (:func:`run_runner`).
    Without this the ranks leave the process group to the interpreter's
    exit, where a rank aborts with ``terminate called without an active
    exception`` (SIGABRT) after a run that trained and saved normally: a
    rank that finishes first tears its ``gloo`` pairs down under another
    rank still inside a collective or a store call, and the DDP wrapper of
    a runner still alive at exit keeps the group's C++ threads until the
    interpreter is being torn down. So: the unreachable runner and its DDP
    wrapper are freed now (``gc.collect``: they are cyclic), then a
    barrier, so every rank is done with the group, then
    ``destroy_process_group``. A non-distributed run is left as it is.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return
    gc.collect()
    dist.barrier()
    dist.destroy_process_group()
    gc.collect()


def take_load_from(cfg: Config,
                   what: str = 'load_from') -> Optional[LoadWeightsHook]:
    """Take ``cfg.load_from`` away from MMEngine, to load it strictly.

    Unless the run resumes (then MMEngine resumes from ``load_from``), the
    checkpoint is read now (:func:`~mmrdd.runtime.weights.read_checkpoint`:
    a file that is not a checkpoint stops before the runner is built),
    ``cfg.load_from`` is cleared and a
    :class:`~mmrdd.runtime.LoadWeightsHook` is returned for
    :func:`run_runner`, which loads the part of the file that belongs in
    the model, strictly, and logs what it loaded.

    Args:
        cfg (Config): The tool's config, updated in place.
        what (str): The file's role, for the messages. Defaults to
            ``'load_from'``.

    Returns:
        LoadWeightsHook, optional: None when there is nothing to load or
        the run resumes.

    Raises:
        ValueError: ``load_from`` is an empty string.
    """
    filename = cfg.get('load_from', None)
    if filename is None or cfg.get('resume', False):
        return None
    checkpoint = read_checkpoint(str(filename), what)
    cfg.load_from = None
    return LoadWeightsHook(str(filename), checkpoint, what)


def run_runner(runner,
               mode: str,
               weights: Optional[LoadWeightsHook] = None) -> None:
    """The end of ``tools/train.py`` and ``tools/test.py``: check that a
    training step can run (:func:`check_model_runs_here`), load ``weights``
    at the right moment, then ``runner.train()`` (the frozen parameters
    logged in one line, :func:`frozen_params_summarised`) or
    ``runner.test()``. The tool then drops the runner and calls
    :func:`close_launcher`.

    Args:
        runner (mmengine.runner.Runner): The built runner.
        mode (str): ``'train'`` or ``'test'``.
        weights (LoadWeightsHook, optional): From :func:`take_load_from`.
            Defaults to None.
    """
    if mode == 'train':
        loader = runner.cfg.get('train_dataloader') or {}
        check_model_runs_here(runner.model, loader.get('batch_size', 1))
    if weights is not None:
        runner.register_hook(weights)
    quiet = frozen_params_summarised(runner.model, runner.logger) \
        if mode == 'train' else nullcontext()
    with quiet:
        getattr(runner, mode)()


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


def sync_bn_keys(node: Any, where: str = 'model') -> List[str]:
    """The dotted config paths of every SyncBN layer config under ``node``.

    Args:
        node: A (resolved) model config.
        where (str): Its path. Defaults to ``'model'``.

    Returns:
        list[str]: E.g. ``['model.architecture.backbone.norm_cfg']``.
    """
    found = []
    if isinstance(node, dict):
        kind = node.get('type')
        if isinstance(kind, str) and kind.rsplit('.', 1)[-1] in SYNC_BN_TYPES:
            found.append(where)
        for key, value in node.items():
            found += sync_bn_keys(value, f'{where}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += sync_bn_keys(value, f'{where}.{i}')
    return found


def check_config_runs_here(cfg: Config, launcher: str) -> None:
    """Stop, with the options that fix it, a config that cannot run here.

    SyncBN has no CPU implementation of its cross-process synchronisation,
    and PyTorch's DDP refuses SyncBN layers in CPU processes
    (``SyncBatchNorm layers only work with GPU modules``, raised while the
    runner wraps the model). The published MMSeg configs use SyncBN, so a
    ``--launcher pytorch`` run without GPUs stops here, before anything is
    built, with the ``--cfg-options`` that switch every such layer to BN
    (``cfg_path`` models are resolved by then, so these keys reach them).
    A single CPU process is fine: SyncBN then acts as BN.

    Args:
        cfg (Config): The tool's config (``cfg_path`` models resolved).
        launcher (str): The ``--launcher``.

    Raises:
        RuntimeError: SyncBN in a distributed run without GPUs.
    """
    if launcher != 'pytorch' or torch.cuda.is_available():
        return
    keys = sync_bn_keys(cfg.get('model'))
    options = [f'{key}.type=BN' for key in keys]
    if cfg.get('sync_bn'):
        options.append('sync_bn=None')
    if options:
        raise RuntimeError(
            f'{len(options)} SyncBN setting(s) cannot run in CPU processes '
            '(PyTorch\'s DDP refuses SyncBN without GPUs). Switch them to '
            'BN, or run on GPUs:\n  --cfg-options ' + ' '.join(options))


def single_value_bn(model: nn.Module) -> List[str]:
    """Modules whose BN sees one value per channel with a batch of one.

    A BN in training mode after a global pooling (``AdaptiveAvgPool2d(1)``
    in the same ``nn.Sequential``: the image pooling of DeepLabV3's ASPP,
    PSPNet's 1x1 pyramid level) gets ``(N, C, 1, 1)``; with ``N = 1`` it
    cannot compute batch statistics. SyncBN layers count only when they do
    not synchronise (no process group of several ranks).

    Args:
        model (nn.Module): The model, in the mode it trains in.

    Returns:
        list[str]: The names of those ``nn.Sequential`` modules.
    """
    synced = dist.is_available() and dist.is_initialized() \
        and dist.get_world_size() > 1
    found = []
    for name, module in model.named_modules():
        if not isinstance(module, nn.Sequential):
            continue
        children = list(module.children())
        pools = [
            i for i, child in enumerate(children)
            if isinstance(child, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d))
            and child.output_size in (1, (1, 1))
        ]
        if not pools:
            continue
        after = nn.ModuleList(children[pools[0] + 1:])
        if any(
                isinstance(m, _BatchNorm) and m.training
                and not (synced and isinstance(m, nn.SyncBatchNorm))
                for m in after.modules()):
            found.append(name)
    return found


def check_model_runs_here(model: nn.Module, batch_size: int) -> None:
    """Fail before training, with the fix, when a step cannot run.

    With ``train_dataloader.batch_size=1`` per process, a BN after a global
    pooling (:func:`single_value_bn`) raises PyTorch's ``Expected more than
    1 value per channel when training`` in the first step.

    Args:
        model (nn.Module): The built (possibly wrapped) model.
        batch_size (int): ``train_dataloader.batch_size`` (per process).

    Raises:
        ValueError: A batch of one with such a BN layer.
    """
    if batch_size != 1:
        return
    found = single_value_bn(model)
    if found:
        raise ValueError(
            'train_dataloader.batch_size=1 per process, but BN follows a '
            f'global pooling in {", ".join(found[:3])}: with one image that '
            'BN layer sees one value per channel and cannot train '
            '(PyTorch: "Expected more than 1 value per channel when '
            'training"). Use --cfg-options '
            'train_dataloader.batch_size=2 (or more) per process, or SyncBN '
            'on several GPUs.')
