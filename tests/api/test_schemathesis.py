"""Property-based requests from the OpenAPI schema (schemathesis): no input makes the service answer 5xx."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from api.app import create_app
from api.power_flows import GridPowerFlows
from tests.api.conftest import settings_for
from tests.api.helpers import interval, store_intervals

pytestmark = pytest.mark.slow


def test_no_request_gets_a_server_error(tmp_path: Path) -> None:
    """Every operation, with generated valid and invalid inputs, against the app with real power flows."""
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'api.sqlite3'}", tmp_path), GridPowerFlows(), live=False)
    with TestClient(app) as client:  # runs the lifespan: migrations, warm-up
        store_intervals(client, [interval("meter-1", datetime(2026, 6, 20, 22, 0, tzinfo=UTC))])
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 9
        statuses: Counter[int] = Counter()
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def check(case: Any) -> None:
                response = case.call_and_validate(checks=[not_a_server_error])
                statuses[response.status_code] += 1

            check()
    assert statuses[201] and statuses[200] and statuses[404] and statuses[422], statuses
    assert not any(code >= 500 for code in statuses), statuses
