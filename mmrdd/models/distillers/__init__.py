# Copyright (c) mmrdd contributors. All rights reserved.
"""RDD distiller."""
from .rdd_distiller import RDDDistiller

__all__ = ['RDDDistiller']
