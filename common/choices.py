"""Checks for validators of settings and of the models' parameters alike: a name against a registry's names
(load model, PV model, battery strategy), a step that divides an hour; imports nothing, so :mod:`models` may
use it."""

from __future__ import annotations

from collections.abc import Collection


def one_of(value: str, choices: Collection[str], what: str) -> str:
    """``value`` if it is one of ``choices`` (a registry's names); raises ``ValueError`` naming ``what`` it is
    and the choices, for a validator."""
    if value not in choices:
        raise ValueError(f"unknown {what} '{value}' (choose from {', '.join(choices)})")
    return value


def divides_an_hour(value: int, name: str) -> int:
    """``value`` [s] if it divides 3600, so one grid of steps runs across midnights and clock changes (days
    last 23, 24 or 25 hours); raises ``ValueError`` naming the field ``name``, for a validator."""
    if 3600 % value:
        raise ValueError(f"{name} must divide 3600 (1, 2, 5, 10, 15, 30, 60, ... s), got {value}")
    return value
