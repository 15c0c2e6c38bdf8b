# Copyright (c) mmrdd contributors. All rights reserved.
"""What a user sees of the TSE selection watch, through tools/train.py on
tiny toy runs: the cause of an empty selection, the per-class kept share,
the starved classes by name, and our option that keeps them."""
import copy
import os.path as osp
import re

import pytest
import torch
from conftest import ROOT, data_options, losses_in_log, run_tool

pytestmark = pytest.mark.slow

RDD_TOY = 'configs/rdd/rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501
EMPTY = 'RDD: TSE selected no pixel in the last'
STARVES = 'RDD: TSE starves'


def train(toy_data, work_dir, *options, iters=2, config=RDD_TOY) -> str:
    """A toy RDD run in TSE from iteration 0, logging every iteration."""
    return run_tool('tools/train.py', config, '--work-dir', str(work_dir),
                    '--cfg-options', *data_options(toy_data, iters=iters),
                    'model.distiller.switch_iter=0', *options)


def watch_hook_index() -> int:
    """Position of RDDSelectionWatchHook in the toy config's custom_hooks
    (the command line addresses hooks by position)."""
    from mmengine.config import Config
    hooks = Config.fromfile(osp.join(ROOT, RDD_TOY)).custom_hooks
    return [h['type'] for h in hooks].index('RDDSelectionWatchHook')


def kept_shares(log: str) -> dict:
    """Every logged ``rdd/tse_kept/<class>`` value, by class."""
    shares = {}
    for name, value in re.findall(r'rdd/tse_kept/([^:]+): (\S+)', log):
        shares.setdefault(name, []).append(float(value))
    return shares


def test_min_kept_above_the_valid_pixels_is_named(toy_data, teacher_run,
                                                  tmp_path):
    log = train(toy_data, tmp_path,
                f'model.teacher_ckpt={teacher_run["ckpt"]}',
                'model.distiller.tse.min_kept=1000000')
    assert log.count(EMPTY) == 2  # one warning per logging interval
    # 100000 / (4 * 512 * 1024) * 2 * 96 * 96 = 878.9
    assert ('Cause: min_kept (1000000) is not below the valid label pixels '
            'of a batch (') in log
    assert ('= 879 for this batch (2 x 96 x 96): set '
            'model.distiller.tse.min_kept=879.') in log
    assert STARVES not in log  # the cause is named, not the classes


def test_both_models_finding_every_pixel_hard_is_not_blamed_on_min_kept(
        toy_data, teacher_run, tmp_path):
    """The issue's case: tse_hard_student and tse_hard_teacher 1.0 with
    min_kept far below the valid pixels."""
    log = train(toy_data, tmp_path,
                f'model.teacher_ckpt={teacher_run["ckpt"]}',
                'model.distiller.tse.thresh=0.99',
                'model.distiller.tse.min_kept=100')
    assert losses_in_log(log, 'rdd/tse_hard_student') == [1.0, 1.0]
    assert losses_in_log(log, 'rdd/tse_hard_teacher') == [1.0, 1.0]
    assert log.count(EMPTY) == 2
    assert log.count('Cause: teacher and student both find every valid '
                     'pixel hard') == 2
    assert 'while min_kept (100) is below the' in log
    assert 'Scale min_kept' not in log and 'is not below' not in log
    # every class of the batches, named by ToySeg's metainfo, kept 0
    shares = kept_shares(log)
    assert 'background' in shares and 'wire' in shares
    assert all(v == 0.0 for values in shares.values() for v in values
               if v == v)


def test_min_class_share_keeps_the_starved_classes(toy_data, teacher_run,
                                                   tmp_path):
    """The same run with our option: every class is starved and every pixel
    hard for both, so every valid pixel stays in the task loss."""
    log = train(toy_data, tmp_path,
                f'model.teacher_ckpt={teacher_run["ckpt"]}',
                'model.distiller.tse.thresh=0.99',
                'model.distiller.tse.min_kept=100',
                'model.distiller.tse.min_class_share=0.05')
    assert losses_in_log(log, 'rdd/tse_selected') == [1.0, 1.0]
    assert all(v > 0 for v in losses_in_log(log, 'student.decode.loss_ce'))
    assert EMPTY not in log and STARVES not in log
    shares = kept_shares(log)
    assert shares and all(v == 1.0 for values in shares.values()
                          for v in values if v == v)


def test_starved_classes_are_named_from_the_data_set(toy_data, teacher_run,
                                                     tmp_path):
    """thresh 0.15 with the barely trained teacher: in the first batch the
    teacher finds only 'background' easy, the student nothing; XOR keeps
    the background and drops every other class, hard for both."""
    log = train(
        toy_data,
        tmp_path,
        f'model.teacher_ckpt={teacher_run["ckpt"]}',
        'model.distiller.tse.thresh=0.15',
        'model.distiller.tse.min_kept=1',
        iters=1)
    assert EMPTY not in log
    shares = kept_shares(log)
    assert shares['background'] == [1.0]
    message = log[log.index(STARVES):].split('\n')[0]
    assert message.startswith('RDD: TSE starves ')
    assert ('class(es) of task-loss signal: in the last 1 iteration it kept '
            'less than 5% of their valid pixels while the student still '
            'finds at least 50% of them hard (XOR drops the pixels hard for '
            'both models): ') in message
    named = re.findall(
        r"'([^']+)' \(kept ([0-9.]+)% of (\d+) pixels; hard for the "
        r'student (\d+)%, for both models (\d+)%\)', message)
    names = [n for n, *_ in named]
    assert {'meadow', 'desert', 'wire'} <= set(names)
    assert 'background' not in names
    for name, kept, pixels, hard, both in named:
        assert shares[name] == [0.0] and float(kept) == 0.0
        assert int(pixels) >= 100 and hard == both == '100'
    assert 'model.distiller.tse.min_class_share' in message
    # our option keeps them: every valid pixel is selected
    log = train(
        toy_data,
        tmp_path / 'keep',
        f'model.teacher_ckpt={teacher_run["ckpt"]}',
        'model.distiller.tse.thresh=0.15',
        'model.distiller.tse.min_kept=1',
        'model.distiller.tse.min_class_share=0.05',
        iters=1)
    assert STARVES not in log and EMPTY not in log
    assert losses_in_log(log, 'rdd/tse_selected') == [1.0]
    assert all(v == [1.0] for v in kept_shares(log).values())


def test_a_teacher_equal_to_the_student_is_named(toy_data, tmp_path):
    """Teacher and student: the same weights and architecture, with group
    norm and no dropout (so that training mode computes what eval mode
    does): at the first step both find the same pixels hard."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    cfg = Config.fromfile(osp.join(ROOT, RDD_TOY))
    model_cfg = copy.deepcopy(cfg.model.architecture)
    gn = dict(type='GN', num_groups=1, requires_grad=True)
    model_cfg.backbone.norm_cfg = gn
    for head in ('decode_head', 'auxiliary_head'):
        model_cfg[head].norm_cfg = gn
        model_cfg[head].dropout_ratio = 0
    init_default_scope('mmseg')
    torch.manual_seed(0)
    segmentor = MODELS.build(copy.deepcopy(model_cfg))
    segmentor.init_weights()
    ckpt = str(tmp_path / 'same.pth')
    torch.save(dict(state_dict=segmentor.state_dict()), ckpt)
    cfg.model.teacher = copy.deepcopy(model_cfg)
    cfg.model.architecture = model_cfg
    cfg.model.architecture.init_cfg = dict(type='Pretrained', checkpoint=ckpt)
    cfg.model.teacher_ckpt = ckpt
    config = str(tmp_path / 'same_teacher.py')
    cfg.dump(config)
    log = train(
        toy_data,
        tmp_path / 'run',
        'model.distiller.tse.thresh=0.05',
        'model.distiller.tse.min_kept=1000',
        iters=1,
        config=config)
    assert 'RDD: TSE selected no pixel in the last 1 iteration, so' in log
    assert 'Cause: teacher and student find the same pixels hard (' in log
    assert "check that model.teacher_ckpt is not the student's weights" in log
    hard = losses_in_log(log, 'rdd/tse_hard_student')
    assert hard == losses_in_log(log, 'rdd/tse_hard_teacher')
    assert 0 < hard[0] < 1
