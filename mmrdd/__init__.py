# Copyright (c) mmrdd contributors. All rights reserved.
"""mmrdd: Relative Difficulty Distillation for MMSegmentation / MMRazor.

The method:

* :mod:`mmrdd.functional` -- the math, pure tensor functions;
* :mod:`mmrdd.structures` -- what one training step passes along;
* :mod:`mmrdd.models` -- the registered components: algorithm, distiller,
  difficulty estimators, the per-head sampler, losses, batch augments;
* ``mmrdd.engine.hooks`` -- the stage switch and the selection watch.

The infrastructure around it: :mod:`mmrdd.compat` (patches for the pinned
OpenMMLab stack), :mod:`mmrdd.utils` (checkpoints, launchers),
``mmrdd.engine.optimizers`` and ``IterSeedHook`` (CPU AMP, exact resume),
:mod:`mmrdd.datasets` (the toy data set, CamVid), :mod:`mmrdd.apis`
(evaluation and analysis for tools), :mod:`mmrdd.visualization`.

``custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)`` in a
config registers every component: the compatibility patches of
:mod:`mmrdd.compat` come first, before anything imports MMRazor.
"""
from .compat import apply_patches

apply_patches()

from . import datasets, engine, models  # noqa: E402,F401
from .version import __version__, version_info  # noqa: E402

__all__ = ['__version__', 'version_info']
