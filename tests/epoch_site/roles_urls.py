"""A read/write endpoint guarded by Epoch's real permission class, for the role tests."""

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from epoch_site.api.envelope import success
from epoch_site.urls import urlpatterns as site_urlpatterns


class Probe(APIView):
    def get(self, request: Request) -> Response:
        return success({"read": True})

    def post(self, request: Request) -> Response:
        return success({"written": True})


urlpatterns = [path("apis/v1/probe", Probe.as_view()), *site_urlpatterns]

handler404 = "epoch_site.views.not_found"
