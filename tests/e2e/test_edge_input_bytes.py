"""Bytes schemathesis cannot send, through the edge to the real services: URLs whose percent-encoded
bytes are not UTF-8 (invalid, overlong, surrogates, control characters), raw bytes in the request
line, and long URLs and headers. None may end as a 5xx; each gets a 4xx (or a 2xx) with a body.

- Text that is not UTF-8 reaches a service inside a proto string field (the transcoder decodes the
  URL into it); the service answers INVALID_ARGUMENT naming the field (devinsider_common.grpc.decoding),
  where grpcio alone answered INTERNAL ("Exception deserializing request!", a 500).
- A URL or headers up to the edge's limit (16 KB) reach the service, whose gRPC metadata limit is
  above what the edge forwards; beyond it the edge answers 431 itself. Before, grpcio's metadata
  limits (8 KB soft, 16 KB hard) answered some of them 429, naming internal headers.

The fuzz target is derandomized and bounded (`FUZZ_EXAMPLES` requests, a few seconds).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import grpc
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from devinsider_gateway.testing.http import Response, raw_get, request

from .suite_stack import SuiteStack, field_violations

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq]

# GET routes of every service; `{}` is where the fuzzed bytes go (a path segment or a query value).
TARGETS = [
    "/v1/companies/{}",
    "/v1/companies?query={}",
    "/v1/investors/{}",
    "/v1/investors?query={}",
    "/v1/programs/{}",
    "/v1/programs?vendorCompany={}",
    "/v1/plans/{}",
    "/v1/plans?pageToken={}",
    "/v1/dimensions/{}/criteria",
    "/v1/dimensions/industry/criteria?query={}",
    "/v1/users/{}",
    "/v1/users?emailSuffix={}",
]
FUZZ_EXAMPLES = 300
# Byte sequences a UTF-8 decoder must refuse, percent-encoded: invalid, truncated, overlong (`/`, NUL),
# UTF-16 surrogates, beyond U+10FFFF; control characters; and broken escapes.
NASTY = [
    b"%ff",
    b"%fe%ff",
    b"%c3%28",
    b"%c3",
    b"%e2%82",
    b"%c0%af",
    b"%c0%80",
    b"%e0%80%af",
    b"%ed%a0%80",
    b"%ed%bf%bf",
    b"%f4%90%80%80",
    b"%f8%88%80%80%80",
    b"%00",
    b"%0a",
    b"%0d%0a",
    b"%1b",
    b"%7f",
    b"%",
    b"%g1",
    b"%2f",
    b"%3f",
]
# Bytes written raw into the request line: Envoy's HTTP/1 parser refuses most of them (400).
RAW = [b"\xff", b"\xc3\x28", b"\x00", b"\x01", b"\x7f", b" ", b"\t", b"#", b"\r\n"]


def _encoded(data: bytes) -> bytes:
    return "".join(f"%{byte:02x}" for byte in data).encode()


PIECES = st.one_of(
    st.binary(min_size=1, max_size=8).map(_encoded),
    st.sampled_from(NASTY),
    st.sampled_from(RAW),
    st.text(alphabet="abcXYZ019-_.~", min_size=1, max_size=6).map(str.encode),
)
SEGMENTS = st.lists(PIECES, min_size=1, max_size=6).map(b"".join)


@pytest.fixture(scope="module")
def admin(suite_stack: SuiteStack) -> dict[str, str]:
    """Every fuzzed route is open to platform staff: the bytes reach a service, not only the JWT filter."""
    return {"authorization": f"Bearer {suite_stack.token('bytes-admin', roles=('admin',))}"}


def _assert_answered(response: Response, where: bytes) -> None:
    assert 200 <= response.status < 500, (where, response.status, response.body[:300])
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith(("application/json", "text/plain")), (where, content_type)
    if content_type.startswith("application/json") and response.status >= 400:
        assert isinstance(response.json()["code"], int), (where, response.body[:300])


@pytest.mark.parametrize(
    ("path", "field"),
    [("/v1/companies/%ff%fe", "name"), ("/v1/companies?query=%ff", "query"), ("/v1/plans/%c3%28", "name")],
)
def test_text_that_is_not_utf8_is_a_400_naming_the_field(suite_stack: SuiteStack, path: str, field: str) -> None:
    response = request("GET", suite_stack.url(path))  # anonymous, as in the report
    assert response.status == 400, response.body
    assert response.json()["code"] == 3
    assert "not UTF-8" in response.json()["message"]
    assert field_violations(response) == [field]


def test_raw_grpc_callers_through_the_edge_get_invalid_argument_too(suite_stack: SuiteStack) -> None:
    """The same request as gRPC (Envoy passes gRPC through on the same port): the service, not only
    the REST edge, answers INVALID_ARGUMENT, with the field, and no longer INTERNAL."""
    bad_name = b"companies/\xff\xfe"
    message = b"\x0a" + bytes([len(bad_name)]) + bad_name  # GetCompanyRequest{name (field 1): bad_name}
    with grpc.insecure_channel(f"127.0.0.1:{suite_stack.envoy.port}") as channel:
        get_company: Any = channel.unary_unary("/devinsider.company.v1.CompanyService/GetCompany")
        with pytest.raises(grpc.RpcError) as raised:
            get_company(message, timeout=10)
    error: Any = raised.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
    assert "name: must be valid UTF-8" in error.details()


@settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
@given(target=st.sampled_from(TARGETS), segment=SEGMENTS)
@example(target="/v1/companies/{}", segment=b"%ff%fe")
@example(target="/v1/companies?query={}", segment=b"%ff")
@example(target="/v1/plans/{}", segment=b"%c3%28")
@example(target="/v1/users?emailSuffix={}", segment=b"\xff")
def test_arbitrary_path_and_query_bytes_never_get_a_5xx(
    suite_stack: SuiteStack, admin: dict[str, str], target: str, segment: bytes
) -> None:
    before, _, after = target.encode().partition(b"{}")
    where = before + segment + after
    _assert_answered(raw_get(suite_stack.url(""), where, admin), where)


@pytest.mark.parametrize("kb", [7, 9, 15, 20, 70])
def test_long_urls_reach_the_service_up_to_the_edges_limit_then_get_431(suite_stack: SuiteStack, kb: int) -> None:
    company = "x" * (kb * 1024 - 200)
    response = request("GET", suite_stack.url(f"/v1/companies/{company}"))
    if kb < 16:  # the company service itself answers (an id that long is invalid), never grpcio's 429
        assert response.status == 400, response.body[:300]
        assert field_violations(response) == ["name"]
    else:
        assert response.status == 431, response.body[:300]
        assert "limit of 16 KB" in response.json()["message"]


@pytest.mark.parametrize("kb", [9, 15, 20])
def test_long_queries_and_headers_reach_the_service_up_to_the_edges_limit(suite_stack: SuiteStack, kb: int) -> None:
    filler = "y" * (kb * 1024 - 300)
    query = request("GET", suite_stack.url(f"/v1/companies?query={quote(filler)}"))
    header = request("GET", suite_stack.url("/v1/companies?pageSize=1"), headers={"x-filler": filler})
    for response in (query, header):
        if kb < 16:
            assert response.status in (200, 400), response.body[:300]  # the service's answer
        else:
            assert response.status == 431, response.body[:300]
