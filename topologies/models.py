"""The SQL mirror of Epoch's state: every node's database holds what ZooKeeper holds.

In cluster mode ZooKeeper is the truth and these tables are kept in step with it (see
``topologies.storage``); in embedded mode they are the only store. Each row keeps the original's
JSON of its record so that it can be returned byte-compatible, plus columns for lists, filters,
sorting and search. ``version`` orders writes: ZooKeeper's modification zxid in cluster mode, a
per-row counter in embedded mode; an older version never overwrites a newer one.
"""

from __future__ import annotations

import enum

from django.db import models

from topologies import domain


def text_choices(enum_type: type[enum.StrEnum]) -> type[models.TextChoices]:
    """Django choices with exactly the wire values of a domain enum."""
    members = [(member.name, member.value) for member in enum_type]
    return models.TextChoices(enum_type.__name__, members)


TopologyState = text_choices(domain.TopologyState)
RunState = text_choices(domain.RunState)
TaskState = text_choices(domain.TaskState)
RunType = text_choices(domain.RunType)
TriggerType = text_choices(domain.TriggerType)
NotificationType = text_choices(domain.NotificationType)


class Topology(models.Model):
    id = models.CharField(max_length=255, primary_key=True)
    state = models.CharField(max_length=16, choices=TopologyState.choices, db_index=True)
    # The EpochTopology JSON: the task tree (executable, resources, volumes, configs, env, args,
    # logging, placement, tags; composite ALL/ANY), the trigger and the notification spec.
    definition = models.JSONField()
    task_type = models.CharField(max_length=32)
    image = models.CharField(max_length=2048, blank=True, db_index=True)
    trigger_type = models.CharField(max_length=8, choices=TriggerType.choices)
    cron_expression = models.CharField(max_length=255, blank=True)
    at_time = models.BigIntegerField(null=True)
    notify_type = models.CharField(max_length=16, choices=NotificationType.choices, blank=True)
    notify_emails = models.JSONField(default=list)
    created = models.BigIntegerField(db_index=True)
    updated = models.BigIntegerField(db_index=True)
    version = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.id


class TopologyRun(models.Model):
    topology_id = models.CharField(max_length=255)
    run_id = models.CharField(max_length=255)
    state = models.CharField(max_length=16, choices=RunState.choices)
    run_type = models.CharField(max_length=16, choices=RunType.choices)
    message = models.TextField(blank=True)
    created = models.BigIntegerField()
    updated = models.BigIntegerField()
    version = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-updated"]
        constraints = [
            models.UniqueConstraint(
                fields=["topology_id", "run_id"], name="unique_run_per_topology"
            )
        ]
        indexes = [
            models.Index(fields=["topology_id", "-updated"], name="runs_newest_first"),
            models.Index(fields=["state"], name="runs_by_state"),
        ]

    def __str__(self) -> str:
        return f"{self.topology_id}/{self.run_id}"


class TaskRun(models.Model):
    run = models.ForeignKey(TopologyRun, on_delete=models.CASCADE, related_name="task_runs")
    position = models.PositiveIntegerField()  # tree order: depth-first, list order
    task_name = models.CharField(max_length=255)
    task_id = models.CharField(max_length=1024)
    state = models.CharField(max_length=16, choices=TaskState.choices)
    # NULL (absent in the JSON) and "" are different values on the wire, so both are kept.
    upstream_id = models.CharField(max_length=1024, null=True, blank=True)  # noqa: DJ001
    error_message = models.TextField(null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "task_name"], name="unique_task_per_run")
        ]

    def __str__(self) -> str:
        return self.task_id
