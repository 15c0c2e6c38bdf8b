# Copyright (c) mmrdd contributors. All rights reserved.
"""The checkpoint check before --resume: truth table of readable and broken
files, and the previous good checkpoint named in the error."""
import os.path as osp
from pathlib import Path

import pytest
import torch

from mmrdd.runtime import (check_resume_checkpoint, checkpoint_problem,
                           kd_to_student_checkpoint, previous_good_checkpoint,
                           training_state_problem)


def save(path, value=1.0):
    """A training checkpoint: weights and MMEngine's training state."""
    torch.save(
        dict(
            state_dict=dict(w=torch.full((64, 64), value)),
            meta=dict(iter=1),
            message_hub=dict()), str(path))
    return str(path)


def truncate(path, keep=0.5):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


def test_checkpoint_problem_truth_table(tmp_path):
    good = save(tmp_path / 'good.pth')
    assert checkpoint_problem(good) is None
    half = save(tmp_path / 'half.pth')
    truncate(half)
    assert 'truncated' in checkpoint_problem(half)
    tail = save(tmp_path / 'tail.pth')
    truncate(tail, keep=0.999)  # only the end (central directory) is cut
    assert 'truncated' in checkpoint_problem(tail)
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    assert 'empty' in checkpoint_problem(str(empty))
    assert checkpoint_problem(str(tmp_path / 'none.pth')) == 'missing'
    junk = tmp_path / 'junk.pth'
    junk.write_bytes(b'not a checkpoint at all')
    assert checkpoint_problem(str(junk)) == \
        'a text file (it starts with "not a checkpoint at all")'
    binary = tmp_path / 'binary.pth'
    binary.write_bytes(bytes([7, 0, 255, 3]) * 8)
    assert 'unknown content' in checkpoint_problem(str(binary))
    legacy = tmp_path / 'legacy.pth'
    torch.save(dict(a=1), str(legacy), _use_new_zipfile_serialization=False)
    assert checkpoint_problem(str(legacy)) is None
    # a legacy pickle holding a Python object is not loaded (nothing runs)
    pickled = tmp_path / 'pickled.pth'
    torch.save(
        dict(a=Path('x')), str(pickled), _use_new_zipfile_serialization=False)
    assert 'unreadable (UnpicklingError' in checkpoint_problem(str(pickled))


def test_corrupt_bytes_inside_are_found(tmp_path):
    path = save(tmp_path / 'bad.pth')
    data = bytearray(open(path, 'rb').read())
    data[len(data) // 2] ^= 0xFF  # a flipped byte in the tensor data
    open(path, 'wb').write(bytes(data))
    assert 'corrupt' in checkpoint_problem(path)


def test_previous_good_is_the_newest_readable(tmp_path):
    for it in (2, 9, 10):
        save(tmp_path / f'iter_{it}.pth', it)
    truncate(str(tmp_path / 'iter_9.pth'))
    save(tmp_path / 'best_mIoU.pth')  # not numbered: not a resume point
    newest = str(tmp_path / 'iter_10.pth')
    assert previous_good_checkpoint(str(tmp_path)) == newest
    # iter_9 is broken: the one before iter_10 is iter_2
    assert previous_good_checkpoint(
        str(tmp_path), bad=newest) == str(tmp_path / 'iter_2.pth')


def test_resume_check_names_the_bad_and_the_good_checkpoint(tmp_path):
    assert check_resume_checkpoint(str(tmp_path)) is None  # fresh work dir
    good = save(tmp_path / 'iter_3.pth')
    last = save(tmp_path / 'iter_4.pth')
    pointer = tmp_path / 'last_checkpoint'
    pointer.write_text(last)
    assert check_resume_checkpoint(str(tmp_path)) == last
    truncate(last)
    with pytest.raises(RuntimeError) as err:
        check_resume_checkpoint(str(tmp_path))
    msg = str(err.value)
    assert f'the checkpoint {last} (from {pointer}) is truncated' in msg
    assert f'the previous good checkpoint is {good}' in msg
    assert f'--resume --cfg-options load_from={good}' in msg
    # the fix it names passes the check
    assert check_resume_checkpoint(str(tmp_path), load_from=good) == good
    with pytest.raises(RuntimeError, match='from load_from'):
        check_resume_checkpoint(str(tmp_path), load_from=last)
    # killed while writing last_checkpoint itself
    pointer.write_text('')
    with pytest.raises(RuntimeError, match='empty') as err:
        check_resume_checkpoint(str(tmp_path))
    assert f'previous good checkpoint is {good}' in str(err.value)
    # nothing readable left
    truncate(good)
    pointer.write_text(last)
    with pytest.raises(RuntimeError, match='no readable iter_N.pth'):
        check_resume_checkpoint(str(tmp_path))
    assert osp.isfile(last)  # the check deletes nothing


def test_converted_or_weights_only_checkpoints_are_named(tmp_path):
    """``mmrdd-convert --inplace`` then ``--resume``: not KeyError:
    'message_hub' from MMEngine, but what the file is and what to do."""
    run = dict(
        meta=dict(iter=3),
        message_hub=dict(),
        state_dict={'architecture.w': torch.ones(2)})
    good = str(tmp_path / 'iter_3.pth')
    torch.save(run, good)
    assert training_state_problem(good) is None
    converted = str(tmp_path / 'iter_4.pth')
    torch.save(
        kd_to_student_checkpoint(dict(run, meta=dict(iter=4))), converted)
    assert training_state_problem(converted).startswith(
        'a converted student checkpoint')
    (tmp_path / 'last_checkpoint').write_text(converted)
    with pytest.raises(RuntimeError) as err:
        check_resume_checkpoint(str(tmp_path))
    assert str(err.value).startswith(
        f'cannot resume: the checkpoint {converted} (from '
        f'{tmp_path / "last_checkpoint"}) is a converted student checkpoint')
    assert f'the previous good checkpoint is {good}' in str(err.value)
    # a converted older checkpoint is no resume point either
    torch.save(kd_to_student_checkpoint(run), good)
    with pytest.raises(RuntimeError) as err:
        check_resume_checkpoint(str(tmp_path))
    assert 'no resumable iter_N.pth is left' in str(err.value)
    assert f'tools/test.py STUDENT_CONFIG {converted}' in str(err.value)
    # weights only
    weights = str(tmp_path / 'weights.pth')
    torch.save(dict(state_dict={'w': torch.ones(2)}), weights)
    with pytest.raises(RuntimeError, match='is a file of weights only'):
        check_resume_checkpoint(str(tmp_path), load_from=weights)
    torch.save({'w': torch.ones(2)}, weights)
    assert training_state_problem(weights).startswith('a file of weights')
