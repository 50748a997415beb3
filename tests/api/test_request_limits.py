"""One request buys bounded work, and a failure tells the client no more than a request id.

Dates outside the wire contract's range are a 422 naming the range (REST) or an error saying
so (GraphQL); GraphQL refuses several mutation fields, too many aliases and too costly
queries with an error naming the limit; an unexpected error is masked and logged with an id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_graphql import gql


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01", "1970-01-01", "2262-01-01"])
def test_a_day_outside_the_wire_contract_is_a_422_naming_the_range(client: TestClient, date: str) -> None:
    response = client.post("/api/simulations", json={"feeder": "seed", "date": date})
    assert response.status_code == 422, response.text
    assert "date:" in response.json()["detail"] and "1970-01-03 to 2261-12-30" in response.json()["detail"]
    refused = gql(client, f'mutation {{ runSimulation(feeder: "seed", date: "{date}") {{ id }} }}')
    assert refused["data"] is None and "1970-01-03 to 2261-12-30" in refused["errors"][0]["message"]


@pytest.mark.parametrize("timestamp", ["9999-12-31T00:00:00Z", "0001-01-01T00:00:00Z"])
def test_an_instant_outside_the_wire_contract_is_a_422(client: TestClient, timestamp: str) -> None:
    response = client.post("/api/simulations", json={"meter_id": "meter-1", "timestamp": timestamp})
    assert response.status_code == 422, response.text
    assert "timestamp:" in response.json()["detail"] and "outside the instants" in response.json()["detail"]


@pytest.fixture
def broken_launch(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Launching a simulation fails with an error no handler expects, naming a private path."""
    def broken(*_args: Any) -> Any:
        raise OverflowError("date value out of range at /secret/path")

    monkeypatch.setattr(client.app.state.services.simulations, "launch", broken)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("broken_launch")
def test_an_unexpected_graphql_error_is_masked_and_logged_with_the_id_the_client_gets(
        client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="api.graphql.guards"):
        answer = gql(client, "mutation { runSimulation { id } }")
    error = answer["errors"][0]
    assert "out of range" not in error["message"] and "/secret" not in str(answer)
    request_id = error["extensions"]["request_id"]
    assert error["message"] == f"internal error (request id {request_id}, logged by the service)"
    logged = [record for record in caplog.records if request_id in record.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info and "out of range" in str(logged[0].exc_info[1])
    # expected errors still say what is wrong
    missing = gql(client, "mutation { runSimulation(pMw: 0.2) { id } }")
    assert "q_mvar: Field required" in missing["errors"][0]["message"]


def test_one_mutation_field_per_request(client: TestClient) -> None:
    aliased = " ".join(f"a{k}: runSimulation {{ id }}" for k in range(3))
    refused = gql(client, f"mutation {{ {aliased} }}")
    assert refused["data"] is None and "mutation field limit: 3 fields" in refused["errors"][0]["message"]
    via_fragment = gql(client, "mutation { ...Twice } fragment Twice on Mutation { a: runSimulation { id } "
                               "b: runSimulation { id } }")
    assert "mutation field limit: 2 fields" in via_fragment["errors"][0]["message"]
    assert client.get("/api/simulations").json()["total"] == 0
    assert gql(client, "mutation { one: runSimulation { id } }")["data"] == {"one": {"id": 1}}


def test_aliases_over_the_limit_are_refused(make_client: Callable[..., TestClient]) -> None:
    client = make_client(graphql_max_aliases=5)
    many = " ".join(f"a{k}: latestSimulation {{ id }}" for k in range(6))
    refused = gql(client, f"{{ {many} }}")
    assert refused["data"] is None and "6 aliases found. Allowed: 5" in refused["errors"][0]["message"]
    few = " ".join(f"a{k}: latestSimulation {{ id }}" for k in range(5))
    assert "errors" not in gql(client, f"{{ {few} }}")


def test_a_query_costing_more_than_the_limit_is_refused(make_client: Callable[..., TestClient]) -> None:
    client = make_client(graphql_max_cost=1000)
    # 3 fields under a 500-row list, twice: 2 x (1 + 500 x 3) = 3002
    costly = gql(client, "{ a: simulations(limit: 500) { id kind launchedAt } "
                         "b: simulations(limit: 500) { id kind launchedAt } }")
    assert costly["data"] is None
    assert "query cost limit: estimated cost 3002 is over 1000" in costly["errors"][0]["message"]
    # the same through a variable and a fragment
    by_variable = client.post("/graphql", json={
        "query": "query($n: Int!) { simulations(limit: $n) { ...F } } fragment F on Simulation { id kind }",
        "variables": {"n": 500}}).json()
    assert "estimated cost 1001 is over 1000" in by_variable["errors"][0]["message"]
    assert gql(client, "{ simulations(limit: 100) { id kind launchedAt } }") == {"data": {"simulations": []}}


@pytest.mark.usefixtures("broken_launch")
def test_an_unexpected_rest_error_is_a_500_with_the_request_id_of_its_log_line(
        client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    client_500 = TestClient(client.app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        answer = client_500.post("/api/simulations", json={})
    assert answer.status_code == 500 and "/secret" not in answer.text
    request_id = answer.json()["detail"].split("request id ")[1].split(",")[0]
    assert any(request_id in record.getMessage() and record.exc_info for record in caplog.records)
