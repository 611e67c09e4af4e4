"""A warm read RPC of a page service (company, investor, program) makes one round trip to PostgreSQL, counted
on the wire (how: conftest.py).

GetCompany (as its owner, as a stranger, as a member of an investor page that unlocked it, as an investor
outside that page, anonymously), GetInvestor and GetProgram: the page, the caller's role and the pages that
unlocked it, one statement (whether the viewer belongs to an unlocking page is the investor service's answer,
cached). ListCompanies, ListInvestors and ListPrograms: the window, the total and the caller's role on each page,
one statement (`pages.repositories.read_directory`). CheckPageAccess: the member's role on a live page, one
statement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider_common.testing.services import Metadata

from .conftest import CALLS, Pages, Served

pytestmark = pytest.mark.postgres

READS = {  # case -> (service, subject, realm roles, whether the caller sees it all: a member or an unlocker)
    "GetCompany as its owner": ("company", "kc-alice", ("isv",), True),
    "GetCompany as a stranger": ("company", "kc-bob", ("isv",), False),
    "GetCompany as a member of a page that unlocked it": ("company", "kc-ivan", ("investor",), True),
    "GetCompany as an investor outside that page": ("company", "kc-vic", ("investor",), False),
    "GetCompany anonymously": ("company", "", (), False),
    "GetInvestor as its owner": ("investor", "kc-ivan", ("investor",), True),
    "GetInvestor as a stranger": ("investor", "kc-bob", ("isv",), False),
    "GetProgram as its owner": ("program", "kc-olga", ("program",), True),
    "GetProgram as a stranger": ("program", "kc-bob", ("isv",), False),
}


def _get(pages: Pages, service: str, metadata: Metadata) -> tuple[Served, Callable[[], Any]]:
    """The service and its Get of the seeded page, as the caller of `metadata`."""
    name = pages.names[service]
    if service == "company":
        companies = company_pb2_grpc.CompanyServiceStub(pages.company.channel)
        return pages.company, lambda: companies.GetCompany(company_pb2.GetCompanyRequest(name=name), metadata=metadata)
    if service == "investor":
        investors = investor_pb2_grpc.InvestorServiceStub(pages.investor.channel)
        request = investor_pb2.GetInvestorRequest(name=name)
        return pages.investor, lambda: investors.GetInvestor(request, metadata=metadata)
    programs = program_pb2_grpc.ProgramServiceStub(pages.program.channel)
    return pages.program, lambda: programs.GetProgram(program_pb2.GetProgramRequest(name=name), metadata=metadata)


@pytest.mark.parametrize("case", READS)
def test_a_warm_get_is_one_round_trip(pages: Pages, case: str) -> None:
    service, subject, roles, sees_all = READS[case]
    served, get = _get(pages, service, pages.who(subject, *roles) if subject else ())
    page = get()
    assert (bool(page.viewer_role) or getattr(page, "viewer_has_full_access", False)) is sees_all
    trips, ran = served.round_trips(get)
    assert trips == CALLS, ran


def _lists(pages: Pages) -> dict[str, tuple[Served, Callable[[], Any]]]:
    """Each list case: the service and its call as the caller (each lists the one seeded page)."""
    companies = company_pb2_grpc.CompanyServiceStub(pages.company.channel)
    investors = investor_pb2_grpc.InvestorServiceStub(pages.investor.channel)
    programs = program_pb2_grpc.ProgramServiceStub(pages.program.channel)
    alice, ivan, olga = pages.who("kc-alice", "isv"), pages.who("kc-ivan", "investor"), pages.who("kc-olga", "program")
    list_companies = company_pb2.ListCompaniesRequest(page_size=10)
    list_investors = investor_pb2.ListInvestorsRequest(page_size=10)
    list_programs = program_pb2.ListProgramsRequest(page_size=10)
    return {
        "ListCompanies as a member of a listed page": (
            pages.company,
            lambda: companies.ListCompanies(list_companies, metadata=alice),
        ),
        "ListCompanies anonymously": (pages.company, lambda: companies.ListCompanies(list_companies)),
        "ListInvestors as a member of a listed page": (
            pages.investor,
            lambda: investors.ListInvestors(list_investors, metadata=ivan),
        ),
        "ListPrograms as a member of a listed page": (
            pages.program,
            lambda: programs.ListPrograms(list_programs, metadata=olga),
        ),
        "ListPrograms anonymously": (pages.program, lambda: programs.ListPrograms(list_programs)),
    }


LISTS = (
    "ListCompanies as a member of a listed page",
    "ListCompanies anonymously",
    "ListInvestors as a member of a listed page",
    "ListPrograms as a member of a listed page",
    "ListPrograms anonymously",
)


@pytest.mark.parametrize("case", LISTS)
def test_a_warm_list_is_one_round_trip(pages: Pages, case: str) -> None:
    """A list's window, its total and the caller's role on each page are one statement; a second one (a
    count, the caller's pages) would make 2 * CALLS trips."""
    served, call = _lists(pages)[case]
    answer = call()
    listed = list(getattr(answer, "companies", None) or getattr(answer, "investors", None) or answer.programs)
    assert (len(listed), answer.total_size) == (1, 1)
    member = "member" in case
    assert all(bool(item.viewer_role) is member for item in listed)  # the caller's role came along
    trips, ran = served.round_trips(call)
    assert trips == CALLS, ran


def test_a_warm_access_check_is_one_round_trip(pages: Pages) -> None:
    """The member's role and the page's existence of CheckPageAccess are one statement."""
    companies = company_pb2_grpc.CompanyServiceStub(pages.company.channel)
    access = company_pb2.CheckPageAccessRequest(
        page=pages.names["company"], subject="kc-alice", permission=page_pb2.PAGE_PERMISSION_VIEW_PRIVATE
    )
    billing = pages.who("service-billing", "service")
    answer = companies.CheckPageAccess(access, metadata=billing)
    assert answer.allowed and answer.role == page_pb2.PAGE_ROLE_OWNER
    trips, ran = pages.company.round_trips(lambda: companies.CheckPageAccess(access, metadata=billing))
    assert trips == CALLS, ran
