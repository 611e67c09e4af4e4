"""A Python client of DevInsider over typed gRPC stubs (the README's client section).

Run against `make run`:  .venv/bin/python examples/typed_stub_client.py
It creates a company page for an ISV, walks the directory page by page, and shows how an error's
google.rpc.Status details (ErrorInfo reason, BadRequest field violations) are read.
"""

from __future__ import annotations

import argparse
import sys
import uuid

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.settings import AuthSettings


def dev_token(subject: str) -> str:
    """A token of the local dev issuer (what `devinsider-dev-token` prints; `make run` trusts it).
    Production clients get theirs from Keycloak."""
    auth = AuthSettings()
    return issue_token(auth.dev_key_dir, auth.issuer, subject, roles=["isv"], email=f"{subject}@example.com")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", default="127.0.0.1:50052", help="the company service's gRPC address")
    parser.add_argument("--token", help="a bearer token (default: a dev token for a new ISV)")
    args = parser.parse_args(argv)
    token = args.token or dev_token(f"isv-{uuid.uuid4().hex[:8]}")
    # Every call carries the bearer token; a request id of ours shows up in every service's logs.
    metadata = (("authorization", f"Bearer {token}"), ("x-request-id", str(uuid.uuid4())))

    with grpc.insecure_channel(args.target) as channel:
        companies = company_pb2_grpc.CompanyServiceStub(channel)
        created = companies.CreateCompany(
            company_pb2.CreateCompanyRequest(company=company_pb2.Company(display_name="Carol Cloud")),
            metadata=metadata,
            timeout=5,  # always set a deadline
        )
        print("created", created.name)

        # Every List is paginated (AIP-158): follow next_page_token until it comes back empty.
        request = company_pb2.ListCompaniesRequest(page_size=50)
        while True:
            page = companies.ListCompanies(request, metadata=metadata, timeout=5)
            for company in page.companies:
                print("listed", company.name, company.display_name)
            if not page.next_page_token:
                break
            request.page_token = page.next_page_token

        # Errors are google.rpc.Status: a code, a message, ErrorInfo and, for bad input, BadRequest.
        try:
            companies.CreateCompany(company_pb2.CreateCompanyRequest(), metadata=metadata, timeout=5)
        except grpc.RpcError as error:
            status = rpc_status.from_call(error)
            print("error", error.code().name, error.details())
            for detail in status.details if status else []:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    print("reason", info.reason, info.domain)
                if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad_request = error_details_pb2.BadRequest()
                    detail.Unpack(bad_request)
                    for violation in bad_request.field_violations:
                        print("violation", violation.field, violation.description)
    return 0


if __name__ == "__main__":
    sys.exit(main())
