"""A name checked against a registry's names (load model, PV model, battery strategy), for validators of
settings and of the models' parameters alike; imports nothing, so :mod:`models` may use it."""

from __future__ import annotations

from collections.abc import Collection


def one_of(value: str, choices: Collection[str], what: str) -> str:
    """``value`` if it is one of ``choices`` (a registry's names); raises ``ValueError`` naming ``what`` it is
    and the choices, for a validator."""
    if value not in choices:
        raise ValueError(f"unknown {what} '{value}' (choose from {', '.join(choices)})")
    return value
