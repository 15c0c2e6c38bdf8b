# Copyright (c) mmrdd contributors. All rights reserved.
"""The parameters every mixing batch augmentation checks, once, in its base
(``MixBatchAugment``): the same rule and message for CutMix and mixup."""
import pytest

from mmrdd.models import SegCutMix, SegMixup

AUGMENTS = [SegCutMix, SegMixup]


@pytest.mark.parametrize('cls', AUGMENTS)
@pytest.mark.parametrize('prob', [-0.1, 1.5, True, '0.5', None])
def test_bad_prob_names_the_class_and_the_value(cls, prob):
    with pytest.raises(ValueError) as err:
        cls(prob=prob)
    assert str(err.value) == (
        f'{cls.__name__}: prob must be in [0, 1], got {prob!r}.')


@pytest.mark.parametrize('cls', AUGMENTS)
@pytest.mark.parametrize('alpha', [0, -1.0, True, '1'])
def test_bad_alpha_names_the_class_and_the_value(cls, alpha):
    with pytest.raises(ValueError) as err:
        cls(alpha=alpha)
    assert str(err.value) == f'{cls.__name__}: alpha must be > 0, got ' \
        f'{alpha!r}.'


@pytest.mark.parametrize('cls', AUGMENTS)
def test_good_values_are_kept_as_floats(cls):
    aug = cls(prob=0, alpha=2)
    assert (aug.prob, aug.alpha) == (0.0, 2.0)
    assert isinstance(aug.prob, float) and isinstance(aug.alpha, float)
    aug = cls(prob=1, alpha=0.5, seed=3)
    assert (aug.prob, aug.alpha, aug.seed) == (1.0, 0.5, 3)
    assert aug.generator is aug.generator  # one private generator
    assert cls(seed=None).generator is None  # torch's global RNG


@pytest.mark.parametrize('cls', AUGMENTS)
def test_bad_seed_names_the_class(cls):
    with pytest.raises(
            TypeError, match=f'{cls.__name__}: seed must be an int'):
        cls(seed=1.5)
