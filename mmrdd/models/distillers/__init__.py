"""RDD distiller."""
from .rdd_distiller import RDDDistiller

__all__ = ['RDDDistiller']
