"""The contract of the program service's unit of work and repositories (`service_layer/ports.py`),
with the same assertions on the in-memory fake (what the use-case tests run on) and on the SQL unit
of work, on PostgreSQL and on SQLite: the fake is honest, and the SQL keeps what the fake promises."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import grpc
import pytest
from sqlalchemy import func, select

from devinsider_common.clock import as_utc
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.pages.model import Member
from devinsider_common.pages.roles import PageRole
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.failures import failure
from devinsider_common.testing.fixtures import migrated_engine
from devinsider_common.testing.memory import MemoryStore
from devinsider_common.testing.pages import check_orphan_mark, check_page_for_viewer
from devinsider_common.unit_of_work import DuplicateRecord
from program_service.bootstrap import MIGRATIONS
from program_service.domain.application import Application, ApplicationState
from program_service.domain.program import Program, ProgramContent, ProgramState, ProgramType
from program_service.domain.query import ProgramQuery, position
from program_service.service_layer.ports import ProgramUnitOfWork, UowFactory
from program_service.service_layer.unit_of_work import SqlProgramUnitOfWork

from ..fakes import FakeProgramUnitOfWork, published

T = TypeVar("T")
NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)


@dataclass
class Backend:
    uow: UowFactory
    events: Callable[[], int]  # how many events (outbox messages) are committed


def memory_backend() -> Backend:
    store = MemoryStore()
    return Backend(partial(FakeProgramUnitOfWork, store), lambda: len(published(store)))


@contextmanager
def sql_backend(url: str, schema: str) -> Iterator[Backend]:
    with migrated_engine((url, schema), MIGRATIONS) as engine:

        def events() -> int:
            with engine.connect() as connection:
                return int(connection.execute(select(func.count()).select_from(outbox_messages)).scalar_one())

        yield Backend(partial(SqlProgramUnitOfWork, engine, "https://example.com/accept"), events)


def utc(row: T) -> T:
    """`row` with its times in UTC (SQLite hands back naive datetimes: the same instants)."""
    times = {f.name: as_utc(v) for f in fields(row) if isinstance(v := getattr(row, f.name), datetime)}  # type: ignore[arg-type]
    return replace(row, **times)  # type: ignore[type-var]


def program(program_id: str, name: str = "Azure Partners", **values: Any) -> Program:
    content: dict[str, Any] = {"display_name": name, "vendor_name": "Microsoft", "program_type": ProgramType.TECHNOLOGY}
    content |= {k: values.pop(k) for k in list(values) if k in ProgramContent.__dataclass_fields__}
    return Program(program_id, ProgramContent(**content), creator="kc-olga", created_at=NOW, updated_at=NOW, **values)


def application(application_id: str, program_id: str = "p1", company_id: str = "c-acme", **values: Any) -> Application:
    return Application(application_id, program_id, company_id, "kc-ann", created_at=NOW, **values)


def add(backend: Backend, *rows: Program | Application) -> None:
    with backend.uow() as uow:
        for row in rows:
            (uow.programs.add if isinstance(row, Program) else uow.applications.add)(row)  # type: ignore[arg-type]
        uow.commit()


def check_programs_round_trip_and_their_unique_keys(backend: Backend) -> None:
    full = program(
        "p1",
        tagline="Sell with us",
        description="Long text",
        benefits=("Co-selling", "Leads, qualified"),
        requirements=("An integration",),
        country_codes=("FR", "DE"),
        regions=("emea",),
        industries=("fintech", "health"),
        solution_categories=("crm",),
        website_url="https://azure.example.com",
        logo_url="https://azure.example.com/logo.png",
        vendor_company="companies/msft",
        idempotency_key="r1",
        orphaned_at=NOW + timedelta(hours=1),
    )
    add(backend, full, program("p2"))
    with backend.uow() as uow:
        assert utc(uow.programs.get("p1")) == full
        assert uow.programs.get("missing") is None
        assert utc(uow.programs.find_by_request("kc-olga", "r1")) == full
        assert uow.programs.find_by_request("kc-bob", "r1") is None
        assert uow.page_title("p1") == "Azure Partners" and uow.page_title("missing") is None
    with pytest.raises(DuplicateRecord), backend.uow() as uow:  # one program per creator and request id
        uow.programs.add(program("p3", idempotency_key="r1"))
        uow.commit()
    with pytest.raises(DuplicateRecord), backend.uow() as uow:
        uow.programs.add(program("p1"))
        uow.commit()
    with backend.uow() as uow:
        assert sorted(uow.programs.get_many(["p1", "p2", "p3"])) == ["p1", "p2"]


def check_saves_are_versioned_and_deleted_programs_are_gone_from_reads(backend: Backend) -> None:
    add(backend, program("p1"), program("p2"))
    with backend.uow() as uow:
        stored = uow.programs.get("p1", lock=True)
        assert stored is not None
        saved = uow.programs.save(stored.publish(NOW + timedelta(hours=1)))
        uow.commit()
    assert saved.version == stored.version + 1
    with backend.uow() as uow:
        assert utc(uow.programs.get("p1")) == utc(saved)
        stale = failure(lambda: uow.programs.save(replace(stored, member_company_count=5)))
        assert (stale.code, stale.reason) == (grpc.StatusCode.ABORTED, "CONCURRENT_UPDATE")
    with backend.uow() as uow:
        uow.programs.save(program("p2").delete(NOW))
        uow.commit()
    with backend.uow() as uow:
        assert list(uow.programs.get_many(["p1", "p2"])) == ["p1"]
        assert uow.page_title("p2") is None
        assert uow.programs.get("p2") is not None  # still there for the use cases to say NOT_FOUND


def check_program_queries_filter_and_window(backend: Backend) -> None:
    published = ProgramState.PUBLISHED
    rows = [
        program(
            "a", "alpha OEM", state=published, published_at=NOW, country_codes=("DE", "FR"), industries=("health",)
        ),
        program("b", "Bravo Market", state=published, published_at=NOW + timedelta(hours=2), country_codes=("US",)),
        program(
            "c",
            "charlie 100% Referral",
            state=published,
            program_type=ProgramType.REFERRAL,
            published_at=NOW + timedelta(hours=1),
            industries=("fintech",),
            vendor_company="companies/msft",
        ),
        program("d", "Delta Draft", orphaned_at=NOW),
        program("e", "Echo Gone", state=published, published_at=NOW, deleted_at=NOW, orphaned_at=NOW),
    ]
    rows[1] = replace(rows[1], updated_at=NOW + timedelta(hours=3))
    add(backend, *rows)
    with backend.uow() as uow:  # kc-mia is a member of b (published) and d (a draft)
        for page_id, role in (("b", PageRole.ADMIN), ("d", PageRole.OWNER)):
            uow.members.add(Member(page_id, "kc-mia", role, "", "Mia", "mia@example.com", NOW, NOW))
        uow.commit()

    def ids(window: ListWindow | None = None, **values: Any) -> list[str]:
        with backend.uow() as uow:
            return [p.id for p in uow.programs.list_after(window or ListWindow(size=10), ProgramQuery(**values)).pages]

    def count(**values: Any) -> int:
        with backend.uow() as uow:
            return uow.programs.list_after(ListWindow(size=1), ProgramQuery(**values)).total

    assert ids() == ["a", "b", "c"]  # published, live, by lower-cased name
    assert ids(country_codes=("FR", "US")) == ["a", "b"]
    assert ids(industries=("fintech",), types=(ProgramType.REFERRAL,)) == ["c"]
    assert ids(text="100%") == ["c"] and ids(text="10_%") == []  # wildcards are literal
    assert ids(text="MARKET") == ["b"] and ids(vendor_company="companies/msft") == ["c"]
    assert ids(order_by="publish_time desc") == ["b", "c", "a"]
    assert ids(order_by="update_time desc") == ["b", "c", "a"]  # a tie goes by id, the same way
    assert count() == 3 and count(states=(ProgramState.DRAFT,), see_all=True) == 1 and count(text="zulu") == 0
    drafts = (ProgramState.DRAFT,)
    assert ids(states=drafts) == [] and ids(states=drafts, viewer="kc-mia") == ["d"]
    assert ids(states=drafts, viewer="kc-ivan") == []
    assert ids(states=drafts, see_all=True) == ["d"]
    assert ids(states=(*drafts, published), see_all=True, orphaned=True) == ["d"] and ids(orphaned=True) == []
    assert ids(only_member_of=True) == [] and ids(only_member_of=True, viewer="kc-mia") == ["b"]
    with backend.uow() as uow:  # the viewer's role on each listed program, and the total of all it finds
        listed = uow.programs.list_after(ListWindow(size=1), ProgramQuery(viewer="kc-mia"))
        assert [(s.page.id, s.role) for s in listed.seen] == [("a", None), ("b", PageRole.ADMIN)]
        assert listed.total == 3
        past_the_end = uow.programs.list_after(
            ListWindow(size=1, after=position(utc(listed.pages[1]), "display_name")), ProgramQuery()
        )
        assert (past_the_end.pages[0].id, past_the_end.total) == ("c", 3)  # the total counts from the start
    for order in ("display_name", "publish_time desc", "update_time desc"):
        expected = ids(order_by=order)
        with backend.uow() as uow:
            first = uow.programs.list_after(ListWindow(size=1), ProgramQuery(order_by=order)).pages
        assert [p.id for p in first] == expected[:2]  # size + 1: the extra one tells there is more
        after = ListWindow(size=5, after=position(utc(first[0]), order))
        assert ids(after, order_by=order) == expected[1:], order


def check_the_orphan_mark_is_written_once_with_its_event_and_cleared(backend: Backend) -> None:
    add(backend, program("p1"), program("p2", deleted_at=NOW))
    later = NOW + timedelta(days=1)

    def marked() -> None:
        with backend.uow() as uow:
            stored = uow.programs.get("p1")
            assert stored is not None and utc(stored).orphaned_at == utc(stored).updated_at == later
            assert stored.version == 2
            assert [
                p.id
                for p in uow.programs.list_after(
                    ListWindow(10), ProgramQuery(orphaned=True, see_all=True, states=(ProgramState.DRAFT,))
                ).pages
            ] == ["p1"]
        assert backend.events() == 1  # ProgramUpdated with `orphan_time` (its payload: test_event_publisher.py)

    check_orphan_mark(backend.uow, "p1", "p2", later, marked)
    assert backend.events() == 2


def check_a_program_is_read_for_its_viewer_with_role_in_one_go(backend: Backend) -> None:
    add(backend, program("p1"), program("p2").delete(NOW))
    check_page_for_viewer(backend.uow, lambda u: u.programs, "p1", "p2", unlocks=False)


def check_applications_round_trip_and_one_open_per_company(backend: Backend) -> None:
    first = application(
        "a1",
        message="we integrate",
        applicant="users/u-1",
        applicant_email="ann@example.com",
        applicant_name="Ann",
        company_display_name="Acme",
        idempotency_key="k1",
    )
    add(backend, first)
    with backend.uow() as uow:
        assert utc(uow.applications.get("a1")) == first
        assert uow.applications.get("missing") is None
        assert uow.applications.find_by_request("kc-ann", "k1") == uow.applications.get("a1")
        assert uow.applications.find_by_request("kc-bob", "k1") is None
        assert uow.applications.open_for("p1", "c-acme") == uow.applications.get("a1")
        assert uow.applications.open_for("p1", "c-other") is None
    for twin in (application("a2"), application("a3", "p2", "c-other", idempotency_key="k1")):
        with pytest.raises(DuplicateRecord), backend.uow() as uow:
            uow.applications.add(twin)
            uow.commit()
    decided = first.withdraw("kc-ann", NOW + timedelta(hours=1))
    with backend.uow() as uow:
        uow.applications.save_state(decided)
        uow.commit()
    add(backend, application("a2"))  # a withdrawn application is no longer open
    with backend.uow() as uow:
        assert utc(uow.applications.get("a1")) == decided
        assert [a.id for a in uow.applications.pending_of("p1")] == ["a2"]
        assert uow.applications.open_for("p1", "c-acme").id == "a2"  # type: ignore[union-attr]


def check_application_windows_are_newest_first(backend: Backend) -> None:
    add(
        backend,
        application("a1"),
        application("a2", company_id="c-2", state=ApplicationState.REJECTED),
        application("a3", "p2"),
        application("a4", company_id="c-4"),
    )

    def ids(window: ListWindow = ListWindow(size=10), **filters: Any) -> list[str]:  # noqa: B008
        with backend.uow() as uow:
            return [a.id for a in uow.applications.list_after(window, **filters)]

    assert ids() == ["a4", "a3", "a2", "a1"]
    assert ids(program_id="p1") == ["a4", "a2", "a1"] and ids(company_id="c-acme") == ["a3", "a1"]
    assert ids(program_id="p1", state=ApplicationState.REJECTED) == ["a2"]
    assert ids(ListWindow(size=1)) == ["a4", "a3"] and ids(ListWindow(size=1, after=("a3",))) == ["a2", "a1"]


def check_a_unit_of_work_commits_all_or_nothing(backend: Backend) -> None:
    owner = Member("p1", "kc-olga", PageRole.OWNER, "", "Olga", "olga@example.com", NOW, NOW)
    with backend.uow() as uow:
        uow.programs.add(program("p1"))
        uow.members.add(owner)
        uow.events.program_created(program("p1"), "kc-olga")
        uow.events.member_added(owner, None)
        # Not committed: everything is dropped, the events with the rows.
    with backend.uow() as uow:
        assert uow.programs.get("p1") is None and uow.members.get("p1", "kc-olga") is None
    assert backend.events() == 0
    with backend.uow() as uow:
        uow.programs.add(program("p1"))
        uow.members.add(owner)
        uow.events.program_created(program("p1"), "kc-olga")
        uow.membership_events.member_added(owner, None)
        uow.commit()
    with backend.uow() as uow:
        assert uow.programs.get("p1") is not None and uow.members.owner_count("p1") == 1
    assert backend.events() == 2


CONTRACT = [
    check_programs_round_trip_and_their_unique_keys,
    check_saves_are_versioned_and_deleted_programs_are_gone_from_reads,
    check_program_queries_filter_and_window,
    check_the_orphan_mark_is_written_once_with_its_event_and_cleared,
    check_a_program_is_read_for_its_viewer_with_role_in_one_go,
    check_applications_round_trip_and_one_open_per_company,
    check_application_windows_are_newest_first,
    check_a_unit_of_work_commits_all_or_nothing,
]


def _name(check: Callable[[Backend], None]) -> str:
    return check.__name__.removeprefix("check_")


def test_the_fake_honours_the_protocol() -> None:
    uow: ProgramUnitOfWork = FakeProgramUnitOfWork(MemoryStore())  # mypy checks the structural match
    assert uow is not None


@pytest.mark.parametrize("check", CONTRACT, ids=_name)
def test_on_memory(check: Callable[[Backend], None]) -> None:
    check(memory_backend())


@pytest.mark.parametrize("check", CONTRACT, ids=_name)
def test_on_sql(check: Callable[[Backend], None], each_database: tuple[str, str]) -> None:
    with sql_backend(*each_database) as backend:
        check(backend)
