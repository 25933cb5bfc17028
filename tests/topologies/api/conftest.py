from __future__ import annotations

import copy
from typing import Any

FIXTURE_TOPOLOGY: dict[str, Any] = {
    "name": "TEST_TOPO-1",
    "task": {
        "type": "CONTAINER_EXECUTION",
        "taskName": "test-task-1",
        "executable": {
            "type": "DOCKER",
            "url": "docker.io/santanusinha/perf-test-server:0.3",
            "dockerPullTimeout": "100 seconds",
        },
        "resources": [{"type": "CPU", "count": 1}, {"type": "MEMORY", "sizeInMB": 512}],
        "volumes": [{"pathInContainer": "/tmp", "pathOnHost": "/tmp", "mode": "READ_ONLY"}],
        "configs": [],
        "logging": {"type": "LOCAL", "maxSize": "10m", "maxFiles": 3, "compress": True},
        "placementPolicy": {"type": "ANY"},
        "tags": {},
        "env": {},
    },
    "trigger": {"type": "CRON", "timeSpec": "0 0 0 ? * *"},
    "notify": {"type": "MAIL", "emails": ["test@email.com"]},
}


def topology_body(name: str = "TEST_TOPO-1", **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(FIXTURE_TOPOLOGY)
    body["name"] = name
    body.update(changes)
    return body
