"""What a browser page or a network peer cannot do: foreign Host names, foreign WebSocket origins,
cross-site form posts, and learning where the database is or a password in a URL."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from api.db.engine import DatabaseUnavailable
from common.redact import RedactingFilter, redact_urls
from pv_simulator import dead_letters

SECRET_DATABASE = 'connection to server at "10.9.8.7", port 6543 failed: database "payroll" does not exist'


def test_only_allowed_host_names_are_answered(make_client: Callable[..., TestClient]) -> None:
    client = make_client(allowed_hosts="localhost,127.0.0.1,testserver")
    assert client.get("/api/health", headers={"host": "rebound.evil.example"}).status_code == 400
    assert client.get("/api/health", headers={"host": "localhost:8000"}).status_code == 200
    with pytest.raises(WebSocketDisconnect), client.websocket_connect(
            "/ws/live", headers={"host": "rebound.evil.example"}) as ws:
        ws.receive_json()


@pytest.mark.parametrize("path", ["/ws/live", "/ws/simulations"])
def test_websockets_from_foreign_origins_are_refused(make_client: Callable[..., TestClient], path: str) -> None:
    client = make_client(allowed_origins="http://dashboard.example:8080")
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(
            path, headers={"origin": "http://evil.example"}) as ws:
        ws.receive_json()
    assert refused.value.code == 1008
    for origin in ("http://testserver", "http://dashboard.example:8080", None):  # same origin, allowed, no browser
        headers = {"origin": origin} if origin else {}
        with client.websocket_connect(path, headers=headers) as ws:
            assert ws.receive_text() is not None


def test_graphql_websocket_uses_the_same_allowed_origins(make_client: Callable[..., TestClient]) -> None:
    client = make_client(allowed_origins="http://dashboard.example:8080")
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"],
                                  headers={"origin": "http://dashboard.example:8080"}) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json() == {"type": "connection_ack"}
    with pytest.raises(WebSocketDisconnect), client.websocket_connect(
            "/graphql", subprotocols=["graphql-transport-ws"], headers={"origin": "http://evil.example"}) as ws:
        ws.send_json({"type": "connection_init"})
        ws.receive_json()


def test_a_mutation_needs_a_json_content_type(client: TestClient) -> None:
    for kwargs in ({}, {"content": b"{}", "headers": {"content-type": "text/plain"}},
                   {"data": {"p_mw": "0.1", "q_mvar": "0"}}):  # what a page on another site can send unasked
        refused = client.post("/api/simulations", **kwargs)  # type: ignore[arg-type]
        assert refused.status_code == 415, (kwargs, refused.text)
        assert "Content-Type: application/json" in refused.json()["detail"]
    form = client.post("/graphql", data={"query": "mutation { runSimulation { id } }"})
    assert form.status_code >= 400
    assert client.get("/graphql", params={"query": "mutation { runSimulation { id } }"}).status_code >= 400
    assert client.get("/api/simulations").json()["total"] == 0
    ok = client.post("/api/simulations", content=b"{}", headers={"content-type": "application/json; charset=utf-8"})
    assert ok.status_code == 201


def test_database_outages_do_not_tell_where_the_database_is(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]

    def down(*_args: Any) -> Any:
        raise DatabaseUnavailable(f"database unavailable: {SECRET_DATABASE}")

    monkeypatch.setattr(services.db, "run", down)
    with caplog.at_level(logging.WARNING):
        for path in ("/api/simulations", "/api/health", "/api/meters"):
            answer = client.get(path)
            assert answer.status_code == 503, (path, answer.text)
            assert not any(leak in answer.text for leak in ("10.9.8.7", "6543", "payroll")), answer.text
            assert "database unavailable" in answer.text
    assert any("10.9.8.7" in record.getMessage() for record in caplog.records)  # the operator still learns it


def test_passwords_in_urls_are_redacted_in_text_and_log_records() -> None:
    text = "nodes amqp://pvsim:s3cr@t!@a:5672/%2F, amqps://u:p@b/vh and postgresql+psycopg://db:pw@h/x; http://h/p"
    assert redact_urls(text) == ("nodes amqp://pvsim:***@a:5672/%2F, amqps://u:***@b/vh and "
                                 "postgresql+psycopg://db:***@h/x; http://h/p")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "broker %s down", ("amqp://g:hunter2@h/",), None)
    assert RedactingFilter().filter(record) and record.getMessage() == "broker amqp://g:***@h/ down"


def test_dead_letters_never_print_the_broker_password(capsys: pytest.CaptureFixture[str]) -> None:
    assert dead_letters.main(["--amqp-url", "amqp://pvsim:hunter2@127.0.0.1:1/%2F"]) == 1
    printed = capsys.readouterr()
    assert "hunter2" not in printed.err + printed.out and "pvsim:***@127.0.0.1:1" in printed.err
