"""JSON examples of epoch-model.md §10, as the original writes them."""

FULL_CREATE = {
    "name": "nightly-report",
    "task": {
        "type": "CONTAINER_EXECUTION",
        "taskName": "docker-task",
        "executable": {
            "type": "DOCKER",
            "url": "ghcr.io/acme/report-job:1.4.2",
            "dockerPullTimeout": "120 seconds",
        },
        "resources": [{"type": "CPU", "count": 2}, {"type": "MEMORY", "sizeInMB": 2048}],
        "volumes": [{"pathInContainer": "/data", "pathOnHost": "/mnt/data", "mode": "READ_ONLY"}],
        "configs": [],
        "logging": {"type": "LOCAL", "maxSize": "10m", "maxFiles": 3, "compress": True},
        "placementPolicy": {"type": "ANY"},
        "tags": {"team": "reports"},
        "env": {"REPORT_DATE": "yesterday"},
        "args": ["--verbose"],
    },
    "trigger": {"type": "CRON", "timeSpec": "0 30 2 ? * *"},
    "notify": {"type": "MAIL", "emails": ["oncall@example.com"]},
}

COMPOSITE_TASK = {
    "type": "COMPOSITE",
    "compositionType": "ALL",
    "tasks": [
        {
            "type": "CONTAINER_EXECUTION",
            "taskName": "extract",
            "executable": {
                "type": "DOCKER",
                "url": "acme/extract:1",
                "dockerPullTimeout": "2 minutes",
            },
            "resources": [{"type": "CPU", "count": 1}, {"type": "MEMORY", "sizeInMB": 512}],
            "placementPolicy": {"type": "ANY"},
        },
        {
            "type": "CONTAINER_EXECUTION",
            "taskName": "load",
            "executable": {
                "type": "DOCKER",
                "url": "acme/load:1",
                "dockerPullTimeout": "2 minutes",
            },
            "resources": [{"type": "CPU", "count": 1}, {"type": "MEMORY", "sizeInMB": 512}],
            "placementPolicy": {"type": "ANY"},
        },
    ],
}

FULL_UPDATE = {
    "name": "nightly-report",
    "task": {
        "type": "CONTAINER_EXECUTION",
        "taskName": "docker-task",
        "executable": {
            "type": "DOCKER",
            "url": "ghcr.io/acme/report-job:1.5.0",
            "dockerPullTimeout": "5 minutes",
        },
        "resources": [{"type": "CPU", "count": 1}, {"type": "MEMORY", "sizeInMB": 4096}],
        "placementPolicy": {"type": "MATCH_TAG", "tag": "batch"},
        "args": ["--since", "2d"],
    },
    "trigger": {"type": "CRON", "timeSpec": "0 0/15 * ? * *"},
    "notify": {"type": "BLACKHOLE"},
}

DETAILS = {
    "id": "nightly-report",
    "topology": FULL_CREATE,
    "state": "ACTIVE",
    "created": 1729100000000,
    "updated": 1729100000000,
}

SUCCESSFUL_RUN = {
    "topologyId": "nightly-report",
    "runId": "ESR-2024-10-18-02-30-00-000",
    "state": "SUCCESSFUL",
    "message": "Task successful",
    "tasks": {
        "docker-task": {
            "taskId": "nightly-report-ESR-2024-10-18-02-30-00-000-docker-task",
            "state": "COMPLETED",
            "upstreamId": "nightly-report-ESR-2024-10-18-02-30-00-000-docker-task",
            "errorMessage": "",
        }
    },
    "runType": "SCHEDULED",
    "created": 1729198800012,
    "updated": 1729198923456,
}

SKIPPED_RUN = {
    "topologyId": "TestTopology-EveryMin",
    "runId": "ESR-2023-06-30-14-00-00-000",
    "state": "SKIPPED",
    "message": "Task skipped",
    "tasks": {
        "docker-task": {
            "taskId": "TestTopology-EveryMin-ESR-2023-06-30-14-00-00-000-docker-task",
            "state": "PENDING",
        }
    },
    "runType": "SCHEDULED",
    "created": 1688113800015,
    "updated": 1688113800090,
}

TASK_RECORDS = [
    {"taskId": "t-EIR-2024-10-18-10-15-30-123-docker-task", "state": "PENDING"},
    {
        "taskId": "t-x-docker-task",
        "state": "STARTING",
        "upstreamId": "t-x-docker-task",
        "errorMessage": "",
    },
    {
        "taskId": "t-x-docker-task",
        "state": "FAILED",
        "upstreamId": "t-x-docker-task",
        "errorMessage": "Task instance exited with status: 3",
    },
    {
        "taskId": "t-x-docker-task",
        "state": "FAILED",
        "upstreamId": "UNKNOWN",
        "errorMessage": 'Received error from api: [400] {"status":"FAILED","data":{"validationErrors":["Cluster does not have enough CPU. Required: 64 Available: 12"]},"message":"Command validation failure"}',
    },
    {
        "taskId": "t-x-docker-task",
        "state": "UNKNOWN",
        "upstreamId": "t-x-docker-task",
        "errorMessage": "Status could not be ascertained. Task might not have started yet",
    },
]
