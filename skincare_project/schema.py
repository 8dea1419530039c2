"""The OpenAPI schema's error answers, documented once for every operation.

(SPECTACULAR_SETTINGS' POSTPROCESSING_HOOKS.)

Which errors an operation can answer follows from how its view is built, the same way DRF
decides at run time: a view with authenticators answers 401 to a missing or bad token; a
role check, or session auth's CSRF check on a write, answers 403; a path with an id, or a
page number, answers 404; a body can be malformed (400), too large (413) or of a type the
view does not parse (415); a throttle or django-axes' lockout answers 429. Errors particular
to one view (a 409 lost race, a 400 or 403 a service refuses) stay on that view's
extend_schema; this hook gives every error response, those included, the JSON body our API
answers (patients.api_errors, skincare_project.errors).
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import spectacular_settings
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.views import APIView

ERROR = "Error"
VALIDATION_ERROR = "ValidationError"

ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    ERROR: {
        "type": "object",
        "description": "Every error but a refused input: `detail` says why in words.",
        "properties": {
            "detail": {"type": "string"},
            "code": {"type": "string", "description": "Where a view names the reason."},
        },
        "required": ["detail"],
    },
    VALIDATION_ERROR: {
        "type": "object",
        "description": "Refused input: each field's messages under its name (a nested "
        "field's as an object or a list), the messages naming no field under "
        "`non_field_errors` or `detail`; a body that does not parse: `detail` as a string.",
        "additionalProperties": {
            "anyOf": [
                {"type": "array"},
                {"type": "object"},
                {"type": "string"},
            ],
        },
    },
}

DESCRIPTIONS = {
    400: "Refused input; nothing changed.",
    401: "No token, or a token that is not valid (`Authorization: Token <key>`).",
    403: "Your role may not do this (or, signed in by session, no CSRF token).",
    404: "No such object, or not one you may see (or no such page).",
    409: "Conflict.",
    413: "The request body is too large.",
    415: "The body's Content-Type is not one this operation reads.",
    429: "Too many requests (throttled, or locked out after failed sign-ins).",
}

# Permissions that refuse nobody who is signed in: they never answer 403.
_NEVER_FORBID = (AllowAny, IsAuthenticated)


def error_codes(view: APIView, method: str, operation: dict[str, Any]) -> set[int]:
    """The errors DRF answers for this view and method before (or around) its handler."""
    codes: set[int] = set()
    authenticators = view.get_authenticators()
    if authenticators:
        codes.add(401)
    csrf = method not in SAFE_METHODS and any(
        isinstance(a, SessionAuthentication) for a in authenticators
    )
    if csrf or any(not isinstance(p, _NEVER_FORBID) for p in view.get_permissions()):
        codes.add(403)
    parameters = operation.get("parameters", [])
    if any(p["in"] == "path" for p in parameters) or any(
        p["in"] == "query" and p["name"] == "page" for p in parameters
    ):
        codes.add(404)
    if "requestBody" in operation:
        codes |= {400, 413, 415}
    if view.get_throttles():
        codes.add(429)
    return codes


def _error_content(view: APIView, code: str) -> dict[str, Any]:
    """The error body in each JSON type the view renders: a FHIR client asking for
    application/fhir+json gets its errors in that type too (diagnosis.api.CaseFhirApi)."""
    name = VALIDATION_ERROR if code == "400" else ERROR
    types = [r.media_type for r in view.get_renderers()
             if r.media_type == "application/json" or r.media_type.endswith("+json")]
    return {media: {"schema": {"$ref": f"#/components/schemas/{name}"}}
            for media in types or ["application/json"]}


def add_error_responses(
    result: dict[str, Any], generator: SchemaGenerator, request: Any, public: bool,
    **kwargs: Any,
) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_SCHEMAS)
    # drf-spectacular's endpoints are (path, path_regex, method, callback); DRF's stubs say 3.
    endpoints = cast("list[tuple[str, str, str, Any]]", generator.endpoints or [])
    for path, _, method, callback in endpoints:
        view = generator.create_view(callback, method)
        path = generator.coerce_path(path, method, view)
        operation = result["paths"].get(path, {}).get(method.lower())
        if operation is None:
            continue
        view.request = spectacular_settings.GET_MOCK_REQUEST(method, path, view, request)
        responses = operation["responses"]
        for code in error_codes(view, method, operation):
            responses.setdefault(str(code), {"description": DESCRIPTIONS[code]})
        for code, response in responses.items():
            if code.isdigit() and int(code) >= 400 and "content" not in response:
                response["content"] = _error_content(view, code)
    return result
