"""The UI's JSON posts (scenarios 28, 46-49, 111, 115)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from topologies import models

pytestmark = pytest.mark.django_db

FORM = {
    "name": "nightly-report",
    "cron": "0 30 2 ? * *",
    "docker": "ghcr.io/acme/report-job:1.4.2",
    "cpus": 2,
    "memory": 2048,
    "notifyEmail": "oncall@example.com, dev@example.com",
    "env": {"REPORT_DATE": "yesterday"},
    "volumes": [{"pathOnHost": "/mnt/data", "pathInContainer": "/data", "mode": "READ_ONLY"}],
}


def create(api: APIClient, **changes: Any) -> Any:
    return api.post(
        "/topologies/create", json.dumps({**FORM, **changes}), content_type="application/json"
    )


def test_create_answers_where_to_go(api: APIClient) -> None:
    response = create(api)
    assert response.status_code == 200
    assert response.json() == {
        "status": "SUCCESS",
        "data": {"redirectUrl": "/topologies/nightly-report", "topologyId": "nightly-report"},
        "message": "success",
    }
    stored = api.get("/apis/v1/topologies/nightly-report").json()["data"]["topology"]
    assert stored["notify"] == {"type": "MAIL", "emails": ["oncall@example.com", "dev@example.com"]}
    assert stored["task"]["taskName"] == "docker-task"
    assert stored["task"]["executable"]["dockerPullTimeout"] == "120 seconds"


def test_existing_name_is_409(api: APIClient) -> None:
    create(api)
    response = create(api)
    assert response.status_code == 409
    assert response.json() == {
        "status": "FAILED",
        "message": "[3003]: Topology already exists with name: nightly-report",
    }


@pytest.mark.parametrize(
    "cron", ["0 * * ? * * *", "0 * * ? * *", "0 0 9-20/3 ? * *", "0 0/1 * * * ?"]
)
def test_valid_crons_are_accepted(api: APIClient, cron: str) -> None:
    assert create(api, cron=cron).status_code == 200


@pytest.mark.parametrize(
    "cron",
    [
        "0 * * ? *",
        "* * * * *",
        "0 0 0 * * *",
        "0 0 0 ? * ?",
        "0 * * ? * * * *",
        "0 0 9-20/3 ? * *1",
    ],
)
def test_invalid_crons_are_rejected_before_the_name(api: APIClient, cron: str) -> None:
    create(api)
    response = create(api, cron=cron)
    assert response.status_code == 400
    assert response.json()["message"] == "[3002]: Validation failed for input: cron"
    assert models.Topology.objects.count() == 1


def test_empty_cron_is_a_field_error(api: APIClient) -> None:
    response = create(api, cron="")
    assert "cron must not be empty" in response.json()["data"]["validationErrors"]


def test_field_errors(api: APIClient) -> None:
    errors = create(api, cpus=41, memory=100, notifyEmail="x").json()["data"]["validationErrors"]
    assert {
        "cpus must be between 1 and 40",
        "memory must be between 128 and 100000",
        "notifyEmail Invalid email(s) format",
    } <= set(errors)
    assert not models.Topology.objects.exists()


def test_update_answers_where_to_go(api: APIClient) -> None:
    create(api)
    edit = {k: v for k, v in FORM.items() if k != "name"} | {
        "docker": "ghcr.io/acme/report-job:1.5.0"
    }
    response = api.put(
        "/topologies/nightly-report/update", json.dumps(edit), content_type="application/json"
    )
    assert response.json()["data"] == {
        "redirectUrl": "/topologies/nightly-report",
        "topologyId": "nightly-report",
    }


def test_update_of_a_missing_topology(api: APIClient) -> None:
    edit = {k: v for k, v in FORM.items() if k != "name"}
    response = api.put("/topologies/gone/update", json.dumps(edit), content_type="application/json")
    assert response.status_code == 404
    assert response.json()["message"] == "[3004]: Topology not found: gone"
