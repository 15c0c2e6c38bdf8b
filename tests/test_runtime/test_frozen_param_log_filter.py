# Copyright (c) mmrdd contributors. All rights reserved.
"""The frozen parameters in one log line, not one line each (MMEngine's
optimizer constructor writes one per parameter with a paramwise_cfg)."""
import copy
import glob
import os.path as osp

from mmengine.testing import RunnerTestCase

from mmrdd.runtime import frozen_params, run_runner

SKIPPED = 'is skipped since its requires_grad=False'
# ToyModel's linear1 = nn.Linear(2, 2): weight 2x2, bias 2
SUMMARY = ('requires_grad=False, not trained: linear1 (2 tensors, 6 values) '
           '(MMEngine\'s per-parameter "is skipped" lines are left out).')


class TestFrozenParamsInOneLine(RunnerTestCase):

    def runner(self):
        """A tiny runner whose optimizer has a paramwise_cfg (as SegFormer's
        recipe), with ToyModel's first layer frozen (as a teacher)."""
        cfg = copy.deepcopy(self.iter_based_cfg)
        cfg.train_cfg.max_iters = 1
        cfg.optim_wrapper.paramwise_cfg = dict(bias_lr_mult=2.)
        cfg.default_hooks.checkpoint.interval = 100
        runner = self.build_runner(cfg)
        runner.model.linear1.requires_grad_(False)
        return runner

    def log(self, runner):
        [path] = glob.glob(osp.join(runner.log_dir, '*.log'))
        with open(path) as f:
            return f.read()

    def test_frozen_params_counts_by_top_level_module(self):
        runner = self.runner()
        assert frozen_params(runner.model) == {'linear1': (2, 6)}
        runner.model.linear2.weight.requires_grad_(False)
        assert frozen_params(runner.model) == {
            'linear1': (2, 6),
            'linear2': (1, 2)
        }

    def test_one_summary_line_instead_of_one_per_parameter(self):
        runner = self.runner()
        run_runner(runner, 'train')
        log = self.log(runner)
        assert log.count(SUMMARY) == 1
        assert SKIPPED not in log
        # only the lines are gone: the run trained, the filter is removed
        assert runner.iter == 1
        assert not runner.logger.filters

    def test_without_it_mmengine_logs_each_parameter(self):
        """The control: the same runner trained directly."""
        runner = self.runner()
        runner.train()
        log = self.log(runner)
        assert log.count(SKIPPED) == 2
        assert 'linear1.weight ' + SKIPPED in log
        assert SUMMARY not in log

    def test_nothing_frozen_nothing_said(self):
        runner = self.runner()
        runner.model.linear1.requires_grad_(True)
        run_runner(runner, 'train')
        assert 'requires_grad=False' not in self.log(runner)
