# Copyright (c) mmrdd contributors. All rights reserved.
"""Type predicates for the arguments that enter from a config.

A config's ``True`` is an ``int`` to Python; every numeric argument of
mmrdd rejects it, so each check asks the same two questions. The messages
stay with the classes that check (each names its class and argument).
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
