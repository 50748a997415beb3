"""A private RabbitMQ node for tests that stop and restart the broker.

It runs beside the shared broker with its own node name, ports and data directory
(``RABBITMQ_NODENAME``, ``RABBITMQ_NODE_PORT``, ``RABBITMQ_MNESIA_BASE``, its own
config file), so stopping it never touches the shared node on port 5672.
:class:`BrokerCluster` forms several such nodes into a cluster (classic config peer
discovery; the nodes share the ``rabbitmq`` user's Erlang cookie).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
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
        self.config = self.base / "rabbitmq.conf"
        config = self.config
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
        self.launch()
        self.await_startup(timeout_s)

    def launch(self) -> None:
        """Start the node in the background (:meth:`await_startup` waits for it)."""
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env, check=True, timeout=60,
                       capture_output=True)

    def await_startup(self, timeout_s: float = 90) -> None:
        """Wait until the node accepts AMQP connections."""
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

    def kill(self) -> None:
        """``kill -9`` the node's Erlang VM (no clean shutdown) and wait until its port is closed."""
        pid = int((self.base / "node.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while self._port_open() and time.monotonic() < deadline:
            time.sleep(0.1)

    def ctl(self, *args: str, timeout: float = 60) -> str:
        """Run ``rabbitmqctl`` against this node; returns its output, raises on failure."""
        done = self._ctl(*args, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {self.nodename} failed: {done.stderr.strip()}")
        return done.stdout

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


class BrokerCluster:
    """``size`` private nodes forming one RabbitMQ cluster (classic config peer discovery), on 127.0.0.1."""

    def __init__(self, size: int = 3, name: str = "pvsimc") -> None:
        self.nodes = [BrokerNode(f"{name}{index}x") for index in range(size)]
        peers = "".join(f"cluster_formation.classic_config.nodes.{index} = {node.nodename}\n"
                        for index, node in enumerate(self.nodes, start=1))
        for node in self.nodes:
            with node.config.open("a") as config:
                config.write("cluster_formation.peer_discovery_backend = classic_config\n" + peers)

    @property
    def url(self) -> str:
        """``AMQP_URL`` listing every node, comma-separated."""
        return ",".join(node.url for node in self.nodes)

    def start(self, timeout_s: float = 180) -> float:
        """Start every node and wait until all run in one cluster; returns the seconds it took."""
        began = time.monotonic()
        for node in self.nodes:
            node.launch()
        for node in self.nodes:
            node.await_startup(timeout_s)
        deadline = began + timeout_s
        while time.monotonic() < deadline:
            if self.running() == len(self.nodes):
                return time.monotonic() - began
            time.sleep(0.5)
        raise RuntimeError(f"cluster did not form; logs under {[str(n.base) for n in self.nodes]}")

    def running(self) -> int:
        """How many nodes the first reachable node sees running in its cluster."""
        for node in self.nodes:
            done = node._ctl("cluster_status", "--formatter", "json", timeout=30)
            if done.returncode == 0:
                return len(json.loads(done.stdout).get("running_nodes", []))
        return 0

    def node_on_port(self, port: int) -> BrokerNode:
        """The node listening on ``port``."""
        return next(node for node in self.nodes if node.port == port)

    def destroy(self) -> None:
        """Stop every node and delete their data."""
        for node in self.nodes:
            node.destroy()
