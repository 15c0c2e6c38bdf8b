# Copyright (c) mmrdd contributors. All rights reserved.
"""Test-only hook: every rank saves what it trained, for cross-rank checks.

Imported through ``custom_imports`` by the configs that
``test_distributed.py`` writes (``tests/test_tools`` is put on PYTHONPATH).
Only rank 0 logs and saves checkpoints, so this is how a test sees that the
other ranks did the same work.
"""
import math
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module(force=True)
class RankStateDumpHook(Hook):
    """Record each iteration's stage and losses; save them and the student.

    Writes ``{work_dir}/rank{R}_state.pth`` after training with
    ``student`` (the student's state dict), ``records`` (one dict per
    iteration: ``iter``, ``stage``, ``losses``) and ``world_size``.
    """

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.records = []

    @staticmethod
    def _algorithm(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        losses = {k: float(v) for k, v in (outputs or {}).items()}
        assert all(math.isfinite(v) for v in losses.values()), losses
        self.records.append(
            dict(
                iter=runner.iter,
                stage=self._algorithm(runner).distiller.stage,
                losses=losses))

    def after_train(self, runner) -> None:
        state = {
            k: v.detach().clone()
            for k, v in self._algorithm(runner).student.state_dict().items()
        }
        torch.save(
            dict(
                student=state,
                records=self.records,
                world_size=runner.world_size,
                wrapper=type(runner.model).__name__),
            osp.join(runner.work_dir, f'rank{get_rank()}_state.pth'))
