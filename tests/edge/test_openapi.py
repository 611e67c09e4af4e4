"""The OpenAPI 3.1 document: generated from the descriptors, served by the same Envoy listener."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
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


def test_summaries_are_the_first_sentence_of_the_comment(served: dict[str, Any]) -> None:
    echo = served["paths"]["/v1/echo/{id}"]["get"]
    assert echo["summary"] == "Echo by id, by nested resource name, or with the whole request as body"
    assert echo["description"].startswith("Access: PUBLIC.")  # a one-sentence comment has no more to say
    update = openapi.document(descriptors.load(ROOT / "gen" / "devinsider.binpb"))["paths"][
        "/v1/companies/{companyId}"
    ]["patch"]
    assert update["summary"].startswith("Updates a company page; only the fields named in `update_mask`")
    assert update["description"].startswith("Needs the EDIT page permission.\n\nAccess: AUTHENTICATED.")


def test_required_and_output_only_fields_of_the_real_protos() -> None:
    document = openapi.document(descriptors.load(ROOT / "gen" / "devinsider.binpb"))
    schemas = document["components"]["schemas"]
    company = schemas["devinsider.company.v1.Company"]
    assert company["required"] == ["displayName"]  # REQUIRED
    assert company["properties"]["createTime"]["readOnly"] is True  # OUTPUT_ONLY
    assert "readOnly" not in company["properties"]["displayName"]
    create = document["paths"]["/v1/companies"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create["$ref"] == "#/components/schemas/devinsider.company.v1.Company"
    # An update with a field mask sends only what changes: the same fields, none required.
    update = document["paths"]["/v1/companies/{companyId}"]["patch"]["requestBody"]["content"]["application/json"]
    assert update["schema"]["$ref"] == "#/components/schemas/devinsider.company.v1.Company-Update"
    partial = schemas["devinsider.company.v1.Company-Update"]
    assert "required" not in partial and partial["properties"] == company["properties"]


def _status_validator(document: dict[str, Any]) -> Any:
    root = {"$ref": "#/components/schemas/google.rpc.Status", "components": document["components"]}
    return jsonschema.Draft202012Validator(root)


def test_error_details_are_typed_and_match_what_the_edge_returns(served: dict[str, Any], edge: Edge) -> None:
    details = served["components"]["schemas"]["google.rpc.Status"]["properties"]["details"]["items"]["oneOf"]
    kinds = {kind["title"]: kind for kind in details}
    assert {"ErrorInfo", "BadRequest", "QuotaFailure", "PreconditionFailure", "ResourceInfo", "RetryInfo"} <= set(kinds)
    error_info = kinds["ErrorInfo"]
    assert error_info["properties"]["@type"] == {"const": "type.googleapis.com/google.rpc.ErrorInfo"}
    assert error_info["allOf"] == [{"$ref": "#/components/schemas/google.rpc.ErrorInfo"}]
    validator = _status_validator(served)
    returned = request("POST", edge.url("/v1/fail/5")).json()  # a service's error, as the transcoder renders it
    assert returned["details"] and not list(validator.iter_errors(returned))
    refused = request("GET", edge.url("/v1/secret")).json()  # the edge's own 401
    assert not list(validator.iter_errors(refused))
    wrong = {**returned, "details": [{**returned["details"][0], "reason": 7}]}
    assert list(validator.iter_errors(wrong))  # the schema does check the detail's own fields
    for code, response in served["components"]["responses"].items():
        example = response["content"]["application/json"].get("example")
        assert example is None or not list(validator.iter_errors(example)), code


def test_the_document_names_its_server_and_how_to_get_a_token(served: dict[str, Any]) -> None:
    assert served["servers"] == [{"url": "/", "description": "The edge that serves this document."}]
    assert "devinsider-dev-token" in served["components"]["securitySchemes"]["bearer"]["description"]


def test_the_root_redirects_to_the_docs(edge: Edge) -> None:
    response = request("GET", edge.url("/"))
    assert response.status == 302
    assert response.headers["location"].endswith("/docs")
    assert b"persistAuthorization: true" in request("GET", edge.url("/docs")).body
