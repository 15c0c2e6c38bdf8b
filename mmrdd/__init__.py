# Copyright (c) mmrdd contributors. All rights reserved.
"""mmrdd: Relative Difficulty Distillation for MMSegmentation / MMRazor.

The method:

* :mod:`mmrdd.functional` -- the math, pure tensor functions;
* :mod:`mmrdd.structures` -- what one training step passes along;
* :mod:`mmrdd.models` -- the registered components: algorithm, distiller,
  difficulty estimators, the per-head sampler, losses, batch augments;
* :mod:`mmrdd.engine` -- its runner hooks: the stage switch, the selection
  watch, the teacher check, the difficulty pictures;
* :mod:`mmrdd.visualization` -- how those pictures are drawn.

The infrastructure around it (``tests/test_layout.py`` keeps the two
apart):

* :mod:`mmrdd.runtime` -- patches for the pinned OpenMMLab stack, CPU
  launch and AMP, exact resume, checkpoints;
* :mod:`mmrdd.datasets` -- the toy data set and its generator, CamVid;
* :mod:`mmrdd.apis` -- evaluation, benchmarks and the analyses behind
  ``tools/``.

Shared by both: :mod:`mmrdd.arg_checks`, the predicates every config check
uses.

``custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)`` in a
config registers every component: the compatibility patches of
:mod:`mmrdd.runtime.compat` come first, before anything imports MMRazor.
"""
from .runtime.compat import apply_patches

apply_patches()

from . import datasets, engine, models, runtime  # noqa: E402,F401
from .version import __version__, version_info  # noqa: E402

__all__ = ['__version__', 'version_info']
