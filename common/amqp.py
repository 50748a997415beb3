"""Thin AMQP plumbing over pika's asynchronous ``SelectConnection``.

The services publish and consume tens of thousands of messages per second, which
needs pika's callback API with windowed publisher confirms (a blocking publish that
waits for each confirm manages about 1,600 msg/s). :class:`AmqpService` owns the
connect / reconnect loop; subclasses implement what happens on a fresh channel.

``AMQP_URL`` may list several nodes of a RabbitMQ cluster, separated by commas
(``amqp://u:p@node1:5672/%2F,amqp://u:p@node2:5672/%2F``): each connection attempt
tries them in turn, starting after the node last connected to, and the exponential
backoff applies between rounds over all nodes.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from types import FrameType

import pika
import tenacity
from pika.adapters.select_connection import SelectConnection
from pika.channel import Channel
from pika.exceptions import (
    AMQPConnectionError,
    ChannelClosedByBroker,
    ProbableAccessDeniedError,
    ProbableAuthenticationError,
)

log = logging.getLogger(__name__)


class BrokerUnavailable(RuntimeError):
    """The broker could not be reached (or refused us) within the configured time."""


class StopRequested(Exception):
    """A stop was requested while waiting for the broker."""


class _StopWhen(tenacity.stop.stop_base):
    """Stop retrying as soon as ``predicate()`` is true."""

    def __init__(self, predicate: Callable[[], bool]) -> None:
        self.predicate = predicate

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self.predicate()


def _open_once(parameters: pika.URLParameters) -> SelectConnection:
    """Open one connection, running its ioloop until it is open or has failed."""
    outcome: dict[str, BaseException | None] = {"error": None}

    def opened(connection: SelectConnection) -> None:
        connection.ioloop.stop()

    def failed(connection: SelectConnection, error: BaseException) -> None:
        outcome["error"] = error
        connection.ioloop.stop()

    connection = SelectConnection(parameters, on_open_callback=opened, on_open_error_callback=failed)
    connection.ioloop.start()
    error = outcome["error"]
    if error is not None:
        if isinstance(error, AMQPConnectionError):
            raise error
        raise AMQPConnectionError(str(error))
    return connection


def node_parameters(url: str) -> list[pika.URLParameters]:
    """The connection parameters of each node in ``url``, a comma-separated list of AMQP URLs.

    A heartbeat of 30 s and a blocked-connection timeout of 300 s apply unless the URL's
    query sets them (``?heartbeat=5``). Raises ``ValueError`` for an empty list.
    """
    nodes = []
    for part in url.split(","):
        part = part.strip()
        if not part:
            continue
        parameters = pika.URLParameters(part)
        query = part.partition("?")[2]
        if "heartbeat=" not in query:
            parameters.heartbeat = 30
        if "blocked_connection_timeout=" not in query:
            parameters.blocked_connection_timeout = 300
        parameters.connection_attempts = 1
        nodes.append(parameters)
    if not nodes:
        raise ValueError("no AMQP URL given")
    return nodes


def _address(parameters: pika.URLParameters) -> str:
    return f"{parameters.host}:{parameters.port}"


def _open_any(nodes: list[pika.URLParameters], first: int) -> tuple[SelectConnection, int]:
    """Try each node once, starting at index ``first``; returns the connection and the node's index.

    Raises the last node's error if none could be opened (an authentication or access
    error at once: the nodes of a cluster share their users).
    """
    errors = []
    for step in range(len(nodes)):
        index = (first + step) % len(nodes)
        try:
            return _open_once(nodes[index]), index
        except (ProbableAuthenticationError, ProbableAccessDeniedError):
            raise
        except AMQPConnectionError as error:
            errors.append(error)
            if len(nodes) > 1:
                log.info("broker node %s not reachable (%s)", _address(nodes[index]), _describe(error))
    raise errors[-1]


def open_connection(url: str, timeout_s: float, stopping: Callable[[], bool] = lambda: False,
                    first_node: int = 0) -> tuple[SelectConnection, int]:
    """Open an async connection to a node of ``url``, retrying with exponential backoff and jitter.

    ``url`` is one AMQP URL or a comma-separated list of a cluster's nodes; each attempt
    tries every node in turn from index ``first_node``. Each failed attempt is logged;
    attempts stop after ``timeout_s`` [s]. Wrong credentials or an unknown vhost are
    not retried. Returns the connection and the index of the node it is open to.

    Raises
    ------
    BrokerUnavailable
        If no connection could be opened in time, or access was refused.
    StopRequested
        If ``stopping()`` became true while retrying.
    """
    nodes = node_parameters(url)
    where = f"{' or '.join(_address(node) for node in nodes)} vhost '{nodes[0].virtual_host}'"
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_delay(timeout_s) | _StopWhen(stopping),
        wait=tenacity.wait_exponential_jitter(multiplier=0.2, max=5.0, jitter=0.5),
        retry=tenacity.retry_if_exception(
            lambda e: isinstance(e, AMQPConnectionError)
            and not isinstance(e, ProbableAuthenticationError | ProbableAccessDeniedError)
        ),
        before_sleep=lambda state: log.warning(
            "broker at %s not reachable (attempt %d: %s); %s",
            where,
            state.attempt_number,
            _describe(state.outcome.exception() if state.outcome else None),
            _retry_plan(state, timeout_s),
        ),
        reraise=True,
    )
    try:
        connection, index = retrying(_open_any, nodes, first_node % len(nodes))
    except (ProbableAuthenticationError, ProbableAccessDeniedError) as error:
        raise BrokerUnavailable(
            f"broker at {where} refused access ({_describe(error)}); check user, password and vhost in AMQP_URL"
        ) from None
    except AMQPConnectionError as error:
        if stopping():
            raise StopRequested from None
        raise BrokerUnavailable(
            f"broker at {where} not reachable after {timeout_s:g} s ({_describe(error)}); "
            "check AMQP_URL and that RabbitMQ is running"
        ) from None
    log.info("connected to broker at %s vhost '%s'", _address(nodes[index]), nodes[index].virtual_host)
    return connection, index


def _retry_plan(state: tenacity.RetryCallState, timeout_s: float) -> str:
    """How long the retry goes on: in full at the first failure, then the time left."""
    if state.attempt_number == 1:
        return f"retrying for up to {timeout_s:g} s (--broker-timeout-s / PVSIM_BROKER_TIMEOUT_S)"
    left = max(timeout_s - (state.seconds_since_start or 0.0), 0.0)
    return f"retrying, {left:.0f} s of {timeout_s:g} s left"


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "unknown error"
    text = str(error) or repr(error)
    return f"{type(error).__name__}: {text}" if text != type(error).__name__ else text


class AmqpService:
    """Connect, run, and reconnect after a lost connection until the work is finished.

    Subclasses implement :meth:`on_channel_open` (start work on a fresh channel),
    :meth:`on_connection_lost` (forget per-channel state) and call :meth:`finish`
    when done. SIGTERM and SIGINT call :meth:`on_stop_requested`.
    """

    def __init__(self, url: str, broker_timeout_s: float) -> None:
        self._url = url
        self._broker_timeout_s = broker_timeout_s
        self._node = 0  # index in the URL list of the node to try first
        self.connection: SelectConnection | None = None
        self.channel: Channel | None = None
        self.finished = False
        self.stop_requested = False
        self.declared = False
        """The topology is declared on the current channel (a PRECONDITION_FAILED before that is fatal)."""
        self.exit_code = 0

    # -- to implement -------------------------------------------------------------------
    def on_channel_open(self, channel: Channel) -> None:
        """Start (or resume) the work on a fresh channel."""
        raise NotImplementedError

    def on_connection_lost(self) -> None:
        """Forget state bound to the lost channel (delivery tags, unconfirmed publishes)."""

    def on_stop_requested(self) -> None:
        """SIGTERM / SIGINT arrived: wrap up, then call :meth:`finish`."""
        self.finish()

    # -- lifecycle --------------------------------------------------------------------
    def run(self) -> int:
        """Run until finished; returns the process exit code.

        Raises
        ------
        BrokerUnavailable
            If the broker cannot be reached within ``broker_timeout_s``.
        """
        self._install_signal_handlers()
        while not self.finished and not self.stop_requested:
            try:
                self.connection, node = open_connection(self._url, self._broker_timeout_s,
                                                        lambda: self.stop_requested, self._node)
                self._node = node + 1  # after losing this node, try the next one first
            except StopRequested:
                break
            if self.stop_requested:  # SIGTERM arrived while connecting
                self.connection.close()
                break
            self.connection.add_on_close_callback(self._on_connection_closed)
            self.connection.channel(on_open_callback=self._on_channel_open)
            self.connection.ioloop.start()
            self.channel = None
            if not self.finished:
                self.on_connection_lost()
        return self.exit_code

    def finish(self, exit_code: int = 0) -> None:
        """Close the connection and end :meth:`run` with ``exit_code``."""
        self.finished = True
        self.exit_code = exit_code or self.exit_code
        if self.connection is not None and self.connection.is_open:
            self.connection.close()
        elif self.connection is not None:
            self.connection.ioloop.stop()

    def _on_channel_open(self, channel: Channel) -> None:
        self.channel = channel
        self.declared = False
        channel.add_on_close_callback(self._on_channel_closed)
        self.on_channel_open(channel)

    def _on_channel_closed(self, channel: Channel, reason: BaseException) -> None:
        if self.connection is None or not self.connection.is_open or self.finished:
            return
        if isinstance(reason, ChannelClosedByBroker) and (
            reason.reply_code == 403 or (reason.reply_code == 406 and not self.declared)
        ):
            # Retrying cannot help: the broker refuses our rights, or our topology (406 while declaring).
            log.error("broker refused: %s %s; fix the broker setup (e.g. delete a queue declared with other "
                      "arguments, or grant the user configure/write/read rights on the vhost), then restart",
                      reason.reply_code, reason.reply_text)
            self.finish(1)
            return
        log.warning("channel closed by broker (%s); reconnecting", _describe(reason))
        self.connection.close()

    def _on_connection_closed(self, connection: SelectConnection, reason: BaseException) -> None:
        if not self.finished:
            log.warning("connection to broker lost (%s); reconnecting", _describe(reason))
        connection.ioloop.stop()

    def _install_signal_handlers(self) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            log.info("%s received: finishing", signal.Signals(signum).name)
            self.stop_requested = True
            connection = self.connection
            if connection is not None and connection.is_open:
                connection.ioloop.add_callback_threadsafe(self.on_stop_requested)

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
