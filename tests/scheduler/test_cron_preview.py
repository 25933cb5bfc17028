from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from epoch_site.accounts.services import sync_users
from epoch_site.config import AuthConfig, UserSpec

pytestmark = pytest.mark.django_db
AFTER = 1772323200000  # 2026-03-01T00:00:00Z


@pytest.fixture
def client(settings: Any) -> APIClient:
    auth = AuthConfig(True, (UserSpec("guest", "guest", "READ_ONLY"),))
    settings.EPOCH = replace(settings.EPOCH, auth=auth)
    sync_users(auth)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"guest:guest").decode())
    return api


def test_preview_lists_fire_times_with_a_description(client: APIClient) -> None:
    response = client.get(
        "/apis/v1/cron/preview",
        {"expression": "0 30 2 ? * *", "timezone": "Asia/Kolkata", "count": 2, "after": AFTER},
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["expression"] == "0 30 2 ? * *"
    assert data["timezone"] == "Asia/Kolkata"
    assert "02:30" in data["description"]
    assert data["nextFireTimes"] == [
        {"epochMs": 1772312400000 + 86_400_000, "iso": "2026-03-02T02:30:00.000+05:30"},
        {"epochMs": 1772312400000 + 2 * 86_400_000, "iso": "2026-03-03T02:30:00.000+05:30"},
    ]


def test_preview_defaults_to_five_fire_times(client: APIClient) -> None:
    data = client.get("/apis/v1/cron/preview", {"expression": "0 * * ? * *"}).json()["data"]
    assert len(data["nextFireTimes"]) == 5


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"expression": "0 0 0 ? * 8"}, "expression day-of-week: '8' is out of range 1-7"),
        ({"expression": ""}, "expression must not be empty"),
        ({"expression": "0 * * ? * *", "count": 101}, "count must be between 1 and 100"),
        (
            {"expression": "0 * * ? * *", "timezone": "Mars/Base"},
            "timezone 'Mars/Base' is not an IANA time zone",
        ),
        ({"expression": "0 * * ? * *", "after": "yesterday"}, "after must be a whole number"),
    ],
)
def test_bad_input_names_the_field(client: APIClient, params: dict[str, Any], problem: str) -> None:
    response = client.get("/apis/v1/cron/preview", params)
    assert response.status_code == 400
    errors = response.json()["data"]["validationErrors"]
    assert any(error.startswith(problem) for error in errors), errors


def test_preview_needs_a_login(client: APIClient) -> None:
    client.credentials()
    assert client.get("/apis/v1/cron/preview", {"expression": "0 * * ? * *"}).status_code == 401


def test_command_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    call_command(
        "cron_preview",
        "0 0 12 ? * 1#2",
        "--timezone",
        "UTC",
        "--count",
        "2",
        "--after",
        "2026-03-01T00:00:00Z",
    )
    out = capsys.readouterr().out
    assert "2026-03-08T12:00:00.000+00:00" in out
    assert "2026-04-12T12:00:00.000+00:00" in out


def test_command_exits_2_with_the_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        call_command("cron_preview", "0 0 0 * * *")
    assert exit_info.value.code == 2
    assert "error: expression" in capsys.readouterr().err
