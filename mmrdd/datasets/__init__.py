"""Data sets of mmrdd."""
from .toy_generator import generate_toy_dataset
from .toy_seg_dataset import ToySegDataset

__all__ = ['ToySegDataset', 'generate_toy_dataset']
