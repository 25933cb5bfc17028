from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from topologies import services
from topologies.codec import topology_from_json
from topologies.storage.base import AlreadyExists
from topologies.web_services import web_services

DEMO = {
    "name": "epoch-demo",
    "task": {
        "type": "CONTAINER_EXECUTION",
        "taskName": "hello",
        "executable": {
            "type": "DOCKER",
            "url": "docker.io/library/hello-world:latest",
            "dockerPullTimeout": "2 minutes",
        },
        "resources": [{"type": "CPU", "count": 1}, {"type": "MEMORY", "sizeInMB": 128}],
        "placementPolicy": {"type": "ANY"},
        "env": {"DROVE_SIM_DURATION": "3s"},
    },
    "trigger": {"type": "CRON", "timeSpec": "0 * * ? * *"},
    "notify": {"type": "BLACKHOLE"},
}


class Command(BaseCommand):
    help = "Create a demo topology that runs every minute, unless Epoch already has topologies."

    def handle(self, *args: Any, **options: Any) -> None:
        context = web_services()
        if context.store.list_topologies():
            self.stdout.write("topologies exist already: no demo added")
            return
        try:
            services.create_topology(context, topology_from_json(DEMO))
        except AlreadyExists:
            return
        self.stdout.write("added the demo topology 'epoch-demo' (runs every minute)")
