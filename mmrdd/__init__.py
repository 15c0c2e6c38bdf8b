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

* :mod:`mmrdd.runtime` -- patches for the pinned OpenMMLab stack,
  ``mmrdd::`` configs, CPU launch and AMP, exact resume, checkpoints;
* :mod:`mmrdd.datasets` -- the toy data set and its generator, CamVid;
* :mod:`mmrdd.cli` -- the command lines ``mmrdd-train``, ``mmrdd-test``,
  ``mmrdd-convert``.

Benchmarks, the toy demo and the seeds tool are the repository's, not the
package's (``tools/``, with their code in ``tools/mmrdd_lab``).

Shared by both: :mod:`mmrdd.arg_checks`, the predicates every config check
uses.

``custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)`` in a
config registers every component and the ``mmrdd::`` config scope: the
compatibility patches of :mod:`mmrdd.runtime.compat` come first, before
anything imports MMRazor.
"""
from .runtime.compat import apply_patches
from .runtime.config_scope import register_config_scope

apply_patches()
register_config_scope()

from . import datasets, engine, models, runtime  # noqa: E402,F401
from .version import __version__, version_info  # noqa: E402

__all__ = ['__version__', 'version_info']
