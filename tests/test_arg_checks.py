# Copyright (c) mmrdd contributors. All rights reserved.
"""The two type predicates every numeric config argument is checked with."""
import pytest

from mmrdd.arg_checks import is_int, is_number

# value, is_number, is_int
TABLE = [
    (0, True, True),
    (3, True, True),
    (-2, True, True),
    (0.5, True, False),
    (1.0, True, False),
    (True, False, False),
    (False, False, False),
    ('1', False, False),
    (None, False, False),
    ([1], False, False),
]


@pytest.mark.parametrize('value, number, integer', TABLE)
def test_truth_table(value, number, integer):
    assert is_number(value) is number
    assert is_int(value) is integer
