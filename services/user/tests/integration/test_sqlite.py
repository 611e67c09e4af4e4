"""The whole service on SQLite, the embedded default: one smoke through gRPC of what SQLite stores
differently (naive timestamps compared with aware ones, LIKE escaping, keyset tokens)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import grpc
from google.api import httpbody_pb2
from google.protobuf import field_mask_pb2

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.testing.failures import failure
from devinsider_common.testing.tokens import TokenFactory
from devinsider_common.webhooks import sign
from user_service.bootstrap import start

from ..conftest import bearer, make_settings
from ..fakes import WEBHOOK_SECRET


def _keycloak(stub: user_pb2_grpc.UserServiceStub, subject: str, age_ms: int, **details: str) -> None:
    body = json.dumps(
        {
            "id": str(uuid.uuid4()),
            "time": int(time.time() * 1000) - age_ms,
            "type": "access.UPDATE_EMAIL" if "updated_email" in details else "access.REGISTER",
            "userId": subject,
            "details": details,
        }
    ).encode()
    request = user_pb2.ReceiveKeycloakEventRequest(body=httpbody_pb2.HttpBody(data=body))
    stub.ReceiveKeycloakEvent(request, metadata=(("x-keycloak-signature", sign(body, WEBHOOK_SECRET)),))


def test_the_service_on_sqlite(tmp_path: Path, workdir: Path, token: TokenFactory) -> None:
    url = f"sqlite+pysqlite:///{tmp_path / 'user.sqlite3'}"
    service = start(make_settings(workdir, url, "user", support_request_rate_limit=1))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = user_pb2_grpc.UserServiceStub(channel)
            ada = bearer(token("kc-ada", email="ada@a_me.io"))
            stub.GetMe(user_pb2.GetMeRequest(), metadata=ada)
            mask = field_mask_pb2.FieldMask(paths=["job_title"])
            updated = stub.UpdateMe(
                user_pb2.UpdateMeRequest(user=user_pb2.User(job_title="CTO"), update_mask=mask), metadata=ada
            )
            assert updated.job_title == "CTO" and updated.update_time.seconds > 0
            # Keycloak events in order, then one from before: the stored (naive) time still wins.
            _keycloak(stub, "kc-grace", 3000, email="grace@acme.io")
            _keycloak(stub, "kc-grace", 1000, updated_email="new@acme.io")
            _keycloak(stub, "kc-grace", 2000, updated_email="old@acme.io")
            admin = bearer(token("kc-root", roles=("admin",)))
            first = stub.ListUsers(user_pb2.ListUsersRequest(page_size=1), metadata=admin)
            second = stub.ListUsers(
                user_pb2.ListUsersRequest(page_size=1, page_token=first.next_page_token), metadata=admin
            )
            assert {first.users[0].email, second.users[0].email} == {"ada@a_me.io", "new@acme.io"}
            assert second.next_page_token == ""  # the admin made no user by listing
            like = stub.ListUsers(user_pb2.ListUsersRequest(email_suffix="@aame.io"), metadata=admin)
            assert list(like.users) == []  # `_` is no wildcard
            support = user_pb2.SupportRequest(subject="Help", message="Broken")
            stub.CreateSupportRequest(user_pb2.CreateSupportRequestRequest(support_request=support), metadata=ada)
            again = user_pb2.CreateSupportRequestRequest(support_request=support)
            refused = failure(lambda: stub.CreateSupportRequest(again, metadata=ada))
            assert refused.code == grpc.StatusCode.RESOURCE_EXHAUSTED  # the window counted from SQLite's times
    finally:
        service.stop(grace=0)
