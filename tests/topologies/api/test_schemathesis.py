"""Property-based calls generated from Epoch's own OpenAPI schema: no request may cause a 5xx."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from epoch_site.accounts.services import sync_users
from epoch_site.config import AuthConfig, UserSpec

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN = AuthConfig(True, (UserSpec("admin", "admin", "READ_WRITE"),))
HEADERS = {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}
# Instant runs, deletes and kills reach Drove; they are exercised against the simulator elsewhere.
DROVE_BOUND = ("/run", "/kill", "/log")


def operations(settings_fixture: Any) -> list[Any]:
    settings_fixture.EPOCH = replace(settings_fixture.EPOCH, auth=ADMIN)
    sync_users(ADMIN)
    schema = schemathesis.openapi.from_wsgi(
        "/apis/v1/schema", get_wsgi_application(), headers=HEADERS
    )
    found = [result.ok() for result in schema.get_all_operations()]
    return [
        op for op in found if op.method.upper() != "DELETE" and not op.path.endswith(DROVE_BOUND)
    ]


def test_no_generated_request_causes_a_server_error(settings: Any) -> None:
    checked = operations(settings)
    assert len(checked) >= 10
    for operation in checked:
        fuzz(operation)


def fuzz(operation: Any) -> None:
    @given(case=operation.as_strategy())
    @hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    def call(case: Any) -> None:
        response = case.call(headers=HEADERS)
        assert response.status_code < 500, (
            operation.method,
            case.formatted_path,
            response.text[:300],
        )

    call()
