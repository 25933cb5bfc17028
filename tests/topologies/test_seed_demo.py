from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from topologies import models

pytestmark = pytest.mark.django_db


def run() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_first_start_gets_a_runnable_demo_topology() -> None:
    assert "added the demo topology" in run()
    demo = models.Topology.objects.get()
    assert (demo.id, demo.state, demo.cron_expression) == ("epoch-demo", "ACTIVE", "0 * * ? * *")


def test_existing_topologies_are_left_alone() -> None:
    run()
    assert "no demo added" in run()
    assert models.Topology.objects.count() == 1
