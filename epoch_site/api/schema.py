"""OpenAPI description of Epoch's API: every answer is the ``{status, data, message}`` envelope."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes

BODY_METHODS = {"POST", "PUT", "PATCH"}


class EnvelopeSchema(AutoSchema):
    """Views parse JSON with Epoch's codec rather than DRF serializers: describe them as JSON."""

    def get_request_serializer(self) -> Any:
        if self.method.upper() in BODY_METHODS and self._wants_body():
            return OpenApiTypes.OBJECT
        return None

    def get_response_serializers(self) -> Any:
        return OpenApiTypes.OBJECT

    def get_description(self) -> str:
        return super().get_description() or f"{self.method.upper()} {self.path}"

    def _wants_body(self) -> bool:
        # Actions such as run, pause and kill ignore any body.
        return not self.path.rstrip("/").endswith(("/run", "/pause", "/unpause", "/kill"))

    def get_operation_id(self) -> str:
        name = type(self.view).__name__.removesuffix("View")
        return f"{name[0].lower()}{name[1:]}_{self.method.lower()}"


class BasicAuthScheme(OpenApiAuthenticationExtension):
    target_class = "epoch_site.api.authentication.BasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "basic"}
