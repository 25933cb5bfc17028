"""``GET /apis/housekeeping/v1/leader``: answered by every node from the election, never forwarded."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from epoch_site.routing import leader_lookup


class LeaderView(APIView):
    def get(self, request: Request) -> Response:
        config = settings.EPOCH
        leader = config.advertise_url if config.embedded else leader_lookup().leader()
        if leader is None:
            return Response({"leader": "no leader available"}, status=404)
        return Response({"leader": leader})
