# Copyright (c) mmrdd contributors. All rights reserved.
"""Checks shared by the arguments that enter from a config.

A config's ``True`` is an ``int`` to Python; every numeric argument of
mmrdd rejects it, so each check asks one of the same two questions
(:func:`is_number`, :func:`is_int`); the range and its message stay with
the class that checks. :func:`check_choice` is the whole check of an
argument with a fixed set of values.
"""


def is_number(value) -> bool:
    """Whether ``value`` is an int or a float, and not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_int(value) -> bool:
    """Whether ``value`` is an int, and not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_choice(owner: str, name: str, value, choices) -> None:
    """A ValueError naming ``owner``, ``name`` and the choices unless
    ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f'{owner}: {name} must be one of {choices}, got '
                         f'{value!r}.')
