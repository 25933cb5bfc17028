"""The UI's JSON posts (epoch-api.md §6.2): simple create and edit, answered for a browser.

Same checks and services as the API; success answers carry where the browser goes next, and a
store failure is a soft failure instead of the original's redirect of an XHR.
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from epoch_site.api.envelope import failed, success
from epoch_site.api.exceptions import EpochError
from topologies import services
from topologies.api.parsing import read_simple
from topologies.api.views import edit
from topologies.simple import expand
from topologies.storage.base import AlreadyExists, StoreError
from topologies.web_services import web_services


def navigation(topology_id: str) -> dict[str, str]:
    return {"redirectUrl": f"/topologies/{topology_id}", "topologyId": topology_id}


class CreateTopologyPost(APIView):
    """``POST /topologies/create``: checks in order validation, cron, existence, store."""

    def post(self, request: Request) -> Response:
        simple = read_simple(request, with_name=True)
        name = simple.name or ""
        try:
            services.create_topology(web_services(), expand(simple))
        except AlreadyExists as error:
            raise EpochError(3003, f"Topology already exists with name: {name}", 409) from error
        except StoreError:
            return failed("Could not create topology")
        return success(navigation(name))


class UpdateTopologyPost(APIView):
    """``PUT /topologies/<id>/update``: the simple edit, answering with where to go next."""

    def put(self, request: Request, topology_id: str) -> Response:
        details = edit(request, topology_id)
        return success(navigation(details.id))
