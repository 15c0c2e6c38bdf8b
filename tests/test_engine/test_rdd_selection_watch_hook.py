# Copyright (c) mmrdd contributors. All rights reserved.
"""RDDSelectionWatchHook on a real tiny MMEngine runner: the per-class share
TSE keeps, the starved-class warning and the cause of an empty selection.
"""
import math

import pytest
import torch
from _toy_models import TinySegDataset, rdd_cfg, tiny_runner
from mmengine.hooks import Hook

import mmrdd  # noqa: F401
from mmrdd.engine import RDDSelectionWatchHook
from mmrdd.engine.hooks.rdd_selection_watch_hook import empty_selection_cause

CLASSES = ('sky', 'road', 'pole', 'car', 'tree')


class NamedSet(TinySegDataset):
    """:class:`TinySegDataset` with class names; without class 4 (``tree``
    pixels become ``sky``) when ``drop_tree``."""

    metainfo = dict(classes=CLASSES)

    def __init__(self, drop_tree: bool = False) -> None:
        super().__init__()
        self.drop_tree = drop_tree

    def __getitem__(self, index: int) -> dict:
        item = super().__getitem__(index)
        if self.drop_tree:
            label = item['data_samples'].gt_sem_seg.data
            label[label == 4] = 0
        return item


class ScalarSpy(Hook):
    """The logged ``rdd/tse_kept/*`` values after each iteration (after the
    watch hook and the logger)."""

    priority = 'LOW'

    def __init__(self) -> None:
        self.values = {}

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        scalars = runner.message_hub.log_scalars
        self.values[runner.iter + 1] = {
            key.rsplit('/', 1)[-1]: scalars[key].current()
            for key in scalars if key.startswith('train/rdd/tse_kept/')
        }


def spy_on_tse(model) -> list:
    """Wrap the TSE estimator: record each main-head call's labels,
    selection and counts."""
    calls = []
    tse = model.distiller.tse
    forward = tse.forward

    def recording(logits, label, head, record):
        out = forward(logits, label, head, record)
        if head.is_main:
            calls.append(
                dict(label=label.clone(), mask=out.distill_map.clone()))
        return out

    tse.forward = recording
    return calls


def build_runner(tmp_path, hooks, max_iters=5, dataset=None, **tse):
    torch.manual_seed(0)
    # thresholds that split the tiny untrained models' pixels
    tse = dict(dict(type='RDDTSEDifficulty', thresh=0.2, min_kept=2), **tse)
    return tiny_runner(
        tmp_path,
        rdd_cfg(switch_iter=1, tse=tse),
        'watch', [dict(type='RDDStageHook'), *hooks],
        max_iters,
        checkpoint_interval=100,
        dataset=dataset or NamedSet())


def kept_shares(calls) -> list:
    """Per class, kept pixels / valid pixels over ``calls``, by a loop."""
    shares = []
    for c in range(len(CLASSES)):
        valid = sum(int((call['label'] == c).sum()) for call in calls)
        kept = sum(
            int(((call['label'] == c) & call['mask']).sum()) for call in calls)
        shares.append(kept / valid if valid else math.nan)
    return shares


def test_logs_the_share_of_each_class_kept_in_each_interval(tmp_path):
    spy = ScalarSpy()
    runner = build_runner(
        tmp_path, [dict(type='RDDSelectionWatchHook', interval=2), spy],
        dataset=NamedSet(drop_tree=True))
    calls = spy_on_tse(runner.model)
    runner.train()
    # iteration 0 is TFE; TSE steps 1..4; the hook reads after 2 and 4
    assert len(calls) == 4
    for after, window in ((2, calls[:1]), (4, calls[1:3])):
        expected = kept_shares(window)
        logged = spy.values[after]
        assert list(logged) == list(CLASSES)
        for name, value in zip(CLASSES, expected):
            if math.isnan(value):  # no 'tree' pixel: NaN, not 0
                assert name == 'tree' and math.isnan(logged[name])
            else:
                assert logged[name] == pytest.approx(value, abs=1e-12), name
                assert 0 < value < 1  # neither empty nor full
    log = open(runner.logger.log_file).read()
    # in the logged line of the same iteration
    assert f'rdd/tse_kept/pole: {spy.values[4]["pole"]:.4f}' in log
    # step 4 is counted and not read yet
    steps, counts = runner.model.distiller.pop_class_counts()
    assert steps == 1
    label, mask = calls[3]['label'], calls[3]['mask']
    assert counts['valid'].tolist() == [
        int((label == c).sum()) for c in range(5)
    ]
    assert counts['kept'].tolist() == [
        int(((label == c) & mask).sum()) for c in range(5)
    ]
    assert runner.model.distiller.pop_class_counts() == (0, {})


def test_the_counts_are_summed_over_the_steps_between_reads(tmp_path):
    runner = build_runner(tmp_path, [], max_iters=4)
    calls = spy_on_tse(runner.model)
    runner.train()
    steps, counts = runner.model.distiller.pop_class_counts()
    assert steps == len(calls) == 3
    assert list(counts) == ['valid', 'kept', 'hard_student', 'hard_both']
    for c in range(5):
        assert int(counts['valid'][c]) == sum(
            int((call['label'] == c).sum()) for call in calls)
        assert int(counts['kept'][c]) == sum(
            int(((call['label'] == c) & call['mask']).sum()) for call in calls)
    assert (counts['hard_both'] <= counts['hard_student']).all()
    assert (counts['hard_student'] <= counts['valid']).all()


def test_warns_once_naming_each_starved_class(tmp_path):
    # every class whose kept share is below 100% is starved: all five
    runner = build_runner(tmp_path, [
        dict(
            type='RDDSelectionWatchHook',
            interval=2,
            starved_share=1.0,
            student_hard_share=0.0,
            min_class_pixels=1)
    ])
    runner.train()
    log = open(runner.logger.log_file).read()
    assert log.count('RDD: TSE starves') == 1  # two checks, warned once
    message = log[log.index('RDD: TSE starves'):].split('\n')[0]
    assert message.startswith('RDD: TSE starves 5 class(es) of task-loss '
                              'signal: in the last 1 iteration it kept '
                              'less than 100% of their valid pixels')
    for name in CLASSES:
        assert f"'{name}' (kept " in message
    assert 'model.distiller.tse.min_class_share' in message
    assert 'TSE selected no pixel' not in log


def test_no_class_warning_with_the_default_thresholds(tmp_path):
    runner = build_runner(tmp_path,
                          [dict(type='RDDSelectionWatchHook', interval=2)])
    runner.train()
    assert 'RDD: TSE starves' not in open(runner.logger.log_file).read()


def test_an_empty_selection_names_its_cause_not_the_classes(tmp_path):
    """thresh 0.99: both tiny models find every pixel hard."""
    runner = build_runner(
        tmp_path, [dict(type='RDDSelectionWatchHook', interval=2)],
        thresh=0.99,
        min_kept=100)
    runner.train()
    log = open(runner.logger.log_file).read()
    assert 'RDD: TSE starves' not in log
    # checked after iterations 2 (one TSE step) and 4 (two)
    assert 'TSE selected no pixel in the last 1 iteration, so' in log
    assert 'TSE selected no pixel in the last 2 iterations' in log
    assert log.count('Cause: teacher and student both find every valid '
                     'pixel hard') == 2
    assert 'min_kept (100) is below the' in log


class UnlabelledSet(NamedSet):
    """Every label ignored."""

    def __getitem__(self, index: int) -> dict:
        item = super().__getitem__(index)
        item['data_samples'].gt_sem_seg.data[:] = 255
        return item


def test_a_batch_without_labels_is_named_not_min_kept(tmp_path):
    spy = ScalarSpy()
    runner = build_runner(
        tmp_path, [dict(type='RDDSelectionWatchHook', interval=2), spy],
        max_iters=3,
        dataset=UnlabelledSet())
    runner.train()
    log = open(runner.logger.log_file).read()
    assert ('RDD: TSE selected no pixel in the last 1 iteration, so the '
            "student's task loss was 0 in each of them (distillation loss "
            'only; the logged task loss is a 10-iteration mean and can hide '
            'it). Cause: the batches had no labelled pixel (every label was '
            'ignore_index=255): check the label maps of the data set and '
            'reduce_zero_label.') in log
    assert 'min_kept' not in log  # not the estimator's one-time warning
    assert all(math.isnan(v) for v in spy.values[2].values())


@pytest.mark.parametrize(
    'mode, valid, hard_student, hard_both, steps, min_kept, cause', [
        ('xor', 0, 0, 0, 2, 100, 'no_valid'),
        ('xor', 100, 0, 0, 2, 1, 'not_finite'),
        ('student', 100, 0, 0, 2, 1, 'not_finite'),
        ('or', 100, 0, 0, 2, 1, 'not_finite'),
        ('and', 100, 30, 0, 2, 1, 'disjoint'),
        ('xor', 100, 100, 100, 2, 50, 'min_kept'),
        ('xor', 100, 100, 100, 2, 100, 'min_kept'),
        ('xor', 100, 100, 100, 2, 49, 'all_hard'),
        ('xor', 100, 90, 90, 2, 49, 'agree'),
        ('xor', 100, 30, 30, 2, 1, 'agree'),
    ])
def test_empty_selection_cause_truth_table(mode, valid, hard_student,
                                           hard_both, steps, min_kept, cause):
    assert empty_selection_cause(mode, valid, hard_student, hard_both, steps,
                                 min_kept) == cause


@pytest.mark.parametrize('kwargs', [
    dict(interval=0),
    dict(log_classes=1),
    dict(starved_share=0),
    dict(starved_share=1.5),
    dict(student_hard_share=-0.1),
    dict(student_hard_share='0.5'),
    dict(min_class_pixels=0),
    dict(min_class_pixels=2.5),
])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match='RDDSelectionWatchHook'):
        RDDSelectionWatchHook(**kwargs)
