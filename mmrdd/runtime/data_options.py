# Copyright (c) mmrdd contributors. All rights reserved.
"""The tools' data loader options: one ``data_root`` for every split, and
``persistent_workers`` that matches ``num_workers``.

An MMEngine config variable is resolved when the file is parsed: MMSeg's
data set bases write ``data_root`` into each split's ``dataset`` (VOC aug's
training set is a ``ConcatDataset`` of two, each with its own), so
``--cfg-options data_root=PATH`` alone changes nothing that a run reads.
:func:`set_data_root` makes it do what it says; ``load_tool_config`` calls
it before the other options are merged, so a split's own key still wins.
"""
import logging
from typing import Iterator, List, Tuple

from mmengine.config import Config
from mmengine.logging import print_log

#: The data loaders a tool's config may hold.
SPLITS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _datasets(dataset: dict, key: str) -> Iterator[Tuple[str, dict]]:
    """``(dotted key, dict)`` of ``dataset`` and every data set it wraps
    (``dataset=`` of ``RepeatDataset`` and the like, ``datasets=`` of
    ``ConcatDataset``)."""
    if not isinstance(dataset, dict):
        return
    yield key, dataset
    yield from _datasets(dataset.get('dataset'), f'{key}.dataset')
    for i, sub in enumerate(dataset.get('datasets') or []):
        yield from _datasets(sub, f'{key}.datasets.{i}')


def split_datasets(cfg: Config) -> Iterator[Tuple[str, dict]]:
    """Every data set of every split, wrapped ones too.

    Args:
        cfg (Config): A config with ``*_dataloader`` entries.

    Yields:
        tuple[str, dict]: The dotted key (``'train_dataloader.dataset'``,
        ``'train_dataloader.dataset.datasets.1'``, ...) and the data set's
        config, wrappers before what they wrap.
    """
    for split in SPLITS:
        loader = cfg.get(split)
        if isinstance(loader, dict):
            yield from _datasets(loader.get('dataset'), f'{split}.dataset')


def set_data_root(cfg: Config, data_root: str) -> List[str]:
    """Point every split's data sets that have a ``data_root`` at one root.

    Args:
        cfg (Config): The config to update in place.
        data_root (str): The folder that holds the data set (the layout
            the config's data set expects, see ``docs/datasets.md``).

    Returns:
        list[str]: The keys set, e.g.
        ``'train_dataloader.dataset.datasets.0.data_root'``.

    Raises:
        ValueError: If no data set of the config has a ``data_root``.
    """
    keys = []
    for key, dataset in split_datasets(cfg):
        if 'data_root' in dataset:
            dataset['data_root'] = data_root
            keys.append(f'{key}.data_root')
    if not keys:
        raise ValueError(
            f'data_root={data_root}: no data set of this config has a '
            'data_root to set; give the paths of each split instead '
            '(e.g. train_dataloader.dataset.data_prefix.img_path=...).')
    cfg.data_root = data_root
    print_log(
        f'data_root={data_root} for every split: {", ".join(keys)}',
        logger='current')
    return keys


def check_wrapper_data_roots(cfg: Config) -> None:
    """Refuse a ``data_root`` on a data set wrapper, naming the keys to use.

    ``--cfg-options train_dataloader.dataset.data_root=PATH`` on VOC aug
    lands on its ``ConcatDataset``, which has no such argument
    (``ConcatDataset.__init__() got an unexpected keyword argument
    'data_root'`` when the runner builds it).

    Args:
        cfg (Config): The config, options merged.

    Raises:
        ValueError: If a data set that wraps others has a ``data_root``.
    """
    for key, dataset in split_datasets(cfg):
        if 'data_root' in dataset and ('datasets' in dataset
                                       or 'dataset' in dataset):
            inner = [
                f'{k}.data_root' for k, d in split_datasets(cfg)
                if k.startswith(key + '.') and 'data_root' in d
            ]
            raise ValueError(
                f'{key} is a {dataset.get("type")}, which has no data_root: '
                'give data_root=PATH (every split) or the keys of the data '
                f'sets it wraps ({", ".join(inner) or "none has one"}).')


def fix_persistent_workers(cfg: Config) -> List[str]:
    """Turn ``persistent_workers`` off where a loader has no workers.

    MMSeg's data set bases set ``persistent_workers=True``; with
    ``num_workers=0`` PyTorch's ``DataLoader`` refuses it
    (``persistent_workers option needs num_workers > 0``).

    Args:
        cfg (Config): The config to update in place.

    Returns:
        list[str]: The loaders changed, e.g. ``['train_dataloader']``.
    """
    fixed = []
    for split in SPLITS:
        loader = cfg.get(split)
        if (isinstance(loader, dict) and loader.get('persistent_workers')
                and not loader.get('num_workers', 0)):
            loader['persistent_workers'] = False
            fixed.append(split)
    if fixed:
        print_log(
            f'{", ".join(fixed)}: num_workers=0, so persistent_workers=False '
            '(PyTorch needs worker processes to keep).',
            logger='current',
            level=logging.WARNING)
    return fixed
