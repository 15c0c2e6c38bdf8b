# Copyright (c) mmrdd contributors. All rights reserved.
"""The CIRKD memory loss the CIRKD tests build, in one and in two processes."""


def memory_loss_cfg(**kwargs) -> dict:
    """A ``CIRKDMemoryLoss`` config for 3 classes and 4-channel embeddings.

    Args:
        **kwargs: The loss's other arguments (``memory``, ``memory_size``,
            ``contrast_size``, ``pixels_per_class``, ...).

    Returns:
        dict: The config, for ``mmrazor.registry.MODELS.build``.
    """
    return dict(
        type='CIRKDMemoryLoss', num_classes=3, feat_channels=4, **kwargs)
