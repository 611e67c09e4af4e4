"""Errors through the edge: every gRPC code with its Status JSON, and Envoy's own refusals."""

from __future__ import annotations

import grpc
import pytest

from devinsider_gateway.testing.http import request

from .conftest import Edge

# The mapping Envoy's transcoder applies (google/rpc/code.proto's HTTP equivalents).
HTTP_STATUS = {
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}


@pytest.mark.parametrize(("code", "status"), list(HTTP_STATUS.items()), ids=lambda v: getattr(v, "name", str(v)))
def test_grpc_codes_become_http_statuses_with_status_json(edge: Edge, code: grpc.StatusCode, status: int) -> None:
    number = code.value[0]
    response = request("POST", edge.url(f"/v1/fail/{number}"))
    assert response.status == status
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "code": number,
        "message": f"failing with {number}",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ASKED_TO_FAIL", "domain": "echo.test"}
        ],
    }


def _status(response_json: object) -> int:
    assert isinstance(response_json, dict)
    return int(response_json["code"])


def test_unknown_path_is_404_with_status_json(edge: Edge) -> None:
    response = request("GET", edge.url("/v1/nothing/here"))
    assert response.status == 404
    assert _status(response.json()) == 5


def test_wrong_http_method_is_404(edge: Edge) -> None:
    assert request("DELETE", edge.url("/v1/echo/x")).status == 404


def test_rpc_without_http_binding_is_not_reachable(edge: Edge) -> None:
    headers = {"content-type": "application/grpc", "authorization": f"Bearer {edge.token('svc')}"}
    response = request("POST", edge.url("/edgetest.v1.EchoService/Internal"), b"", headers)
    assert response.headers.get("grpc-status") != "0"
    assert "backend" not in response.body.decode(errors="replace")


def test_unknown_query_parameter_is_400(edge: Edge) -> None:
    response = request("GET", edge.url("/v1/echo/x?colour=COLOR_RED"))
    assert response.status == 400
    assert _status(response.json()) == 3
    assert "colour" in response.json()["message"]


def test_unparsable_json_body_is_400(edge: Edge) -> None:
    response = request("POST", edge.url("/v1/echo"), b"{not json", {"content-type": "application/json"})
    assert response.status == 400
    assert _status(response.json()) == 3


def test_bad_enum_and_int64_values_are_400(edge: Edge) -> None:
    assert request("GET", edge.url("/v1/echo/x?color=PURPLE")).status == 400
    assert request("GET", edge.url("/v1/echo/x?big=twelve")).status == 400


def test_body_over_the_limit_is_413(edge: Edge) -> None:
    big = b"x" * (1024 * 1024 + 1)  # the fixture's limit is 1 MB
    response = request("POST", edge.url("/v1/uploads/big"), big, {"content-type": "application/octet-stream"})
    assert response.status == 413
    small = request("POST", edge.url("/v1/uploads/ok"), b"x" * 1000, {"content-type": "application/octet-stream"})
    assert small.status == 200


def test_slow_backend_hits_the_route_timeout_504(edge: Edge) -> None:
    response = request("GET", edge.url("/v1/sleep?seconds=3"))  # the fixture sets Sleep's timeout to 0.5 s
    assert response.status == 504
    assert request("GET", edge.url("/v1/sleep?seconds=0")).status == 200


@pytest.mark.parametrize(("where", "kb"), [("url", 15), ("url", 17), ("url", 70), ("header", 17), ("header", 70)])
def test_request_line_and_headers_over_the_limit_are_431_with_status_json(edge: Edge, where: str, kb: int) -> None:
    """16 KB by default (--max-request-headers-kb), URL included; beyond it Envoy's own 431 is a Status too."""
    filler = "a" * (kb * 1024 - 300)
    url, headers = ("/v1/echo/" + filler, {}) if where == "url" else ("/v1/echo/x", {"x-filler": filler})
    response = request("GET", edge.url(url), headers=headers)
    if kb < 16:
        assert response.status == 200
        return
    assert response.status == 431
    assert response.headers["content-type"] == "application/json"
    status = response.json()
    assert status["code"] == 3 and "over the edge's limit of 16 KB" in status["message"], status
