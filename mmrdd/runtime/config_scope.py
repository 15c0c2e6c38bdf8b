# Copyright (c) mmrdd contributors. All rights reserved.
"""``mmrdd::`` configs, as ``mmseg::`` and ``mmrazor::`` ones.

MMEngine resolves ``package::path`` (in ``_base_`` and MMRazor's
``cfg_path``) through its ``MODULE2PACKAGE`` table and the package's
``.mim/configs`` folder. mmrdd ships its configs there (in the wheel; in a
clone ``mmrdd/.mim/configs`` is a link to ``configs/``), and ``import mmrdd``
adds itself to the table (:func:`register_config_scope`).

MMEngine finds a package's folder from its distribution's location, which
is wrong for an editable (PEP 660) install, whose metadata lies in
site-packages while the code stays in the clone: :func:`package_folder`
then takes the folder of the module that imports.

A tool's own config may be such a name too: :func:`config_file` turns it
into a path, or says why it cannot.
"""
import importlib.util
import os.path as osp

import mmengine.config.config as mmengine_config
import mmengine.hub.hub as mmengine_hub
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.utils import get_installed_path
from mmengine.utils.package_utils import package2module

SCOPE = 'mmrdd'


def package_folder(package: str) -> str:
    """The folder of an installed package's module, editable installs too.

    Args:
        package (str): The distribution's name (``'mmsegmentation'``,
            ``'mmrdd'``).

    Returns:
        str: ``<site-packages>/<module>``, or the module's folder where that
        does not exist (an editable install).
    """
    path = get_installed_path(package)
    if osp.isdir(path):
        return path
    spec = importlib.util.find_spec(package2module(package))
    if spec is not None and spec.origin is not None:
        return osp.dirname(spec.origin)
    return path


def register_config_scope() -> None:
    """Make ``mmrdd::`` resolve, for editable installs too (idempotent)."""
    MODULE2PACKAGE.setdefault(SCOPE, SCOPE)
    # both modules imported the function by name (MMRazor's cfg_path goes
    # through mmengine.hub.get_config)
    mmengine_config.get_installed_path = package_folder
    mmengine_hub.get_installed_path = package_folder


def config_file(name: str) -> str:
    """The file of a tool's config: a path, or ``package::path``.

    Args:
        name (str): ``configs/rdd/x.py``, ``mmrdd::rdd/x.py``,
            ``mmseg::deeplabv3/y.py``, ...

    Returns:
        str: The config's path.

    Raises:
        FileNotFoundError: The file does not exist, with what to check.
    """
    if '::' not in name:
        if not osp.isfile(name):
            raise FileNotFoundError(f'config "{name}" does not exist.')
        return name
    scope, _, rel = name.partition('::')
    if scope not in MODULE2PACKAGE:
        raise FileNotFoundError(
            f'config "{name}": unknown package "{scope}::"; known: '
            f'{", ".join(sorted(MODULE2PACKAGE))}.')
    package = MODULE2PACKAGE[scope]
    try:
        root = package_folder(package)
    except Exception as e:  # DistributionNotFound, namespace packages
        raise FileNotFoundError(
            f'config "{name}": the package {package} is not installed '
            f'({type(e).__name__}: {e}).') from None
    path = osp.join(root, '.mim', 'configs', rel)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'config "{name}" is not in {package} ({path} does not exist): '
            'check the name against the package\'s configs folder, and that '
            f'{package} was installed with its configs (pip install, not a '
            'copy of the module folder).')
    return path
