"""``pvsim <command> ...``: every program of the project behind one installed command.

Each subcommand hands the rest of the command line to the ``main`` of the module that
``python -m <module>`` runs, so ``pvsim meter --help`` prints what ``python -m meter --help``
prints, and both forms take the same flags and environment variables and exit with the same code.
A module is imported only when its subcommand runs: ``pvsim --help`` needs no optional dependency.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

#: subcommand -> (module run by ``python -m``, one-line summary for ``pvsim --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "meter": ("meter", "emulate building meters and publish their readings to RabbitMQ"),
    "pv-simulator": ("pv_simulator", "consume the readings, add PV power, write the day CSVs"),
    "report": ("pv_simulator.report", "summarise day CSVs (energy, self-consumption, autarky); --plot"),
    "dead-letters": ("pv_simulator.dead_letters", "list or replay the messages the PV simulator rejected"),
    "batch": ("batch", "meters and PV for many days without a broker (local workers or Dask)"),
    "grid": ("grid", "power flow of the meters' buildings on a low-voltage feeder for a day"),
    "api": ("api", "the web service: simulations, live results, dashboard (REST, GraphQL, WebSockets)"),
}


def usage() -> str:
    """The text of ``pvsim --help``: the subcommands and the modules they run."""
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: pvsim <command> [options]", "",
             "Rooftop PV and building meters over RabbitMQ, batch sweeps, feeder power flow and a web service.",
             "", "commands:"]
    lines += [f"  {name:<{width}}  {summary} (python -m {module})" for name, (module, summary) in COMMANDS.items()]
    lines += ["", "`pvsim <command> --help` lists a command's flags (each also read from an environment variable)."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pvsim``; returns the exit code (the subcommand's, or 2 for an unknown command).

    Parameters
    ----------
    argv
        The arguments after ``pvsim`` (default: ``sys.argv[1:]``).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"pvsim: error: unknown command '{name}' (choose from {', '.join(COMMANDS)})", file=sys.stderr)
        return 2
    module = COMMANDS[name][0]
    entry = importlib.import_module(module if "." in module else f"{module}.__main__")  # what python -m runs
    code = entry.main(rest)
    return int(code or 0)
