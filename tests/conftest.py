"""Shared fixtures: an isolated RabbitMQ vhost per test on the real broker, and service runners."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pika
import pytest

ROOT = Path(__file__).resolve().parent.parent
BROKER_URL = os.environ.get("PVSIM_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def rabbitmqctl(*args: str) -> str:
    """Run ``rabbitmqctl`` against the shared local node; raises on failure."""
    done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def queue_depth(amqp_url: str, queue: str = "pvsim.pv_simulator") -> int:
    """Ready messages in ``queue`` right now (a passive declare; ``rabbitmqctl`` figures lag by seconds)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.message_count)
    finally:
        connection.close()


def url_for_vhost(vhost: str, base: str = BROKER_URL) -> str:
    """``base`` with its vhost replaced."""
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost, safe=""), "", ""))


@pytest.fixture
def vhost() -> Iterator[str]:
    """A fresh vhost on the shared broker (guest has full rights), deleted afterwards."""
    name = f"pvsim-test-{uuid.uuid4().hex[:12]}"
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    yield name
    rabbitmqctl("delete_vhost", name)


@pytest.fixture
def amqp_url(vhost: str) -> str:
    """AMQP URL of the test's own vhost."""
    return url_for_vhost(vhost)


def service_env(amqp_url: str, **settings: str) -> dict[str, str]:
    """Environment for a service process: ``AMQP_URL`` and ``PVSIM_*`` settings, no inherited PVSIM_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PVSIM_") and k != "AMQP_URL"}
    env["AMQP_URL"] = amqp_url
    env["PYTHONPATH"] = str(ROOT)
    env.update({f"PVSIM_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def start_service(module: str, amqp_url: str, *args: str, log_path: Path | None = None,
                  **settings: str) -> subprocess.Popen[bytes]:
    """Start ``python -m <module> <args>`` as a process against ``amqp_url``."""
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, env=service_env(amqp_url, **settings),
                            stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs: fills up after a few thousand rows (needs root, as on our machines and CI)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)], check=True)
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)
