"""The OpenAPI 3.1 document: generated from the descriptors, served by the same Envoy listener."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devinsider_gateway import descriptors, openapi
from devinsider_gateway.testing.http import request

from .conftest import Edge

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served(edge: Edge) -> dict[str, Any]:
    response = request("GET", edge.url("/openapi.json"))
    assert response.status == 200 and response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    return document


def _params(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation["parameters"]}


def test_served_document_is_the_generated_one(served: dict[str, Any], descriptor_set: Path) -> None:
    assert served == openapi.document(descriptors.load(descriptor_set))
    assert served["openapi"] == "3.1.0"


def test_every_binding_is_an_operation(served: dict[str, Any]) -> None:
    operations = {(path, verb) for path, item in served["paths"].items() for verb in item}
    assert {
        ("/v1/echo/{id}", "get"),
        ("/v1/echo", "post"),  # additional bindings
        ("/v1/libraries/{libraryId}/books/{bookId}", "get"),  # one id per collection, no dots (URI templates)
        ("/v1/files/{path}", "get"),
        ("/v1/items/{itemId}:ping", "post"),
        ("/v1/items", "post"),
        ("/v1/uploads/{name}", "post"),
    } <= operations
    assert not any("Internal" in op["operationId"] for item in served["paths"].values() for op in item.values())


def test_query_parameters_render_as_the_transcoder_reads_them(served: dict[str, Any]) -> None:
    params = _params(served["paths"]["/v1/echo/{id}"]["get"])
    assert params["id"]["in"] == "path"
    assert params["big"]["schema"]["type"] == "string" and params["big"]["schema"]["format"] == "int64"
    assert params["when"]["schema"]["format"] == "date-time"
    assert params["color"]["schema"]["enum"] == ["COLOR_UNSPECIFIED", "COLOR_RED", "COLOR_BLUE"]
    assert params["colors"]["schema"]["type"] == "array" and params["colors"]["explode"]
    assert params["nested.count"]["schema"]["type"] == "integer"
    assert params["nested.count"]["schema"]["maximum"] == 2**31 - 1  # int32 bounds: bigger is a 400
    assert params["big"]["schema"]["pattern"] == "^-?[0-9]+$"
    assert params["big"]["description"] == "An int64."  # from the proto comment


def test_path_parameters_are_one_segment_unless_the_template_says_otherwise(served: dict[str, Any]) -> None:
    book = _params(served["paths"]["/v1/libraries/{libraryId}/books/{bookId}"]["get"])
    assert book["bookId"]["schema"]["pattern"] == "^[^/]+$"
    assert book["bookId"]["description"] == (
        "The book's id, not a resource name: the last segment of `libraries/{libraryId}/books/{bookId}` "
        "(request field `nested.name`)."
    )
    assert book["libraryId"]["description"].startswith("The library's id, not a resource name: the `{libraryId}`")
    files = _params(served["paths"]["/v1/files/{path}"]["get"])
    assert "pattern" not in files["path"]["schema"]  # `**`
    assert files["path"]["description"] == "`path` (`**`), may contain `/`"


def test_path_parameters_of_the_real_protos_are_ids_named_after_their_collection() -> None:
    document = openapi.document(descriptors.load(ROOT / "gen" / "devinsider.binpb"))
    names = {
        p["name"]
        for item in document["paths"].values()
        for operation in item.values()
        for p in operation["parameters"]
        if p["in"] == "path"
    }
    assert {"companyId", "memberId", "blacklistEntryId", "proVerificationId", "planId", "userId"} <= names
    assert all(name.endswith("Id") and name.isalnum() for name in names), names
    member = document["paths"]["/v1/companies/{companyId}/members/{memberId}"]["patch"]
    described = {p["name"]: p["description"] for p in member["parameters"] if p["in"] == "path"}
    assert described == {
        "companyId": "The company's id, not a resource name: the `{companyId}` segment of "
        "`companies/{companyId}/members/{memberId}` (request field `member.name`).",
        "memberId": "The member's id, not a resource name: the last segment of "
        "`companies/{companyId}/members/{memberId}` (request field `member.name`).",
    }


def test_bodies_and_raw_http_bodies(served: dict[str, Any]) -> None:
    item = served["paths"]["/v1/items"]["post"]
    assert item["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("edgetest.v1.Item")
    assert "id" in _params(item) and "item.title" not in _params(item)
    ping = served["paths"]["/v1/items/{itemId}:ping"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "id" not in ping["properties"] and "tags" in ping["properties"]  # path fields stay out of body "*"
    upload = served["paths"]["/v1/uploads/{name}"]["post"]
    assert "*/*" in upload["requestBody"]["content"] and "*/*" in upload["responses"]["200"]["content"]


def test_security_and_errors_follow_the_access_option(served: dict[str, Any]) -> None:
    public = served["paths"]["/v1/echo/{id}"]["get"]
    secret = served["paths"]["/v1/secret"]["get"]
    assert public["security"] == [{}, {"bearer": []}] and public["x-access"]["audience"] == "PUBLIC"
    assert secret["security"] == [{"bearer": []}] and secret["x-access"]["audience"] == "AUTHENTICATED"
    schemas = served["components"]["schemas"]
    assert schemas["edgetest.v1.Item"]["properties"]["quantity"]["type"] == "string"


def test_every_error_status_is_listed_with_the_status_body(served: dict[str, Any]) -> None:
    """No `default` response: the statuses the edge can answer are listed, each a google.rpc.Status
    (from a service through the transcoder, or from Envoy's local reply mapper)."""
    secret = served["paths"]["/v1/secret"]["get"]["responses"]
    item = served["paths"]["/v1/items"]["post"]["responses"]
    assert "default" not in secret
    errors = {"400", "401", "403", "404", "409", "429", "431", "500", "503", "504"}
    assert set(secret) == {"200"} | errors
    assert set(item) == {"200", "413"} | errors  # only operations with a body can be too large
    for code in errors | {"413"}:
        assert item[code] == {"$ref": f"#/components/responses/{code}"}
        response = served["components"]["responses"][code]
        assert response["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/google.rpc.Status"


def test_the_real_protos_give_one_operation_per_binding() -> None:
    api = descriptors.load(ROOT / "gen" / "devinsider.binpb")
    document = openapi.document(api)
    bindings = sum(len(m.bindings) for methods in api.services.values() for m in methods)
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert len(operations) == bindings
    assert len({op["operationId"] for op in operations}) == len(operations)
    assert all(op["description"].strip() for op in operations)


def test_docs_page_and_its_assets_come_from_the_edge(edge: Edge) -> None:
    page = request("GET", edge.url("/docs"))
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert b"/docs/swagger-ui-bundle.js" in page.body and b"//" not in page.body.replace(b"http://", b"")
    bundle = request("GET", edge.url("/docs/swagger-ui-bundle.js"))
    assert bundle.status == 200 and len(bundle.body) > 500_000
    assert request("GET", edge.url("/docs/swagger-ui.css")).status == 200
