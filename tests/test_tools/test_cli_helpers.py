# Copyright (c) mmrdd contributors. All rights reserved.
"""What the command-line tools share: the toy-run options of
tools/demo.py and tools/analysis_tools/seeds.py, the benchmarks' exit."""
import argparse

import pytest

from mmrdd_lab.train_runs import (add_toy_run_arguments, teacher_iters,
                                  toy_data_sizes)


def parse(argv, **kwargs):
    parser = argparse.ArgumentParser()
    add_toy_run_arguments(parser, **kwargs)
    return parser.parse_args(argv)


def test_defaults_are_the_demo_layout_and_the_configs_schedule():
    args = parse([])
    assert (args.work_dir, args.data_root) == ('work_dirs/demo', 'data/toyseg')
    assert args.cfg_options == []
    assert toy_data_sizes(args) == {}
    assert teacher_iters(args) is None
    # the committed teacher; runs on one thread each, two at once
    assert (args.teacher_ckpt, args.retrain_teacher) == (None, False)
    assert (args.jobs, args.threads) == (2, 1)
    assert parse([], jobs=3).jobs == 3


def test_a_teacher_is_given_or_retrained_not_both(capsys):
    assert parse(['--teacher-ckpt', 't.pth']).teacher_ckpt == 't.pth'
    assert parse(['--retrain-teacher']).retrain_teacher
    with pytest.raises(SystemExit):
        parse(['--teacher-ckpt', 't.pth', '--retrain-teacher'])
    assert 'not allowed with argument' in capsys.readouterr().err


@pytest.mark.parametrize('argv, expected', [
    (['--iters', '300'], 600),
    (['--iters', '300', '--teacher-iters', '50'], 50),
    (['--teacher-iters', '50'], 50),
])
def test_teacher_iters_given_else_twice_the_students(argv, expected):
    assert teacher_iters(parse(argv)) == expected


def test_only_the_sizes_given_reach_the_generator():
    args = parse(
        ['--num-train', '8', '--num-test', '4', '--cfg-options', 'a=1', 'b=2'])
    assert toy_data_sizes(args) == dict(num_train=8, num_test=4)
    assert args.cfg_options == ['a=1', 'b=2']


def test_a_rejected_benchmark_setting_exits_with_the_reason():
    """``settings_from_args``: the settings' ValueError becomes the command
    line's ``error: ...`` exit, not a traceback (device cuda with the CPU
    clock is refused on every machine)."""
    from mmrdd_lab.benchmark import settings_from_args
    from mmrdd_lab.benchmark_masks import MaskBenchmarkSettings
    ok = argparse.Namespace(device='cpu', clock='cpu', reps=4)
    assert settings_from_args(MaskBenchmarkSettings, ok).reps == 4
    bad = argparse.Namespace(device='cuda', clock='cpu')
    with pytest.raises(SystemExit, match='^error: '):
        settings_from_args(MaskBenchmarkSettings, bad)
