# Copyright (c) mmrdd contributors. All rights reserved.
"""The RDD distiller and the plain step interface of a distiller."""
from .distill_step import DistillStep
from .rdd_distiller import RDDDistiller, reference_switch_iter

__all__ = ['DistillStep', 'RDDDistiller', 'reference_switch_iter']
