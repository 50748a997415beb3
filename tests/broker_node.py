"""A private RabbitMQ node for tests that stop and restart the broker.

It runs beside the shared broker with its own node name, ports and data directory
(``RABBITMQ_NODENAME``, ``RABBITMQ_NODE_PORT``, ``RABBITMQ_MNESIA_BASE``, its own
config file), so stopping it never touches the shared node on port 5672.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BrokerNode:
    """Start, stop and restart a private RabbitMQ node on 127.0.0.1 (data kept across restarts)."""

    def __init__(self, name: str = "pvsimtest") -> None:
        self.port = _free_port()
        self.nodename = f"{name}{self.port}@localhost"
        self.base = Path(tempfile.mkdtemp(prefix="pvsim-rabbit-"))
        os.chmod(self.base, 0o777)
        config = self.base / "rabbitmq.conf"
        config.write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\nloopback_users = none\n")
        (self.base / "rabbitmq-env.conf").write_text("")
        self.env = dict(
            os.environ,
            RABBITMQ_NODENAME=self.nodename,
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(_free_port()),
            RABBITMQ_MNESIA_BASE=str(self.base / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.base / "log"),
            RABBITMQ_CONFIG_FILE=str(config),
            RABBITMQ_CONF_ENV_FILE=str(self.base / "rabbitmq-env.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.base / "enabled_plugins"),
            RABBITMQ_PID_FILE=str(self.base / "node.pid"),
            ERL_EPMD_ADDRESS="127.0.0.1",
        )
        (self.base / "enabled_plugins").write_text("[].\n")
        for sub in ("mnesia", "log"):
            (self.base / sub).mkdir()
        shutil.chown(self.base, "rabbitmq", "rabbitmq")
        for path in self.base.iterdir():
            shutil.chown(path, "rabbitmq", "rabbitmq")

    @property
    def url(self) -> str:
        """AMQP URL of the node's default vhost."""
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def _ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["rabbitmqctl", "-n", self.nodename, *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False)

    def start(self, timeout_s: float = 90) -> None:
        """Start the node and wait until it accepts AMQP connections."""
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env, check=True, timeout=60,
                       capture_output=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._ctl("await_startup", timeout=timeout_s).returncode == 0 and self._port_open():
                return
            time.sleep(0.5)
        raise RuntimeError(f"RabbitMQ node {self.nodename} did not start; logs in {self.base / 'log'}")

    def _port_open(self) -> bool:
        with socket.socket() as sock:
            sock.settimeout(1)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        """Stop the whole node (every connection drops); data stays for the next start."""
        self._ctl("stop", timeout=120)
        deadline = time.monotonic() + 30
        while self._port_open() and time.monotonic() < deadline:
            time.sleep(0.2)

    def restart(self) -> None:
        """Stop, then start the node again."""
        self.stop()
        self.start()

    def queue_depth(self, queue: str) -> int:
        """Messages in ``queue`` on the default vhost."""
        out = self._ctl("list_queues", "-q", "name", "messages").stdout
        for line in out.splitlines():
            parts = line.split()
            if parts and parts[0] == queue:
                return int(parts[1])
        raise KeyError(queue)

    def destroy(self) -> None:
        """Stop the node and delete its data."""
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
