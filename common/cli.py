"""Command line built from a settings class: one flag per field, environment as fallback.

Flags win over environment variables, which win over defaults. A bad value ends the
program with one line naming the setting and exit code 2, before any connection.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import math
import sys
from collections.abc import Sequence
from typing import NoReturn, TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

S = TypeVar("S", bound=BaseSettings)


def flag_name(field: str) -> str:
    """``exit_when_done`` -> ``--exit-when-done``."""
    return "--" + field.replace("_", "-")


def env_name(settings_cls: type[BaseSettings], field: str) -> str:
    """The environment variable a field is read from (``AMQP_URL`` or ``PVSIM_<FIELD>``)."""
    info = settings_cls.model_fields[field]
    alias = info.validation_alias
    if alias is not None and hasattr(alias, "choices"):
        return str(alias.choices[-1])
    prefix = settings_cls.model_config.get("env_prefix", "")
    return f"{prefix}{field}".upper()


def build_parser(settings_cls: type[BaseSettings], prog: str, description: str) -> argparse.ArgumentParser:
    """An ``argparse`` parser with one option per settings field (no defaults: unset stays unset)."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, argument_default=argparse.SUPPRESS
    )
    for name, info in settings_cls.model_fields.items():
        help_text = f"{info.description} (env {env_name(settings_cls, name)}"
        if info.annotation is bool:
            parser.add_argument(flag_name(name), dest=name, action="store_const", const=True,
                                help=(help_text + "=true)").replace("%", "%%"))
            continue
        default = info.get_default(call_default_factory=False)
        if default is not None:
            help_text += f"; default {'max' if default == math.inf else default}"
        help_text += ")"
        parser.add_argument(flag_name(name), dest=name, metavar=name.upper(), help=help_text.replace("%", "%%"))
    return parser


def describe_error(settings_cls: type[BaseSettings], error: ValidationError) -> str:
    """One line naming each bad setting by flag and environment variable."""
    parts = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "?"
        if field not in settings_cls.model_fields:  # a check across settings names them itself
            parts.append(str(item["msg"]).removeprefix("Value error, "))
            continue
        where = f"{flag_name(field)} / {env_name(settings_cls, field)}"
        message = str(item["msg"]).removeprefix("Value error, ")
        value = item.get("input")
        known = isinstance(value, str | int | float) and str(value) not in message
        shown = f" (got {value!r})" if known else ""
        parts.append(f"{where}: {message}{shown}")
    return "; ".join(parts)


def parse_settings(
    settings_cls: type[S], argv: Sequence[str] | None, prog: str, description: str
) -> S:
    """Parse ``argv`` and the environment into ``settings_cls``.

    Raises
    ------
    SystemExit
        With code 2 and one line on stderr if a flag or value is invalid.
    """
    parser = build_parser(settings_cls, prog, description)
    args = vars(parser.parse_args(argv))
    try:
        return settings_cls(**args)
    except ValidationError as error:
        print(f"{prog}: error: {describe_error(settings_cls, error)}", file=sys.stderr)
        raise SystemExit(2) from None


def require_modules(command: str, modules: Sequence[str], requirements: str) -> None:
    """Stop with one line naming the requirements file if a module ``command`` needs is not installed.

    ``modules``: top-level import names (e.g. ``"pandapower"``); ``requirements``: the file
    that installs them. Raises ``SystemExit(1)`` (a missing install, not bad input).
    """
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        print(f"{command}: error: {', '.join(missing)} not installed; install with: "
              f"pip install -r {requirements}", file=sys.stderr)
        raise SystemExit(1)


def exit_process(code: int) -> NoReturn:
    """End a service's process with exit ``code`` (its ``python -m`` entry, once :meth:`main` returned).

    Everything is written and closed by then; the objects left are frozen (:func:`gc.freeze`) so that the
    interpreter's final garbage collection does not walk all of them: the PV simulator's exit took 70-140 ms
    after its last log line, 10-20 ms frozen (measured here), time every run of a pipeline waits for.
    """
    gc.freeze()
    sys.exit(code)
