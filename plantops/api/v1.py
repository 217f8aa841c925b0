"""API v1 at /api/v1/: typed operations, their OpenAPI 3 schema at /api/v1/openapi.json and
interactive docs at /api/v1/docs, served from the package's own static files (no CDN).

Built with django-ninja: operations are typed functions over the domains' selectors and
services, the schema follows from the types, and it needs no second serializer layer beside
the services (which Django REST framework would add). Errors are JSON `{"detail": …}`: 400
for bad input (naming the fields), 401 without a login or token, 403 for what the role or the
token's scope may not do (the services' own words), 404 for what does not exist.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as SchemaError

from plantops.api import alerts, export_api, oee, plant, predictions, readings, workorders
from plantops.api.auth import AUTH
from plantops.api.clock import ZonedJSONRenderer
from plantops.core.refusals import Refused


class ErrorOut(Schema):
    detail: str | list[Any] | dict[str, Any]


# Every operation may answer these, in the same shape; the schema says so, so that a client (and
# the schema fuzzer, tests/api/test_v1_fuzz.py) knows them from the schema alone.
ERRORS = {
    "400": "Bad input: `detail` names the fields and what is wrong with them.",
    "401": "No login and no API token, or an unknown, revoked or expired token.",
    "403": "The role, its lines or the token's scope may not do this: `detail` says which.",
}
NOT_FOUND = {"404": "No such object, or not one the caller may see."}


class PlantOpsAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["ErrorOut"] = (
            ErrorOut.model_json_schema()
        )
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        for path, operations in schema["paths"].items():
            errors = ERRORS | (NOT_FOUND if "{" in path else {})
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in errors.items():
                    responses.setdefault(
                        int(status), {"description": description, "content": error}
                    )
        return schema


api = PlantOpsAPI(
    title="PlantOps API",
    version="1",
    description="The plant model, readings, alerts, OEE, predictions and work orders. "
    "Authenticate with `Authorization: Bearer <token>` (admin → API tokens) or a logged-in "
    "session with its CSRF token. Lists are paged with an opaque `cursor`. Times are RFC 3339 "
    "with an offset: answers give them in the caller's zone (their own, chosen under My "
    "settings, else their plant's site's), except the readings' point columns, which are UTC "
    "(`Z`); a query's times may carry any offset.",
    auth=AUTH,
    renderer=ZonedJSONRenderer(),
    urls_namespace="api-v1",
)
api.add_router("/", plant.router)
api.add_router("/", readings.router)
api.add_router("/", alerts.router)
api.add_router("/", oee.router)
api.add_router("/", predictions.router)
api.add_router("/", workorders.router)
api.add_router("/", export_api.router)


def _detail(request: HttpRequest, detail: object, status: int) -> HttpResponse:
    return api.create_response(request, {"detail": detail}, status=status)


@api.exception_handler(SchemaError)
def bad_input(request: HttpRequest, error: SchemaError) -> HttpResponse:
    return _detail(request, error.errors, 400)


@api.exception_handler(ValidationError)
def refused_input(request: HttpRequest, error: ValidationError) -> HttpResponse:
    return _detail(
        request, error.message_dict if hasattr(error, "error_dict") else error.messages, 400
    )


@api.exception_handler(AuthenticationError)
def not_logged_in(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return _detail(request, "log in or send an API token (Authorization: Bearer …)", 401)


@api.exception_handler(Refused)
def refused(request: HttpRequest, error: Refused) -> HttpResponse:
    return _detail(request, str(error), 403)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    return _detail(request, str(error) or "not allowed", 403)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return _detail(request, "not found", 404)
