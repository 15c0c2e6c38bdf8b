# Copyright (c) mmrdd contributors. All rights reserved.
"""``load_from`` (and the checkpoint that ``tools/test.py`` scores), loaded
strictly into the part of the model it belongs to."""
from typing import Dict, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmseg.registry import HOOKS
from torch import nn

from .weights import load_weights, read_checkpoint


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside DDP wrappers and a test-time-augmentation model."""
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


@HOOKS.register_module()
class LoadWeightsHook(Hook):
    """Load a checkpoint strictly, before the first training or test step.

    MMEngine's ``load_from`` loads whatever keys match and only logs the
    rest, so the student checkpoint of a distillation run loads nothing
    into a distillation model (keys without ``architecture.``) and a raw
    distillation checkpoint loads nothing into the student's config; the
    run then trains or scores a random model. ``tools/train.py`` and
    ``tools/test.py`` therefore take ``load_from`` away from MMEngine (when
    not resuming) and hand it to this hook, which loads the part of the file
    that belongs in the model (:func:`~mmrdd.runtime.weights.load_weights`:
    a distillation checkpoint's student into a segmentor, a segmentor
    checkpoint into a distillation model's student, ...), requires every
    tensor of that part, and logs what it loaded.

    It loads in ``before_train`` (after MMEngine's ``init_weights``, which
    would overwrite it otherwise) and ``before_test``/``before_val``.

    Args:
        filename (str): The checkpoint (a local path or an ``https://``
            URL).
        checkpoint (dict, optional): The checkpoint already read by
            :func:`~mmrdd.runtime.weights.read_checkpoint` (the tools read
            it before building the runner, so that a bad file stops at
            once). Defaults to None (read here).
        what (str): The file's role, for the messages. Defaults to
            ``'load_from'``.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 filename: str,
                 checkpoint: Optional[Dict] = None,
                 what: str = 'load_from') -> None:
        self.filename = filename
        self.checkpoint = checkpoint
        self.what = what
        self.report: Optional[str] = None

    def load(self, runner) -> None:
        """Load once; log (and keep in :attr:`report`) what was loaded."""
        if self.report is not None:
            return
        checkpoint = self.checkpoint
        if checkpoint is None:
            checkpoint = read_checkpoint(self.filename, self.what)
        self.report = load_weights(
            unwrap(runner.model), checkpoint, self.filename, what=self.what)
        self.checkpoint = None  # the tensors are in the model now
        print_log(self.report, logger='current')

    def before_train(self, runner) -> None:
        """Load after ``init_weights``, before iteration 0."""
        self.load(runner)

    def before_val(self, runner) -> None:
        """Load before validating (``runner.val()``)."""
        self.load(runner)

    def before_test(self, runner) -> None:
        """Load before testing."""
        self.load(runner)
