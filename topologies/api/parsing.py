"""Request bodies to domain values, with the original's error answers for each kind of problem."""

from __future__ import annotations

import json
from typing import Any

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.request import Request

from epoch_site.api.exceptions import EpochError
from scheduler.core.triggers import cron_problem
from topologies.codec import CodecError, normalise_topology, topology_from_json
from topologies.domain import Topology
from topologies.simple import SimpleRequest, parse_simple, simple_errors
from topologies.storage.zk import MAX_NODE_BYTES
from topologies.validation import topology_errors

BODY_REQUIRED = "The request body must not be null"


def body_of(request: Request) -> Any:
    """The parsed JSON body; a missing or ``null`` body is a validation failure."""
    if not request.body:
        raise ValidationError([BODY_REQUIRED])
    data = request.data
    if data is None:
        raise ValidationError([BODY_REQUIRED])
    return data


def read_topology(request: Request) -> Topology:
    """A full ``EpochTopology`` body, checked in the original's order: JSON, fields, cron, size."""
    try:
        canonical = normalise_topology(body_of(request))
    except CodecError as error:
        raise ParseError(str(error)) from error
    errors = topology_errors(canonical)
    if errors:
        raise ValidationError(errors)
    trigger = canonical["trigger"]
    if trigger["type"] == "CRON":
        check_cron(trigger["timeSpec"])
    if len(json.dumps(canonical).encode()) > MAX_NODE_BYTES:
        raise EpochError(3002, "Validation failed for input: topology", 400)
    return topology_from_json(canonical)


def read_simple(request: Request, with_name: bool) -> SimpleRequest:
    try:
        simple = parse_simple(body_of(request))
    except CodecError as error:
        raise ParseError(str(error)) from error
    errors = simple_errors(simple, with_name)
    if errors:
        raise ValidationError(errors)
    check_cron(simple.cron or "")
    return simple


def check_cron(expression: str) -> None:
    problem = cron_problem(expression)
    if problem is not None:
        raise EpochError(3002, "Validation failed for input: cron", 400, [f"cron {problem}"])
