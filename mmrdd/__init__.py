"""mmrdd: Relative Difficulty Distillation for MMSegmentation / MMRazor.

``custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)`` in a
config registers every component: the compatibility patches of
:mod:`mmrdd.compat` come first, before anything imports MMRazor.
"""
from .compat import apply_patches

apply_patches()

from . import datasets, engine, models  # noqa: E402,F401
from .version import __version__, version_info  # noqa: E402

__all__ = ['__version__', 'version_info']
