"""The README's run command against a real Docker engine, from a fresh clone (issue 8).

Each test clones the checkout's committed HEAD into a temporary directory, gives the clone to
an owner (root, or uid 1000 as on most desktops), runs the README's run command exactly as
written there as that owner with no PVSIM_* variable set, and checks the day it writes: every
second once, the meter's seeded readings, the reference PV curve, net = meter − PV, and who
owns the files. Once the compose file has the web service (``api``), it also starts it and asks
it on its published port (``/api/health``, ``/docs``). The stack is always taken down
(``docker compose down -v``) and its built images removed. A unique ``COMPOSE_PROJECT_NAME``
per test keeps parallel runs apart (the README command has no ``-p``; the variable is
Compose's own, not a pvsim setting).

Needs a running engine with Compose v2 and the base images: ``bash .ci/docker-engine`` (as
root) provides them, with local stand-ins when no registry can be reached. Without an engine
these tests fail; they never skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import ROOT
from tests.expect import assert_day_exact, plan_for

README = ROOT / "README.md"
TIMEZONE = ZoneInfo("Europe/Berlin")
"""The compose file's default PVSIM_TIMEZONE."""
COMMAND_TIMEOUT_S = 1200
"""Build from nothing (pip installs on a busy 2-core machine) plus broker start and the day."""
ENGINE_HINT = "run `bash .ci/docker-engine` as root: it installs and starts the engine and provides the images"


def readme_run_command() -> str:
    """The first line of the first ```bash block under the README's "The two commands"."""
    text = README.read_text()
    section = text[text.index("## The two commands"):]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "no bash block under 'The two commands'"
    return block.group(1).strip().splitlines()[0]


def dockerfile_arg(path: Path, name: str) -> str:
    match = re.search(rf"^ARG {name}=(\S+)$", path.read_text(), re.MULTILINE)
    assert match, f"{path.name} has no ARG {name}"
    return match.group(1)


def test_readme_run_command_is_compose_up_of_the_pv_simulator() -> None:
    command = readme_run_command()
    assert command.startswith("docker compose up "), command
    assert "--exit-code-from pv_simulator" in command and command.endswith(" pv_simulator"), command


@pytest.fixture(scope="session")
def engine() -> None:
    """Fail (never skip) when no engine with Compose v2 answers."""
    if shutil.which("docker") is None:
        pytest.fail(f"no docker command: {ENGINE_HINT}")
    for probe in (["docker", "info"], ["docker", "compose", "version"]):
        done = subprocess.run(probe, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            pytest.fail(f"`{' '.join(probe)}` failed ({done.stderr.strip()[-300:]}): {ENGINE_HINT}")


@dataclass(frozen=True)
class Clone:
    path: Path
    uid: int
    gid: int
    env: dict[str, str]


def run(clone: Clone, argv: list[str], timeout: float = COMMAND_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """``argv`` in the clone as its owner (with the docker socket's group when not root)."""
    as_owner: dict = {}
    if clone.uid != 0:
        as_owner = {"user": clone.uid, "group": clone.gid,
                    "extra_groups": [os.stat("/var/run/docker.sock").st_gid]}
    return subprocess.run(argv, cwd=clone.path, env=clone.env, capture_output=True, text=True,
                          timeout=timeout, check=False, **as_owner)


@pytest.fixture
def clone(request: pytest.FixtureRequest, engine: None) -> Iterator[Clone]:
    """A fresh clone of HEAD owned by ``request.param`` (uid, gid); its stack is removed afterwards.

    It lives in a directory of its own under the system's temp dir (pytest's ``tmp_path`` sits
    in a root-only directory that another owner could not enter).
    """
    uid, gid = request.param
    tmp_path = Path(tempfile.mkdtemp(prefix="pvsim-e2e-"))
    tmp_path.chmod(0o755)
    path = tmp_path / "pvsim"
    # --no-hardlinks: the clone is chowned below, and a hard-linked object would change owner in
    # the source repository too. safe.directory: the checkout may belong to another user than root.
    subprocess.run(["git", "-c", "safe.directory=*", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(path)],
                   check=True, timeout=120)
    home = tmp_path / "home"
    home.mkdir()
    for item in (path, home):
        subprocess.run(["chown", "-R", f"{uid}:{gid}", str(item)], check=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "COMPOSE_PROJECT_NAME": f"pvsim-e2e-{uuid.uuid4().hex[:8]}"}
    if "DOCKER_HOST" in os.environ:
        env["DOCKER_HOST"] = os.environ["DOCKER_HOST"]
    made = Clone(path, uid, gid, env)
    try:
        yield made
    finally:
        try:
            # --profile '*': a plain `down` leaves the containers of profile services (scale) running.
            down = run(made, ["docker", "compose", "--profile", "*", "down", "-v", "--remove-orphans",
                              "--rmi", "local"], timeout=300)
        finally:
            shutil.rmtree(tmp_path, ignore_errors=True)
        assert down.returncode == 0, f"docker compose down failed:\n{down.stderr[-2000:]}"


API_SERVICE = "api"
API_PORT = 8000
"""The web service's container port (Dockerfile.api); its compose service publishes it."""


def compose_services(clone: Clone) -> dict[str, dict]:
    done = run(clone, ["docker", "compose", "config", "--format", "json"], timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["services"]


def http_get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read()


def assert_api_answers(clone: Clone) -> None:
    """Start the web service (with what it depends on) and ask it on its published port."""
    up = run(clone, ["docker", "compose", "up", "--detach", "--wait", "--wait-timeout", "600", API_SERVICE])
    assert up.returncode == 0, f"`up --wait {API_SERVICE}` failed:\n{up.stdout[-3000:]}\n{up.stderr[-3000:]}"
    port = run(clone, ["docker", "compose", "port", API_SERVICE, str(API_PORT)], timeout=60)
    assert port.returncode == 0 and port.stdout.strip(), f"{API_SERVICE} publishes no port {API_PORT}: {port.stderr}"
    address = port.stdout.strip().splitlines()[0].replace("0.0.0.0:", "127.0.0.1:")
    status, body = http_get(f"http://{address}/api/health")
    health = json.loads(body)
    assert (status, health.get("status"), health.get("database")) == (200, "ok", "ok"), health
    status, body = http_get(f"http://{address}/docs")
    assert status == 200 and b"swagger" in body.lower()


def files_under(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.name != ".gitkeep"]


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.timeout(COMMAND_TIMEOUT_S + 300)
@pytest.mark.parametrize("clone", [(0, 0), (1000, 1000)], ids=["owned-by-root", "owned-by-uid-1000"], indirect=True)
def test_readme_run_command_writes_the_day_from_a_fresh_clone(clone: Clone) -> None:
    command = readme_run_command()
    started = datetime.now(TIMEZONE).date()
    done = run(clone, ["sh", "-c", command])
    log = f"$ {command}\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"exit {done.returncode} (a base image missing? {ENGINE_HINT}):\n{log}"

    output = clone.path / "output"
    days = sorted(output.glob("meter-1/*.csv"))
    assert len(days) == 1, f"expected one day file, found {days}:\n{log}"
    day = date.fromisoformat(days[0].stem)
    assert day in {started, started + timedelta(days=1)}, f"{day} is not today ({started}) in Europe/Berlin"
    assert sorted(p.relative_to(output).as_posix() for p in output.glob("*/*.csv")) == [f"meter-1/{day}.csv"]
    # Every second of the local day once (86,400 rows; 82,800 / 90,000 on clock-change days), the
    # meter's readings for seed 0, the reference PV curve, net = meter − PV, in timestamp order.
    plan = plan_for(day, meters=1, seed=0, timezone="Europe/Berlin")
    assert assert_day_exact(output, plan) == len(plan.day(0).timestamps_s)

    # Who owns what was written: the owner of ./output, or the image's unprivileged user when
    # that is root (the service never runs as root).
    expected_uid = clone.uid or int(dockerfile_arg(ROOT / "Dockerfile.pv", "APP_UID"))
    written = files_under(output)
    assert written, "nothing written"
    owners = {(p.relative_to(output).as_posix(), p.stat().st_uid) for p in written}
    assert all(uid == expected_uid for _path, uid in owners), f"expected uid {expected_uid}: {sorted(owners)}"
    assert expected_uid != 0
    if clone.uid:
        assert all(p.stat().st_gid == clone.gid for p in written)
    stat = output.stat()
    assert (stat.st_uid, stat.st_gid) == (clone.uid, clone.gid), "./output changed owner"

    # The web service, once the compose file has it (issue 10): it answers on its published port.
    # Once is enough (it mounts nothing, so the checkout's owner does not matter to it).
    if clone.uid == 0 and API_SERVICE in compose_services(clone):
        assert_api_answers(clone)


SCALE_COMMAND = "docker compose --profile scale up --build --exit-code-from batch batch"
"""The README's batch-on-Dask command (issue 12), for one day: the README's example runs a year."""
SCALE_DAY = date(2026, 6, 21)


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.timeout(COMMAND_TIMEOUT_S + 300)
@pytest.mark.parametrize("clone", [(1000, 1000)], ids=["owned-by-uid-1000"], indirect=True)
def test_scale_profile_writes_the_day_on_a_dask_cluster(clone: Clone) -> None:
    assert SCALE_COMMAND in README.read_text(), "the README no longer shows the scale profile's command"
    # A free host port for the Dask dashboard: the default 8787 may be held by a parallel stack.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dashboard_port = probe.getsockname()[1]
    # PVSIM_FEEDER: the grid step too (the batch image carries pandapower).
    settings = f"PVSIM_DATE={SCALE_DAY.isoformat()} PVSIM_FEEDER=seed PVSIM_DASK_DASHBOARD_PORT={dashboard_port}"
    done = run(clone, ["sh", "-c", f"{settings} {SCALE_COMMAND}"])
    log = f"$ {SCALE_COMMAND}\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"exit {done.returncode}:\n{log}"
    output = clone.path / "output"
    assert sorted(p.relative_to(output).as_posix() for p in output.glob("*/*.csv")) == [f"meter-1/{SCALE_DAY}.csv"]
    plan = plan_for(SCALE_DAY, meters=1, seed=0, timezone="Europe/Berlin")
    assert assert_day_exact(output, plan) == 86_400
    grid_files = sorted(p.name for p in (output / "grid" / "seed").iterdir())
    assert grid_files == [f"{SCALE_DAY}.buildings.csv", f"{SCALE_DAY}.csv", f"{SCALE_DAY}.summary.json"], grid_files
    assert len((output / "grid" / "seed" / f"{SCALE_DAY}.csv").read_text().splitlines()) == 1 + 1440
    owners = {(p.relative_to(output).as_posix(), p.stat().st_uid, p.stat().st_gid) for p in files_under(output)}
    assert all((uid, gid) == (clone.uid, clone.gid) for _path, uid, gid in owners), sorted(owners)
