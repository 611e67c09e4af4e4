"""The whole service on SQLite (the embedded default): migrated, serving, paging, inviting."""

from __future__ import annotations

from pathlib import Path

import grpc

from devinsider.common.v1 import page_pb2
from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider_common.testing.tokens import CallerFactory
from investor_service.bootstrap import start

from ..conftest import mailed_token, make_settings, new_investor

pb = investor_pb2


def test_the_service_runs_on_sqlite(tmp_path: Path, callers: CallerFactory) -> None:
    url = f"sqlite+pysqlite:///{tmp_path / 'investor.sqlite3'}"
    service = start(make_settings(tmp_path, url, "investor"), run_jobs=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = investor_pb2_grpc.InvestorServiceStub(channel)
            owner = callers("kc-owner", ("investor",)).metadata
            names = [
                stub.CreateInvestor(
                    pb.CreateInvestorRequest(investor=new_investor(f"Fund {n}", funding_stages=["seed"])),
                    metadata=owner,
                ).name
                for n in range(3)
            ]
            first = stub.ListInvestors(pb.ListInvestorsRequest(page_size=2, funding_stages=["seed"]))
            rest = stub.ListInvestors(
                pb.ListInvestorsRequest(page_size=2, funding_stages=["seed"], page_token=first.next_page_token)
            )
            assert [i.name for i in [*first.investors, *rest.investors]] == names and first.total_size == 3
            invitation = stub.CreateInvitation(
                pb.CreateInvitationRequest(
                    parent=names[0], invitation=pb.Invitation(email="bob@example.com", role=page_pb2.PAGE_ROLE_EDITOR)
                ),
                metadata=owner,
            )
            token = mailed_token(service.engine, "bob@example.com")
            accepted = stub.AcceptInvitation(
                pb.AcceptInvitationRequest(name=invitation.name, token=token), metadata=callers("bob").metadata
            )
            assert accepted.state == page_pb2.INVITATION_STATE_ACCEPTED
            seen = stub.GetInvestor(pb.GetInvestorRequest(name=names[0]), metadata=callers("bob").metadata)
            assert seen.viewer_role == page_pb2.PAGE_ROLE_EDITOR and seen.viewer_has_full_access
    finally:
        service.stop(grace=0)
