# Copyright (c) mmrdd contributors. All rights reserved.
"""What the algorithm, the distiller, the augments and the pictures share:
head names and logits of a segmentor, and reading a distiller's records."""
from .distill_records import KeptRows, compute_distill_losses, read_record
from .segmentor_heads import (all_heads, check_heads, loss_prefix, main_head,
                              recorded_heads, run_heads, segmentor_heads)

__all__ = [
    'KeptRows', 'compute_distill_losses', 'read_record', 'all_heads',
    'check_heads', 'loss_prefix', 'main_head', 'recorded_heads', 'run_heads',
    'segmentor_heads'
]
