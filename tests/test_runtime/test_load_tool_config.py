# Copyright (c) mmrdd contributors. All rights reserved.
"""load_tool_config: what tools/train.py and tools/test.py share."""
import argparse
import os
import os.path as osp

import pytest

from mmrdd.runtime import add_launch_arguments, load_tool_config


def parse(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    add_launch_arguments(parser)
    return parser.parse_args(argv)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / 'my_exp.py'
    path.write_text("model = dict(a=1, b=dict(c=2))\n")
    return str(path)


@pytest.fixture
def no_local_rank(monkeypatch):
    # setenv first, so that monkeypatch restores the variable's absence too
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.delenv('LOCAL_RANK')


@pytest.mark.parametrize(
    'extra, in_file, expected',
    [([], None, osp.join('./work_dirs', 'my_exp')),
     ([], 'from/file', 'from/file'),
     (['--work-dir', 'from/cli'], 'from/file', 'from/cli')])
def test_work_dir_priority_cli_then_file_then_name(tmp_path, extra, in_file,
                                                   expected, no_local_rank):
    path = tmp_path / 'my_exp.py'
    text = "model = dict(a=1)\n"
    if in_file:
        text += f"work_dir = '{in_file}'\n"
    path.write_text(text)
    cfg = load_tool_config(parse([str(path), *extra]))
    assert cfg.work_dir == expected


def test_cfg_options_merge_and_launcher_is_recorded(config, no_local_rank):
    cfg = load_tool_config(
        parse([config, '--cfg-options', 'model.b.c=5', 'model.d=x']))
    assert cfg.model.to_dict() == dict(a=1, b=dict(c=5), d='x')
    assert cfg.launcher == 'none'


def test_local_rank_goes_to_the_environment_unless_set(config, monkeypatch,
                                                       no_local_rank):
    load_tool_config(parse([config, '--local-rank', '3']))
    assert os.environ['LOCAL_RANK'] == '3'
    monkeypatch.setenv('LOCAL_RANK', '1')  # torchrun's wins
    load_tool_config(parse([config, '--local_rank', '3']))
    assert os.environ['LOCAL_RANK'] == '1'
