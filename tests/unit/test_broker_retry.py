"""An unreachable broker: the first failure says how long the retry goes on."""

from __future__ import annotations

import logging
import socket

import pytest

from common.amqp import BrokerUnavailable, open_connection


def test_the_first_failed_attempt_says_how_long_the_retry_will_wait(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="common.amqp")
    with socket.socket() as probe:  # a local port nobody listens on: refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(BrokerUnavailable, match=r"not reachable after 1\.5 s"):
        open_connection(f"amqp://guest:guest@127.0.0.1:{port}/%2F", 1.5)
    attempts = [record.getMessage() for record in caplog.records if "not reachable (attempt" in record.getMessage()]
    assert len(attempts) >= 2
    assert attempts[0].endswith("retrying for up to 1.5 s (--broker-timeout-s / PVSIM_BROKER_TIMEOUT_S)")
    assert " s of 1.5 s left" in attempts[1]
