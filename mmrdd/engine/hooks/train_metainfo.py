# Copyright (c) mmrdd contributors. All rights reserved.
"""The training data set's meta information, as the method's hooks read it."""
from typing import Optional, Tuple


def train_metainfo(runner) -> dict:
    """``runner.train_dataloader.dataset.metainfo``, or ``{}``.

    Args:
        runner (Runner): The runner (None gives ``{}``).

    Returns:
        dict: The training data set's ``metainfo`` (MMSeg's ``classes``,
        ``palette``), empty when there is none.
    """
    if runner is None:
        return {}
    dataset = getattr(runner.train_dataloader, 'dataset', None)
    return dict(getattr(dataset, 'metainfo', None) or {})


def class_names(runner, num_classes: int) -> Tuple[str, ...]:
    """The names of the training data set's classes.

    Args:
        runner (Runner, optional): The runner.
        num_classes (int): The number of classes the model predicts.

    Returns:
        tuple[str]: ``metainfo['classes']`` when it names ``num_classes``
        classes, else ``'class 0'``, ``'class 1'``, ...
    """
    names: Optional[tuple] = train_metainfo(runner).get('classes')
    if names is not None and len(names) == num_classes:
        return tuple(str(name) for name in names)
    return tuple(f'class {c}' for c in range(num_classes))
