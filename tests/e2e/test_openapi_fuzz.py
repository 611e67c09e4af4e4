"""Schemathesis against the served /openapi.json of the whole suite (six services behind one Envoy).

Every operation of the document is fuzzed by three callers: anonymous, the owner of seeded pages (one
subject holding the isv, investor and program roles, so that it passes the role checks of all three
page kinds and owns a company, an investor page and a program) and a platform admin. Cases come from
the document: positive and negative data, each also on the names of seeded resources (pages, the
owner's membership, an invitation, a checkout, a plan, a dimension, the owner's user; the company
has a logo, so GET .../logo answers an HttpBody) so that reads, updates and actions reach real rows,
not only NOT_FOUND; plus one case with a NUL in every free-text path and query parameter. Checks:
no 5xx, the status code documented, the content type documented, the body valid against the
documented schema (the message on 200, google.rpc.Status on every error), and negative data refused
with a 4xx. A fuzzed DELETE may remove a seeded page: the next test seeds it again.

Deterministic and bounded: Hypothesis derandomized, no example database, `MAX_EXAMPLES` cases per
strategy (one per strategy for anonymous calls of non-public operations, which Envoy refuses before
any service sees them); a few thousand requests, 70-100 s.

Nothing is excluded. The two webhooks (`/v1/webhooks/keycloak`, `/v1/webhooks/payments`) need an HMAC
signature generated requests cannot carry, so they only see refusals there: they are still fuzzed
with every check (garbage must be a documented 4xx, never a 5xx). The one tolerance: Envoy's own
`503 no healthy upstream` is retried for up to 3 s (see `_call`), because the services run inside
the test process and one missed 1 s health check makes Envoy drop the only replica.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from devinsider_gateway import descriptors, openapi
from devinsider_gateway.testing.http import Response, request

from .suite_stack import SuiteStack

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 4
CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# The operations of the document Envoy serves (tests/edge/test_openapi.py shows it is this one).
DOCUMENT = openapi.document(descriptors.load(ROOT / "gen" / "devinsider.binpb"))
OPERATIONS = [(verb.upper(), path) for path, item in DOCUMENT["paths"].items() for verb in item]
CALLERS = ("anonymous", "owner", "admin")
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
UNHEALTHY_RETRY_SECONDS = 3.0
# A 1x1 PNG: the company service checks the bytes against the declared type.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
# `companies/{name}`, `{name.members}`, `{company}:scoreMatch`: the collection a path parameter is an id of.
_COLLECTION = re.compile(r"([A-Za-z]+)/\{([^}]+)\}")


@dataclass
class Fuzz:
    stack: SuiteStack
    schema: Any
    tokens: dict[str, str]
    owner: str
    seeds: dict[str, str] = field(default_factory=dict)  # collection -> id of a live resource

    def headers(self, caller: str) -> dict[str, str]:
        token = self.tokens.get(caller)
        return {"authorization": f"Bearer {token}"} if token else {}

    def _owner(self, method: str, path: str, body: dict[str, Any] | None = None) -> Response:
        deadline = time.monotonic() + UNHEALTHY_RETRY_SECONDS
        while True:
            response = self.stack.call(method, path, body, self.tokens["owner"])
            if not _no_healthy_upstream(response.status, response.body) or time.monotonic() > deadline:
                return response
            time.sleep(0.2)

    def _ok(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._owner(method, path, body)
        assert response.status == 200, (method, path, response.status, response.body)
        return dict(response.json())

    def _live(self, collection: str) -> bool:
        seeded = self.seeds.get(collection)
        return bool(seeded) and self._owner("GET", f"/v1/{collection}/{seeded}").status == 200

    def ensure(self) -> None:
        """Seeds what the previous cases deleted (a fuzzed DELETE may well hit a seeded page)."""
        if not self.seeds:
            self.seeds["users"] = self._ok("GET", "/v1/users/me")["name"].split("/")[-1]
            self.seeds["members"] = self.seeds["users"]
            plan = self._ok("GET", "/v1/plans?pageKind=PAGE_KIND_INVESTOR")["plans"][0]["name"]
            self.seeds["plans"] = plan.split("/")[-1]
            dimension = self._ok("GET", "/v1/taxonomy")["dimensions"][0]["name"]
            self.seeds["dimensions"] = dimension.split("/")[-1]
        pages = {
            "companies": {"displayName": "Fuzz Analytics", "websiteUrl": "https://fuzz.example"},
            "investors": {
                "displayName": "Fuzz Ventures",
                "category": "INVESTOR_CATEGORY_INSTITUTIONAL",
                "investorType": "INVESTOR_TYPE_VENTURE_CAPITAL",
            },
            "programs": {
                "displayName": "Fuzz Partners",
                "vendorName": "Fuzz Analytics",
                "programType": "PROGRAM_TYPE_RESELLER",
            },
        }
        for collection, body in pages.items():
            if not self._live(collection):
                self.seeds[collection] = self._ok("POST", f"/v1/{collection}", body)["name"].split("/")[-1]
                if collection == "companies":  # GET .../logo then answers an HttpBody (image/png), not only 404
                    self._upload_logo(self.seeds[collection])
        company = self.seeds["companies"]
        invitation = {"email": "fuzz-guest@example.com", "role": "PAGE_ROLE_EDITOR"}
        invited = self._owner("POST", f"/v1/companies/{company}/invitations", invitation)
        if invited.status == 200:
            self.seeds["invitations"] = invited.json()["name"].split("/")[-1]
        investor = self.seeds["investors"]
        if "checkouts" not in self.seeds:
            checkout = self._ok(
                "POST",
                f"/v1/investors/{investor}/checkouts",
                {"plan": f"plans/{self.seeds['plans']}", "successUrl": "http://localhost:3000/paid"},
            )
            self.seeds["checkouts"] = checkout["name"].split("/")[-1]

    def _upload_logo(self, company: str) -> None:
        headers = {"authorization": f"Bearer {self.tokens['owner']}", "content-type": "image/png"}
        response = request("POST", self.stack.url(f"/v1/companies/{company}:uploadLogo"), PNG, headers)
        assert response.status == 200, response.body

    def seeded_path(self, path: str) -> dict[str, str]:
        """Path parameters of `path` set to the seeded resources (those of unseeded collections are generated)."""
        return {param: self.seeds[c] for c, param in _COLLECTION.findall(path) if c in self.seeds}


@pytest.fixture(scope="module")
def fuzz(suite_stack: SuiteStack) -> Fuzz:
    owner = f"fuzz-owner-{uuid.uuid4().hex[:8]}"
    tokens = {
        "owner": suite_stack.token(owner, roles=("isv", "investor", "program")),
        "admin": suite_stack.token(f"fuzz-admin-{uuid.uuid4().hex[:8]}", roles=("admin",)),
    }
    config = schemathesis.Config.from_dict(
        {"generation": {"with-security-parameters": False, "deterministic": True}, "seed": 7}
    )
    schema = schemathesis.openapi.from_url(suite_stack.url("/openapi.json"), config=config)
    assert len(list(schema.get_all_operations())) == len(OPERATIONS)
    fuzz = Fuzz(suite_stack, schema, tokens, owner)
    fuzz.ensure()
    return fuzz


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.rabbitmq
@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_response_is_documented(fuzz: Fuzz, caller: str, method: str, path: str) -> None:
    fuzz.ensure()
    operation = fuzz.schema[path][method]
    seeded = fuzz.seeded_path(path)
    strategies = []
    for mode in MODES:
        strategies.append(operation.as_strategy(generation_mode=mode))
        if seeded:
            strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=seeded))
    # NUL in every free-text parameter: random generation almost never tries it, PostgreSQL cannot store it.
    nul_path, nul_query = _nul_parameters(DOCUMENT["paths"][path][method.lower()])
    if nul_path or nul_query:
        strategies.append(operation.as_strategy(path_parameters=nul_path or None, query=nul_query or None))
    # Without a token, Envoy refuses every non-public operation before any service sees the request.
    public = DOCUMENT["paths"][path][method.lower()]["x-access"]["audience"] == "PUBLIC"
    refused_at_the_edge = caller == "anonymous" and not public
    examples = len(strategies) * (1 if refused_at_the_edge else MAX_EXAMPLES)
    headers = fuzz.headers(caller)
    base_url = fuzz.stack.url("")

    @hypothesis.settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=st.one_of(strategies))
    def run(case: schemathesis.Case[Any]) -> None:
        response = _call(case, base_url, headers)
        case.validate_response(response, checks=CHECKS, headers=headers, transport_kwargs={"base_url": base_url})
        SEEN.append(Seen(caller, method, path, response.status_code))

    run()


def test_the_fuzzing_reached_the_services() -> None:
    """Most generated requests are refused (random data rarely passes the services' validation), but
    every caller must also have been answered 200, and the owner on a good share of the operations."""
    if {(s.method, s.path) for s in SEEN} != set(OPERATIONS):
        pytest.skip("the fuzzing test did not run over every operation (deselected)")
    answered = {
        caller: {(s.method, s.path) for s in SEEN if s.caller == caller and s.status == 200} for caller in CALLERS
    }
    assert len(answered["anonymous"]) >= 5, answered["anonymous"]
    assert len(answered["owner"]) >= 40, answered["owner"]
    assert len(answered["admin"]) >= 40, answered["admin"]
    assert not [s for s in SEEN if s.status >= 500]


@dataclass(frozen=True)
class Seen:
    caller: str
    method: str
    path: str
    status: int


SEEN: list[Seen] = []


def _call(case: schemathesis.Case[Any], base_url: str, headers: dict[str, str]) -> schemathesis.Response:
    """Sends the case; Envoy's own `no healthy upstream` (a health check of an in-process service that
    missed its 1 s timeout while the test process was busy: unhealthy after one miss, see the report
    of issue 7) is retried for up to 3 s. A service's own 5xx is never retried."""
    deadline = time.monotonic() + UNHEALTHY_RETRY_SECONDS
    while True:
        response = case.call(base_url=base_url, headers=headers, timeout=10)
        if not _no_healthy_upstream(response.status_code, response.content) or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def _nul_parameters(operation: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(path, query) parameters of `operation` that are free strings, each set to a value with a NUL."""
    free = [p for p in operation["parameters"] if set(p["schema"]) <= {"type", "pattern"}]
    free = [p for p in free if p["schema"].get("type") == "string"]
    return (
        {p["name"]: "fuzz\x00" for p in free if p["in"] == "path"},
        {p["name"]: "fuzz\x00" for p in free if p["in"] == "query"},
    )


def _no_healthy_upstream(status: int, body: bytes) -> bool:
    return status == 503 and b"no healthy upstream" in body
