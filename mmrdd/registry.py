# Copyright (c) mmrdd contributors. All rights reserved.
"""The ``mmrdd`` registry scope: children of MMSeg's registries.

A config that inherits ``mmrdd::...`` gets ``_scope_='mmrdd'`` on the
outer dicts of that base (MMEngine marks a package's configs with its
scope, as ``mmseg::`` bases get ``_scope_='mmseg'``), so MMEngine looks
their types up in the registries of scope ``mmrdd``: these, which hold
nothing of their own and find every type in MMSeg's registries (and through
them MMEngine's). mmrdd registers its components where the scope that builds
them looks (MMRazor's ``MODELS``/``TASK_UTILS`` inside
``model=dict(_scope_='mmrazor')``, MMSeg's ``HOOKS``/``DATASETS``), as STYLE
asks; this module only makes the scope resolve.
"""
from mmengine.registry import Registry
from mmseg import registry as mmseg


class _MMSegScope(Registry):
    """A registry of scope ``mmrdd`` that holds nothing: every lookup is its
    MMSeg parent's, which imports MMSeg's modules first (MMEngine's own
    fall-through to a parent reads the parent's table without importing
    them, and MMSeg registers its types lazily)."""

    def get(self, key: str):
        """The type registered as ``key`` in MMSeg's registry (or above)."""
        return self.parent.get(key)


def _child(parent: Registry) -> Registry:
    """An empty registry of scope ``mmrdd`` below one of MMSeg's."""
    return _MMSegScope(parent.name, parent=parent, scope='mmrdd')


RUNNERS = _child(mmseg.RUNNERS)
RUNNER_CONSTRUCTORS = _child(mmseg.RUNNER_CONSTRUCTORS)
LOOPS = _child(mmseg.LOOPS)
HOOKS = _child(mmseg.HOOKS)
DATASETS = _child(mmseg.DATASETS)
DATA_SAMPLERS = _child(mmseg.DATA_SAMPLERS)
TRANSFORMS = _child(mmseg.TRANSFORMS)
MODELS = _child(mmseg.MODELS)
MODEL_WRAPPERS = _child(mmseg.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(mmseg.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(mmseg.OPTIMIZERS)
OPTIM_WRAPPERS = _child(mmseg.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(mmseg.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(mmseg.PARAM_SCHEDULERS)
METRICS = _child(mmseg.METRICS)
EVALUATOR = _child(mmseg.EVALUATOR)
TASK_UTILS = _child(mmseg.TASK_UTILS)
VISUALIZERS = _child(mmseg.VISUALIZERS)
VISBACKENDS = _child(mmseg.VISBACKENDS)
LOG_PROCESSORS = _child(mmseg.LOG_PROCESSORS)
INFERENCERS = _child(mmseg.INFERENCERS)
