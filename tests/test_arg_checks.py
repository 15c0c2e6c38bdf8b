# Copyright (c) mmrdd contributors. All rights reserved.
"""The shared checks of config arguments: the two type predicates and the
choice check."""
import pytest

from mmrdd.arg_checks import check_choice, is_int, is_number

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


def test_check_choice_names_owner_argument_choices_and_value():
    check_choice('Owner', 'mode', 'b', ('a', 'b'))  # a choice: no error
    with pytest.raises(ValueError) as err:
        check_choice('Owner', 'mode', 'c', ('a', 'b'))
    assert str(err.value) == "Owner: mode must be one of ('a', 'b'), got 'c'."
