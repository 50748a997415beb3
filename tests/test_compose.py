"""docker-compose.yml, the Dockerfiles and .dockerignore, checked without a Docker engine.

The structure tests read the files. The integration test takes the ``meter`` and
``pv_simulator`` services as Compose would start them (command, or the Dockerfile's
CMD; environment with ``${VAR:-default}`` resolved to its default; the start order of
``depends_on``) and runs them as local processes against the test broker, with the
broker host and vhost, the bind-mounted output directory and "today" replaced by
test values. It then checks the day's CSV.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from api.settings import ApiSettings
from batch.settings import BatchSettings
from common.cli import env_name
from meter.settings import MeterSettings
from pv_simulator.settings import PvSimulatorSettings
from tests.conftest import ROOT, url_for_vhost
from tests.expect import assert_day_exact, plan_for

COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICES = {"meter": ("meter", MeterSettings), "pv_simulator": ("pv_simulator", PvSimulatorSettings)}
"""Compose service -> (Python module, settings class)."""
SETTINGS_OF: dict[str, type[BaseSettings]] = {
    "meter": MeterSettings, "pv_simulator": PvSimulatorSettings, "api": ApiSettings, "batch": BatchSettings,
}
"""Every compose service that runs a pvsim program -> that program's settings class."""
FIXED: dict[str, dict[str, str]] = {
    # Fixed on purpose: values that only make sense inside the compose network and containers.
    # Everything else must be a pass-through of the same variable from the shell or .env.
    "meter": {"AMQP_URL": "the rabbitmq service"},
    "pv_simulator": {"AMQP_URL": "the rabbitmq service", "PVSIM_OUTPUT_DIR": "the ./output bind mount",
                     "PVSIM_EXIT_WHEN_DONE": "ends `docker compose up ... pv_simulator` with the day"},
    "api": {"AMQP_URL": "the rabbitmq service", "PVSIM_DATABASE_URL": "the postgres service",
            "PVSIM_API_HOST": "every interface inside the container", "PVSIM_API_PORT": "what ports: publishes",
            "PVSIM_OUTPUT_DIR": "the image's directory (the database is postgres)"},
    "batch": {"PVSIM_SCHEDULER_ADDRESS": "the dask-scheduler service", "PVSIM_OUTPUT_DIR": "the ./output bind mount"},
}
LEFT_OUT: dict[str, dict[str, str]] = {
    # Settings a service does not get at all, and why.
    "batch": {"PVSIM_WORKERS": "local processes only; on compose the days run on the dask-worker containers"},
}
DAY = date(2026, 6, 21)
"""The date the integration test emulates when the compose default is today."""
CSV_HEADER = "timestamp,meter_id,meter_power_kw,pv_power_kw,net_power_kw"
TIMEOUT_S = 120


# -- reading the files ----------------------------------------------------------------------------
def load_compose() -> dict:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(compose, dict) and isinstance(compose.get("services"), dict), "no services in the compose file"
    return compose


def service(compose: dict, name: str) -> dict:
    assert name in compose["services"], f"service '{name}' missing from {COMPOSE_FILE.name}"
    return compose["services"][name]


_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}|\$(?P<bare>[A-Za-z_]\w*)"
)


def with_defaults(value: object) -> str:
    """``value`` interpolated as Compose does when none of the variables is set.

    ``${VAR:-default}`` and ``${VAR-default}`` give the default, ``${VAR}`` and ``$VAR``
    an empty string, ``$$`` a dollar. Any other form fails the test.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return match.group("default") or ""

    resolved = _INTERPOLATION.sub(substitute, text)
    assert "${" not in resolved, f"unsupported interpolation in {text!r}"
    return resolved


def environment(svc: dict) -> dict[str, str]:
    """A service's ``environment`` with defaults resolved; variables without a value are left out (unset)."""
    raw = svc.get("environment") or {}
    if isinstance(raw, list):
        pairs = [item.split("=", 1) if "=" in item else [item, None] for item in raw]
        raw = {key: value for key, value in pairs}
    return {key: with_defaults(value) for key, value in raw.items() if value is not None}


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def dockerfile(path: Path) -> list[Instruction]:
    """The instructions of a Dockerfile (comments dropped, continuation lines joined)."""
    logical: list[str] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    assert not pending, f"{path.name} ends inside a continued line"
    return [Instruction(*[*text.split(None, 1), ""][:2]) for text in logical if text]


def dockerfile_of(svc: dict) -> Path:
    build = svc.get("build")
    assert isinstance(build, dict), "the service is not built from a Dockerfile"
    path = ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
    assert path.is_file(), f"{path} does not exist"
    return path


def cmd_of(instructions: list[Instruction]) -> list[str]:
    """The exec-form CMD of a Dockerfile (the last one counts)."""
    cmds = [i.args for i in instructions if i.keyword.upper() == "CMD"]
    assert cmds, "the Dockerfile has no CMD"
    argv = json.loads(cmds[-1])
    assert isinstance(argv, list), "CMD is not in exec form"
    return argv


def command_of(svc: dict) -> list[str]:
    """What the container runs: the compose ``command``, else the Dockerfile's CMD."""
    command = svc.get("command")
    if command is None:
        return cmd_of(dockerfile(dockerfile_of(svc)))
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def bind_mounts(svc: dict) -> list[tuple[str, str]]:
    """(host source, container target) of each bind mount of a service."""
    mounts = []
    for volume in svc.get("volumes") or []:
        if isinstance(volume, str):
            parts = volume.split(":")
            if len(parts) >= 2 and parts[0].startswith((".", "/", "~")):
                mounts.append((parts[0], parts[1]))
        elif volume.get("type") == "bind":
            mounts.append((volume["source"], volume["target"]))
    return mounts


def valid_env_names(settings_cls: type[BaseSettings]) -> set[str]:
    return {env_name(settings_cls, field) for field in settings_cls.model_fields}


def field_env_names(settings_cls: type[BaseSettings]) -> dict[str, set[str]]:
    """Field name -> every environment variable pydantic-settings reads it from (upper case).

    An alias (``validation_alias``/``alias``, one name or ``AliasChoices``) is used as it is,
    without the prefix; a field without one is ``<env_prefix><FIELD>``. Names compare case-blind
    (``case_sensitive`` is off), so they are upper-cased.
    """
    assert not settings_cls.model_config.get("case_sensitive"), "names below are compared case-blind"
    prefix = settings_cls.model_config.get("env_prefix", "")
    names = {}
    for field, info in settings_cls.model_fields.items():
        alias = info.validation_alias or info.alias
        if isinstance(alias, AliasChoices):
            choices = {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        elif isinstance(alias, str):
            choices = {alias.upper()}
        else:
            choices = {f"{prefix}{field}".upper()}
        names[field] = choices
    return names


def raw_environment(svc: dict) -> dict[str, object]:
    """A service's ``environment`` as written (``<<:`` merges resolved by the YAML loader), values uninterpolated."""
    raw = svc.get("environment") or {}
    if isinstance(raw, list):
        return {item.split("=", 1)[0]: item.split("=", 1)[1] if "=" in item else None for item in raw}
    return dict(raw)


# -- compose file structure -----------------------------------------------------------------------
def test_broker_is_the_official_management_image_with_a_healthcheck() -> None:
    rabbitmq = service(load_compose(), "rabbitmq")
    assert rabbitmq.get("image") == "rabbitmq:4-management"
    check = rabbitmq.get("healthcheck")
    assert isinstance(check, dict) and not check.get("disable"), "rabbitmq has no healthcheck"
    test = check.get("test")
    test_text = " ".join(test) if isinstance(test, list) else str(test)
    assert "rabbitmq-diagnostics" in test_text, test_text
    assert {"interval", "timeout", "retries", "start_period"} <= set(check), check


def test_broker_refuses_bodies_far_over_the_wire_contract() -> None:
    from common.schema import MAX_BODY_BYTES

    mounts = dict(bind_mounts(service(load_compose(), "rabbitmq")))
    source = next(src for src, target in mounts.items() if target.startswith("/etc/rabbitmq/conf.d/"))
    lines = [line.split("=", 1) for line in (ROOT / source).read_text().splitlines() if not line.startswith("#")]
    settings = {key.strip(): value.strip() for key, value in (pair for pair in lines if len(pair) == 2)}
    assert 4 * MAX_BODY_BYTES <= int(settings["max_message_size"]) <= 1024 * 1024, settings


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_services_wait_for_a_healthy_broker(name: str) -> None:
    depends_on = service(load_compose(), name).get("depends_on")
    assert isinstance(depends_on, dict), f"{name}: depends_on must use the long form with conditions"
    assert depends_on.get("rabbitmq", {}).get("condition") == "service_healthy"


def test_pv_simulator_writes_while_the_meter_publishes_and_gives_up_on_a_silent_meter() -> None:
    compose = load_compose()
    pv = service(compose, "pv_simulator")
    # Live: the PV simulator runs beside the meter, so the dashboard follows the day as it happens.
    assert pv["depends_on"].get("meter", {}).get("condition") == "service_started"
    # A failed meter cannot stop it through Compose: it exits 1 by itself after a silent minute.
    assert environment(pv)["PVSIM_IDLE_EXIT_S"] == "60"
    # A restart policy would keep the meter from ever completing.
    assert service(compose, "meter").get("restart", "no") == "no"


def test_meter_waits_for_the_web_service_so_the_dashboard_gets_the_whole_day() -> None:
    compose = load_compose()
    assert service(compose, "meter")["depends_on"].get("api", {}).get("condition") == "service_healthy"
    assert "'connected'" in " ".join(service(compose, "api")["healthcheck"]["test"])
    assert environment(service(compose, "meter"))["PVSIM_SPEED"] == "720"


def test_pv_simulator_writes_into_the_bind_mounted_output_and_exits_when_done() -> None:
    pv = service(load_compose(), "pv_simulator")
    mounts = dict(bind_mounts(pv))
    assert "./output" in mounts, f"./output is not bind-mounted: {pv.get('volumes')}"
    target = PurePosixPath(mounts["./output"])
    env = environment(pv)
    output_dir = PurePosixPath(env["PVSIM_OUTPUT_DIR"])
    assert output_dir == target or target in output_dir.parents, f"{output_dir} is not on the mount {target}"
    assert env["PVSIM_EXIT_WHEN_DONE"].lower() in {"true", "1", "yes", "on"}


def test_pv_simulator_user_is_left_to_the_entrypoint() -> None:
    # A fixed `user:` would bring back issue 8 (Permission denied on ./output for any other owner).
    pv = service(load_compose(), "pv_simulator")
    assert "user" not in pv, f"pv_simulator has a fixed user {pv['user']!r}: the entrypoint adopts ./output's owner"
    assert "PVSIM_UID" not in COMPOSE_FILE.read_text()


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_environment_names_real_settings(name: str) -> None:
    env = service(load_compose(), name).get("environment") or {}
    names = set(env) if isinstance(env, dict) else {item.split("=", 1)[0] for item in env}
    unknown = names - valid_env_names(SERVICES[name][1])
    assert not unknown, f"{name}: {sorted(unknown)} are not settings of {SERVICES[name][0]} (typo?)"
    required = {
        "meter": {"AMQP_URL", "PVSIM_DATE", "PVSIM_DAYS", "PVSIM_SPEED", "PVSIM_METERS", "PVSIM_SEED",
                  "PVSIM_TIMEZONE", "PVSIM_LOG_LEVEL"},
        "pv_simulator": {"AMQP_URL", "PVSIM_TIMEZONE", "PVSIM_OUTPUT_DIR", "PVSIM_EXIT_WHEN_DONE", "PVSIM_LOG_LEVEL"},
    }[name]
    assert required <= names, f"{name}: missing {sorted(required - names)}"


def test_environment_defaults_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    compose = load_compose()
    timezones = set()
    for name, (_module, settings_cls) in SERVICES.items():
        for key in list(os.environ):
            if key.startswith("PVSIM_") or key == "AMQP_URL":
                monkeypatch.delenv(key)
        env = environment(service(compose, name))
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = settings_cls()
        assert urlsplit(settings.amqp_url).hostname == "rabbitmq", "services must reach the broker by its service name"
        timezones.add(settings.timezone)
    assert len(timezones) == 1, f"meter and PV simulator disagree on the timezone: {timezones}"


@pytest.mark.parametrize("name", sorted(SETTINGS_OF))
def test_every_setting_reaches_the_container(name: str) -> None:
    """Each setting of the service's program is in its environment, or on the commented LEFT_OUT list."""
    settings_cls = SETTINGS_OF[name]
    env = raw_environment(service(load_compose(), name))
    by_field = field_env_names(settings_cls)
    every_name = set().union(*by_field.values())
    left_out = LEFT_OUT.get(name, {})
    assert set(left_out) <= every_name, f"{name}: LEFT_OUT names no setting: {sorted(set(left_out) - every_name)}"
    missing = sorted(min(names) for names in by_field.values() if not names & set(env) and not names & set(left_out))
    assert not missing, f"{name}: {missing} never reach the container (settings of {settings_cls.__name__})"
    unknown = sorted(key for key in env if key.startswith("PVSIM_") and key not in every_name)
    assert not unknown, f"{name}: {unknown} are not settings of {settings_cls.__name__} (typo?)"
    assert not set(left_out) & set(env), f"{name}: on LEFT_OUT and in the environment"


@pytest.mark.parametrize("name", sorted(SETTINGS_OF))
def test_settings_pass_through_from_the_shell_or_env_file_unless_fixed(name: str) -> None:
    """``KEY: ${KEY:-default}`` for every setting but the FIXED ones, which take nothing from the shell."""
    env = raw_environment(service(load_compose(), name))
    fixed = FIXED.get(name, {})
    assert set(fixed) <= set(env), f"{name}: FIXED names what the environment lacks: {sorted(set(fixed) - set(env))}"
    for key, value in env.items():
        own = re.fullmatch(rf"\$\{{{re.escape(key)}:-[^}}$]*\}}", str(value))
        if key in fixed:
            assert f"${{{key}" not in str(value), f"{name}: {key} is fixed ({fixed[key]}) but reads the shell"
        else:
            assert own, f"{name}: {key}: {value!r} is neither ${{{key}:-...}} (pass-through) nor on FIXED"


@pytest.mark.parametrize("name", sorted(SETTINGS_OF))
def test_empty_pass_through_gives_the_programs_default(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing set, the environment compose gives is valid, and each ``${KEY:-}`` means the field's default."""
    settings_cls = SETTINGS_OF[name]
    for key in list(os.environ):
        if key.startswith("PVSIM_") or key == "AMQP_URL":
            monkeypatch.delenv(key)
    env = environment(service(load_compose(), name))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = settings_cls()
    for field, names in field_env_names(settings_cls).items():
        if any(env.get(key) == "" for key in names):
            default = settings_cls.model_fields[field].get_default(call_default_factory=True)
            assert getattr(settings, field) == default, f"{name}: an empty {sorted(names)} is not {field}'s default"


def compose_binary() -> list[str] | None:
    """The Compose v2 CLI (`config` needs no engine): the plugin .ci/docker-engine installs, or `docker compose`."""
    plugin = Path("/usr/local/lib/docker/cli-plugins/docker-compose")
    if plugin.is_file() and os.access(plugin, os.X_OK):
        return [str(plugin)]
    for candidate in (["docker", "compose"], ["docker-compose"]):
        try:
            done = subprocess.run([*candidate, "version"], capture_output=True, text=True, timeout=30, check=False)
        except OSError:
            continue
        if done.returncode == 0 and "v2." in done.stdout:
            return candidate
    return None


def test_credentials_come_from_the_env_example_and_default_to_the_development_ones(tmp_path: Path) -> None:
    """`.env.example` made into a .env (its documented generator) reaches broker, database and every client."""
    binary = compose_binary()
    assert binary is not None, "no Compose v2 CLI: bash .ci/docker-engine installs one (fails, never skips)"
    example = (ROOT / ".env.example").read_text()
    generator = next(line.strip().lstrip("#").strip() for line in example.splitlines() if "token_hex" in line)
    (tmp_path / ".env.example").write_text(example)
    (tmp_path / "docker-compose.yml").write_text(COMPOSE_FILE.read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PVSIM_", "COMPOSE_")) and k != "AMQP_URL"}
    subprocess.run(["bash", "-c", generator], cwd=tmp_path, env=env, check=True, timeout=30)
    values = dict(line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines()
                  if "=" in line and not line.startswith("#"))
    secrets = {key: value for key, value in values.items() if "PASSWORD" in key}
    assert len(secrets) == 2 and len(set(secrets.values())) == 2, values
    assert all(re.fullmatch(r"[0-9a-f]{48}", value) for value in secrets.values()), values

    def config(directory: Path) -> dict:
        done = subprocess.run([*binary, "--project-directory", str(directory), "--profile", "scale", "config",
                               "--no-path-resolution", "--format", "json"],
                              cwd=directory, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["services"]

    user, password = values["PVSIM_RABBITMQ_USER"], values["PVSIM_RABBITMQ_PASSWORD"]
    resolved = config(tmp_path)
    assert resolved["rabbitmq"]["environment"] == {"RABBITMQ_DEFAULT_USER": user, "RABBITMQ_DEFAULT_PASS": password}
    assert resolved["postgres"]["environment"]["POSTGRES_PASSWORD"] == values["PVSIM_POSTGRES_PASSWORD"]
    for name in ("meter", "pv_simulator", "api"):
        assert resolved[name]["environment"]["AMQP_URL"] == f"amqp://{user}:{password}@rabbitmq:5672/%2F"
    assert f":{values['PVSIM_POSTGRES_PASSWORD']}@postgres:" in resolved["api"]["environment"]["PVSIM_DATABASE_URL"]
    plain = tmp_path / "without-env"  # no .env: `docker compose up` still works, with the development defaults
    plain.mkdir()
    (plain / "docker-compose.yml").write_text(COMPOSE_FILE.read_text())
    assert config(plain)["meter"]["environment"]["AMQP_URL"] == "amqp://guest:guest@rabbitmq:5672/%2F"


def test_only_the_web_service_and_the_dask_dashboard_are_published_and_only_on_loopback() -> None:
    published = {name: [with_defaults(port) for port in svc.get("ports") or []]
                 for name, svc in load_compose()["services"].items()}
    assert {name for name, ports in published.items() if ports} == {"api", "dask-scheduler"}, published
    assert published["dask-scheduler"] == ["127.0.0.1:8787:8787"]  # the scheduler's 8786 stays on the network
    assert all(port.startswith("127.0.0.1:") for ports in published.values() for port in ports), published


def test_values_from_an_env_file_reach_every_service(tmp_path: Path) -> None:
    """What Compose itself makes of a .env next to the file (`config`, no engine): every setting gets through."""
    binary = compose_binary()
    assert binary is not None, "no Compose v2 CLI: bash .ci/docker-engine installs one (fails, never skips)"
    compose = load_compose()
    names = {key for name in SETTINGS_OF for key in raw_environment(service(compose, name))}
    (tmp_path / "docker-compose.yml").write_text(COMPOSE_FILE.read_text())
    (tmp_path / ".env").write_text("".join(f"{key}=from-env-file-{key}\n" for key in sorted(names)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PVSIM_", "COMPOSE_")) and k != "AMQP_URL"}
    done = subprocess.run([*binary, "--project-directory", str(tmp_path), "--profile", "scale", "config",
                           "--no-path-resolution", "--format", "json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    resolved = json.loads(done.stdout)["services"]
    for name in SETTINGS_OF:
        got = resolved[name]["environment"]
        for key in raw_environment(service(compose, name)):
            if key in FIXED.get(name, {}):
                assert "from-env-file" not in str(got[key]), f"{name}: fixed {key} taken from .env: {got[key]}"
            else:
                assert got[key] == f"from-env-file-{key}", f"{name}: {key} = {got[key]!r}, not the .env's value"


def readme_compose_meters() -> int:
    """The most meters a Compose example in README.md or the compose file's comments runs (``PVSIM_METERS=N``)."""
    lines = [line for line in (ROOT / "README.md").read_text().splitlines() if "docker compose" in line]
    lines += [line for line in COMPOSE_FILE.read_text().splitlines() if line.startswith("#")]
    counts = [int(n) for line in lines for n in re.findall(r"PVSIM_METERS=(\d+)", line)]
    assert counts, "no Compose example with PVSIM_METERS"
    return max(counts)


def test_the_live_grid_feeder_takes_the_meters_of_the_compose_examples() -> None:
    """The web service's default feeder solves an interval of the examples' meters (review M5: `seed` has 1 load)."""
    from api.power_flows import GridPowerFlows, PowerFlowError

    feeder = environment(service(load_compose(), "api"))["PVSIM_FEEDER"]
    meters = readme_compose_meters()
    assert meters > 1
    try:
        state = GridPowerFlows().buildings(feeder, {f"meter-{n}": (2.0, 0.5) for n in range(1, meters + 1)})
    except PowerFlowError as error:
        pytest.fail(f"the compose feeder {feeder} cannot take {meters} meters: {error}")
    assert sorted(state["buildings"]) == sorted(f"meter-{n}" for n in range(1, meters + 1))


def test_the_api_image_carries_the_compose_feeder_built() -> None:
    """Dockerfile.api builds the compose default feeder into its cache: the service does not read SimBench at start."""
    feeder = environment(service(load_compose(), "api"))["PVSIM_FEEDER"]
    instructions = dockerfile(dockerfile_of(service(load_compose(), "api")))
    envs = " ".join(i.args for i in instructions if i.keyword.upper() == "ENV")
    assert re.search(r"\bPVSIM_CACHE_DIR=/\S+", envs), "no PVSIM_CACHE_DIR in Dockerfile.api"
    runs = " ".join(i.args for i in instructions if i.keyword.upper() == "RUN")
    assert f"cached_feeder('{feeder}')" in runs, f"Dockerfile.api does not build feeder {feeder}"


# -- Dockerfiles and build context ----------------------------------------------------------------
def dockerfile_args(path: Path) -> dict[str, str]:
    args = {}
    for instruction in dockerfile(path):
        if instruction.keyword.upper() == "ARG" and "=" in instruction.args:
            key, value = instruction.args.split("=", 1)
            args[key.strip()] = value.strip().strip('"')
    return args


def copy_sources(instructions: list[Instruction]) -> list[str]:
    sources = []
    for instruction in instructions:
        if instruction.keyword.upper() == "COPY":
            words = [w for w in instruction.args.split() if not w.startswith("--")]
            sources.extend(words[:-1])
    return sources


ENTRYPOINT_SCRIPT = ROOT / "docker" / "entrypoint.sh"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_dockerfile_runs_the_service_as_a_non_root_user(name: str) -> None:
    """The meter has a non-root USER; the PV simulator's entrypoint drops root before the service starts.

    What the entrypoint does at run time (the owner it picks, never root) is checked on a real
    engine by tests/e2e/test_compose_stack.py.
    """
    module = SERVICES[name][0]
    path = dockerfile_of(service(load_compose(), name))
    instructions = dockerfile(path)
    assert instructions[0].keyword.upper() == "FROM" and instructions[0].args.startswith("python:3.11-slim")
    assert cmd_of(instructions) == ["python", "-m", module]
    assert any(i.keyword.upper() == "ENV" and re.search(r"\bPYTHONUNBUFFERED=1\b", i.args) for i in instructions)
    users = [i.args for i in instructions if i.keyword.upper() == "USER"]
    entrypoints = [i.args for i in instructions if i.keyword.upper() == "ENTRYPOINT"]
    if entrypoints:
        assert not users, f"{path.name}: a USER would keep the entrypoint from adopting ./output's owner"
        assert json.loads(entrypoints[-1]) == ["pvsim-entrypoint"]
        copies = [i.args.split() for i in instructions if i.keyword.upper() == "COPY"]
        assert ["docker/entrypoint.sh", "/usr/local/bin/pvsim-entrypoint"] in copies
        script = ENTRYPOINT_SCRIPT.read_text()
        assert os.access(ENTRYPOINT_SCRIPT, os.X_OK), "docker/entrypoint.sh must be executable (git mode 755)"
        drops = [line.strip() for line in script.splitlines() if line.strip().startswith("exec ")]
        assert drops[-1].startswith('exec setpriv --reuid="$run_uid" --regid="$run_gid" --clear-groups'), drops
        assert 'run_uid=$(id -u app)' in script, "a root-owned ./output must not make the service run as root"
        return
    assert users, f"{path.name} has no USER: the service would run as root"
    args = dockerfile_args(path)
    user = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), users[-1]).split(":")[0]
    assert user not in {"root", "0"}, f"{path.name} runs as {users[-1]}"


def test_dockerfiles_share_the_dependency_layers() -> None:
    # Identical instructions up to the pip install: one `docker compose build` installs the
    # requirements once for both images (BuildKit runs identical steps once).
    meter, pv = (dockerfile(dockerfile_of(service(load_compose(), name))) for name in ("meter", "pv_simulator"))

    def prefix(instructions: list[Instruction]) -> list[Instruction]:
        end = next(n for n, i in enumerate(instructions) if i.keyword.upper() == "RUN" and "pip install" in i.args)
        return instructions[: end + 1]

    assert prefix(meter) == prefix(pv)


PROJECT_SOURCES = ["pyproject.toml", "README.md"]
"""What ``pip install .`` reads besides the packages: the project table and the readme it names."""
BUILD_DIR = "/tmp/pvsim"
"""Where the images put pvsim's sources for ``pip install``; removed again in the same RUN."""


def top_level_packages() -> list[str]:
    """The folders of pyproject's ``[tool.setuptools] packages`` (setuptools needs every one to build)."""
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    return sorted({name.split(".")[0] for name in packages})


def lock_installs(instructions: list[Instruction]) -> list[int]:
    return [n for n, i in enumerate(instructions)
            if i.keyword.upper() == "RUN" and "pip install" in i.args and "--require-hashes" in i.args]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_dockerfile_installs_runtime_requirements_before_copying_the_code(name: str) -> None:
    instructions = dockerfile(dockerfile_of(service(load_compose(), name)))
    sources = [s.rstrip("/") for s in copy_sources(instructions)]
    entrypoint = ["docker/entrypoint.sh"] if name == "pv_simulator" else []
    locks = ["requirements.lock", "requirements-build.lock"]
    assert sorted(sources) == sorted([*locks, *PROJECT_SOURCES, *top_level_packages(), *entrypoint]), sources
    copies = [i for i in instructions if i.keyword.upper() == "COPY"]
    installs = lock_installs(instructions)
    assert len(installs) == 1, "expected one pip install from the locks"
    install = instructions[installs[0]]
    assert "--no-cache-dir" in install.args and "--require-hashes -r requirements.lock" in install.args
    assert "-r requirements-build.lock" in install.args, "setuptools, to build pvsim without an index"
    assert "requirements-dev" not in " ".join(i.args for i in instructions)
    assert instructions.index(copies[0]) < installs[0] < instructions.index(copies[1]), \
        "requirements.lock must be copied and installed before the code"
    assert "requirements.lock" in copies[0].args


@pytest.mark.parametrize("path", sorted(p.name for p in ROOT.glob("Dockerfile.*")))
def test_dockerfile_installs_pvsim_as_a_package_without_pythonpath(path: str) -> None:
    """pvsim is pip-installed from its sources in BUILD_DIR, which go again: nothing imports it from a folder.

    setuptools builds only with every package of pyproject's list present, so each image copies all of
    them; the services, ``dask scheduler`` and ``dask worker`` then import pvsim as an installed package
    (tests/unit/test_install.py runs the same install outside the checkout).
    """
    instructions = dockerfile(ROOT / path)
    copies = [i.args.split() for i in instructions if i.keyword.upper() == "COPY"]
    code = [c for c in copies if c[-1].rstrip("/").startswith(BUILD_DIR)]
    assert sorted(s.rstrip("/") for c in code for s in c[:-1]) == sorted([*PROJECT_SOURCES, *top_level_packages()])
    for copy in code:
        if copy[0].endswith("/"):
            assert copy[-1] == f"{BUILD_DIR}/{copy[0]}", f"{path}: {copy} does not keep the package's folder"
    runs = [i.args for i in instructions if i.keyword.upper() == "RUN" and "pip install" in i.args
            and BUILD_DIR in i.args]
    assert len(runs) == 1, f"{path}: expected one install of {BUILD_DIR}"
    assert re.search(rf"pip install --no-cache-dir --no-deps --no-index --no-build-isolation {BUILD_DIR}\b", runs[0])
    assert f"rm -rf {BUILD_DIR}" in runs[0] and "pvsim --help" in runs[0]
    last_lock_install = lock_installs(instructions)[-1]
    assert last_lock_install < instructions.index(next(i for i in instructions if i.args.split() == code[0]))
    assert "-r requirements-build.lock" in instructions[last_lock_install].args
    envs = " ".join(i.args for i in instructions if i.keyword.upper() == "ENV")
    assert "PYTHONPATH" not in envs, f"{path} sets PYTHONPATH: pvsim is installed"
    assert "compileall" not in " ".join(i.args for i in instructions), "pip compiles the installed package"


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore ``patterns`` keep ``path`` out of the build context (last match wins)."""
    ignored = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        if any(fnmatch(prefix, glob) for prefix in prefixes):
            ignored = not negate
    return ignored


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_dockerignore_sends_only_what_the_images_copy() -> None:
    patterns = dockerignore_patterns()
    for path in (".git/config", "output/.gitkeep", "tests/conftest.py", "benchmarks/run.py", ".venv/bin/python",
                 "venv/bin/python", "common/__pycache__/cli.cpython-311.pyc", ".pytest_cache/README.md",
                 "requirements-dev.txt", "requirements-dev.lock", ".env", ".env.example",
                 "docker/standins/build", "docker/standins/python.Dockerfile"):
        assert dockerignored(path, patterns), f"{path} would be sent to the builder"


@pytest.mark.parametrize("path", sorted(p.name for p in ROOT.glob("Dockerfile.*")))
def test_dockerignore_lets_through_everything_a_dockerfile_copies(path: str) -> None:
    # An image whose COPY source is ignored does not build ("not found"), which only a real
    # engine would tell; this catches it in a second.
    patterns = dockerignore_patterns()
    for source in copy_sources(dockerfile(ROOT / path)):
        source_path = ROOT / source
        assert source_path.exists(), f"{path}: COPY source {source} does not exist"
        files = [source_path] if source_path.is_file() else \
            [f for f in source_path.rglob("*") if f.is_file() and "__pycache__" not in f.parts]
        assert files, f"{path}: COPY source {source} is empty"
        for file in files:
            relative = file.relative_to(ROOT).as_posix()
            assert not dockerignored(relative, patterns), f"{path} copies {relative}, but .dockerignore keeps it out"


# -- the compose services as local processes ------------------------------------------------------
@dataclass
class LocalService:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path


def local_service(compose: dict, name: str, amqp_url: str, output_dir: Path, log_dir: Path) -> LocalService:
    """A compose service turned into a local process against the test broker."""
    svc = service(compose, name)
    argv = command_of(svc)
    assert argv[:2] == ["python", "-m"] and argv[2] == SERVICES[name][0], argv
    settings = environment(svc)

    parts = urlsplit(settings["AMQP_URL"])
    assert parts.hostname == "rabbitmq", f"{name} does not use the rabbitmq service: {settings['AMQP_URL']}"
    assert unquote(parts.path.lstrip("/")) == "/", "compose uses the default vhost"
    test_broker = urlsplit(amqp_url)
    netloc = f"{parts.username}:{parts.password}@{test_broker.hostname}:{test_broker.port or 5672}"
    vhost = unquote(test_broker.path.lstrip("/"))
    settings["AMQP_URL"] = url_for_vhost(vhost, urlunsplit((parts.scheme, netloc, "", "", "")))

    if "PVSIM_OUTPUT_DIR" in settings:
        container_dir = PurePosixPath(settings["PVSIM_OUTPUT_DIR"])
        for _source, target in bind_mounts(svc):
            if container_dir == PurePosixPath(target) or PurePosixPath(target) in container_dir.parents:
                settings["PVSIM_OUTPUT_DIR"] = str(output_dir / container_dir.relative_to(target))
                break
        else:
            pytest.fail(f"{name}: output dir {container_dir} is not on a bind mount, the CSVs would be lost")
    if name == "meter" and not settings.get("PVSIM_DATE"):
        settings["PVSIM_DATE"] = DAY.isoformat()  # compose default: today

    env = {k: v for k, v in os.environ.items() if not k.startswith("PVSIM_") and k != "AMQP_URL"}
    env.update(settings, PYTHONPATH=str(ROOT))
    return LocalService(name, [sys.executable, *argv[1:]], env, log_dir / f"{name}.log")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def start(local: LocalService, started: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    log = open(local.log, "wb")  # noqa: SIM115 - closed by the child's exit
    process = subprocess.Popen(local.argv, cwd=ROOT, env=local.env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    started.append(process)
    return process


def wait_ok(process: subprocess.Popen[bytes], local: LocalService) -> None:
    try:
        code = process.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{local.name} still running after {TIMEOUT_S} s:\n{local.log.read_text()[-3000:]}")
    assert code == 0, f"{local.name} exited {code}:\n{local.log.read_text()[-3000:]}"


@pytest.mark.integration
@pytest.mark.slow
def test_compose_services_emulate_a_whole_day(amqp_url: str, tmp_path: Path,
                                              processes: list[subprocess.Popen[bytes]]) -> None:
    compose = load_compose()
    output_dir = tmp_path / "output"
    meter, pv = (local_service(compose, name, amqp_url, output_dir, tmp_path) for name in ("meter", "pv_simulator"))
    meter.env["PVSIM_SPEED"] = "max"  # the wiring is under test here, not the watching pace (720: two minutes)

    meter_first = service(compose, "pv_simulator")["depends_on"].get("meter", {}).get("condition") \
        == "service_completed_successfully"
    if meter_first:  # as Compose does: the PV simulator starts once the meter exited 0
        wait_ok(start(meter, processes), meter)
        wait_ok(start(pv, processes), pv)
    else:
        pv_process = start(pv, processes)
        wait_ok(start(meter, processes), meter)
        wait_ok(pv_process, pv)

    day = date.fromisoformat(meter.env["PVSIM_DATE"])
    csv = output_dir / "meter-1" / f"{day.isoformat()}.csv"
    assert sorted(p.relative_to(output_dir).as_posix() for p in output_dir.glob("*/*.csv")) == \
        [f"meter-{n}/{day.isoformat()}.csv" for n in range(1, int(meter.env["PVSIM_METERS"]) + 1)]
    lines = csv.read_text().splitlines()
    assert lines[0] == CSV_HEADER
    rows = lines[1:]
    assert len(rows) == 86_400
    tz = ZoneInfo(meter.env["PVSIM_TIMEZONE"])
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
    seconds = sorted(int((datetime.fromisoformat(row.split(",", 1)[0]) - midnight).total_seconds()) for row in rows)
    assert seconds == list(range(86_400)), "every second of the day exactly once"
    assert datetime.fromisoformat(rows[0].split(",", 1)[0]).utcoffset() == midnight.utcoffset()
    # The values as well: the meter's seeded readings, the reference PV curve, net = meter - PV.
    plan = plan_for(day, meters=int(meter.env["PVSIM_METERS"]), seed=int(meter.env["PVSIM_SEED"]),
                    timezone=meter.env["PVSIM_TIMEZONE"])
    assert assert_day_exact(output_dir, plan) == 86_400


# -- the PV image's entrypoint, run on this machine -----------------------------------------------
def run_entrypoint(output_dir: Path, *command: str, user: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "PVSIM_OUTPUT_DIR": str(output_dir)}
    return subprocess.run(["sh", str(ENTRYPOINT_SCRIPT), *command], env=env, capture_output=True, text=True,
                          timeout=30, check=False, user=user)


def test_entrypoint_runs_the_command_as_the_owner_of_the_output_dir(tmp_path: Path) -> None:
    # Needs root, as the image's entrypoint has (the suite runs as root, as CI does).
    output_dir = tmp_path / "output"
    output_dir.mkdir()
    os.chown(output_dir, 4242, 4343)
    done = run_entrypoint(output_dir, "sh", "-c", 'echo "$(id -u) $(id -g) $(id -G)"')
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "4242 4343 4343", "owner uid:gid and no other group"
    assert "running as 4242:4343, the owner of" in done.stdout
    # No new privileges: a setuid program would not make the service root again.
    status = run_entrypoint(output_dir, "grep", "NoNewPrivs", "/proc/self/status")
    assert status.stdout.split()[-1] == "1", status.stdout


def test_entrypoint_started_as_another_user_changes_nothing(tmp_path: Path) -> None:
    output_dir = tmp_path / "output"
    output_dir.mkdir()
    os.chown(output_dir, 4242, 4242)
    done = run_entrypoint(output_dir, "id", "-u", user=5151)
    assert (done.returncode, done.stdout.strip()) == (0, "5151"), done.stderr
