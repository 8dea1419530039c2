"""The OpenAPI schema (/api/schema/) against what the API really answers.

Every operation is called by each role (and anonymously), on an object that exists and on one
that does not: whatever status comes back must be documented for that operation, and the body
must validate against the documented schema for that status and content type.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from patients.models import User
from tests.project.api_data import ApiWorld, api_world, missing_path, real_path, token_header

pytestmark = pytest.mark.django_db

SCHEMA = "/api/schema/?format=json"


def openapi(client: Client) -> dict[str, Any]:
    response = client.get(SCHEMA)
    assert response.status_code == 200
    return dict(response.json())


def json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable` as JSON Schema's null type (what jsonschema understands)."""
    if isinstance(node, list):
        return [json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: json_schema(v) for k, v in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def body_errors(doc: dict[str, Any], schema: dict[str, Any], body: Any) -> list[str]:
    # The components travel with the schema, so its $refs (#/components/...) resolve.
    root = {**json_schema(schema), "components": json_schema(doc["components"])}
    # Formats asserted, as OpenAPI validators do: a blank email is the `maxLength: 0` branch.
    validator = Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(body)]


def undocumented(doc: dict[str, Any], template: str, method: str, response: Any) -> str | None:
    """Why the response is not what the schema documents for it, or None."""
    responses = doc["paths"][template][method]["responses"]
    status = str(response.status_code)
    if status not in responses:
        return f"{status} undocumented (documented: {sorted(responses)})"
    content = responses[status].get("content")
    if not content:
        return None if not response.content else f"{status} has a body, none documented"
    media = response["Content-Type"].split(";")[0]
    if media not in content:
        return f"{status} answers {media}, documented {sorted(content)}"
    if media != "application/json" and not media.endswith("+json"):
        return None  # a photo, a zip: the type is all the schema says
    errors = body_errors(doc, content[media]["schema"], response.json())
    return f"{status} body: {errors[:3]}" if errors else None


def call(client: APIClient, method: str, path: str) -> Any:
    if method in ("post", "put", "patch"):
        return getattr(client, method)(path, {}, format="json")
    return getattr(client, method)(path)


def clients(alice: User, dana: User, admin: User) -> dict[str, APIClient]:
    found = {"anonymous": APIClient()}
    for user in (alice, dana, admin):
        found[user.username] = APIClient(HTTP_AUTHORIZATION=token_header(user))
    return found


def operations(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(template, method) for template, item in sorted(doc["paths"].items())
            for method in item if method in ("get", "post", "put", "patch", "delete")]


@pytest.fixture
def world(alice: User, dana: User) -> ApiWorld:
    return api_world(alice=alice, dana=dana)


def test_every_answer_of_every_operation_is_documented(
    client: Client, alice: User, dana: User, admin: User, world: ApiWorld
) -> None:
    doc = openapi(client)
    wrong: list[str] = []
    seen: set[int] = set()
    for template, method in operations(doc):
        # Reads before writes, so that a DELETE does not leave the reads only 404s.
        for path in (real_path(template, world), missing_path(template)):
            for role, api in clients(alice, dana, admin).items():
                response = call(api, method, path)
                seen.add(response.status_code)
                why = undocumented(doc, template, method, response)
                if why:
                    wrong.append(f"{role} {method.upper()} {path}: {why}")
    assert not wrong, "\n".join(wrong)
    # The sweep reached past the permission checks and into the handlers.
    assert {200, 400, 401, 403, 404} <= seen


def test_the_upload_is_a_binary_file_in_multipart(client: Client) -> None:
    doc = openapi(client)
    body = doc["paths"]["/api/v1/cases/{id}/images/"]["post"]["requestBody"]["content"]
    assert set(body) == {"multipart/form-data"}
    ref = body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    image = doc["components"]["schemas"][ref]["properties"]["image"]
    assert image == {**image, "type": "string", "format": "binary"}


def test_every_operation_behind_a_token_documents_401_and_every_id_404(client: Client) -> None:
    doc = openapi(client)
    missing = []
    for template, method in operations(doc):
        operation = doc["paths"][template][method]
        expected = set()
        if template not in ("/api/v1/auth/register/", "/api/v1/auth/token/"):
            expected.add("401")
        if "{" in template:
            expected.add("404")
        if template.startswith("/api/v1/review/"):
            expected.add("403")  # patients are refused every review route
        if absent := expected - set(operation["responses"]):
            missing.append(f"{method.upper()} {template}: {sorted(absent)}")
    assert not missing, "\n".join(missing)


def test_the_timeline_documents_the_patients_and_the_clinicians_events(
    client: Client, alice: User, dana: User, world: ApiWorld
) -> None:
    doc = openapi(client)
    path = f"/api/v1/cases/{world.case}/timeline/"
    events = {}
    for user in (alice, dana):
        response = APIClient(HTTP_AUTHORIZATION=token_header(user)).get(path)
        assert undocumented(doc, "/api/v1/cases/{id}/timeline/", "get", response) is None
        events[user.username] = response.json()["results"]
    assert events["alice"] and all("data" not in e for e in events["alice"])
    assert events["dana"] and all("data" in e for e in events["dana"])
    # The documented patient's event does not fit a clinician's: they are told apart.
    page = doc["paths"]["/api/v1/cases/{id}/timeline/"]["get"]["responses"]["200"]
    schema = page["content"]["application/json"]["schema"]
    assert body_errors(doc, schema, {"count": 1, "next": None, "previous": None,
                                     "results": [{**events["alice"][0], "data": {}}]})


def test_the_fhir_routes_errors_in_fhir_json_are_documented(
    client: Client, alice: User
) -> None:
    doc = openapi(client)
    api = APIClient(HTTP_AUTHORIZATION=token_header(alice))
    path = "/api/v1/cases/987654/fhir/"
    for response in (api.get(path, {"format": "fhir"}),
                     api.get(path, HTTP_ACCEPT="application/fhir+json")):
        assert response.status_code == 404
        assert response["Content-Type"] == "application/fhir+json"
        assert undocumented(doc, "/api/v1/cases/{id}/fhir/", "get", response) is None


def test_a_client_asking_for_the_photos_type_gets_the_photo_or_a_json_error(
    client: Client, alice: User, admin: User, world: ApiWorld
) -> None:
    doc = openapi(client)
    api = APIClient(HTTP_AUTHORIZATION=token_header(alice))
    for pk, status in ((world.image, 200), (987654, 404)):
        response = api.get(f"/api/v1/images/{pk}/file/", HTTP_ACCEPT="image/jpeg")
        assert response.status_code == status
        assert undocumented(doc, "/api/v1/images/{id}/file/", "get", response) is None
    export = APIClient(HTTP_AUTHORIZATION=token_header(admin)).get(
        "/api/v1/review/export/", HTTP_ACCEPT="application/zip")
    assert export.status_code == 200
    assert export["Content-Type"] == "application/zip"


def test_an_error_body_that_is_not_the_documented_shape_is_caught(client: Client) -> None:
    """The checks above can fail: a 404 whose body is not {"detail": "..."} does."""
    doc = openapi(client)
    schema = doc["paths"]["/api/v1/cases/{id}/"]["get"]["responses"]["404"]["content"][
        "application/json"]["schema"]
    assert body_errors(doc, schema, {"detail": "Not found."}) == []
    assert body_errors(doc, schema, {"error": "not found"})
