"""The SQL unit of work speaks the store-neutral errors of `devinsider_common.unit_of_work`: a unique
key met is DuplicateRecord, a CHECK, NOT NULL or foreign key broken is a ConstraintViolation that is
not one, whether a statement inside the block or the commit meets it; the transaction is rolled back
and SQLAlchemy's IntegrityError never reaches the service layer. On PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from devinsider_common.db.engine import create_service_engine
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.unit_of_work import ConstraintViolation, DuplicateRecord

metadata = sa.MetaData()
things = sa.Table(
    "things",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("amount", sa.Integer, sa.CheckConstraint("amount >= 0", name="ck_things_amount"), nullable=False),
)
# Checked at the commit, not at the statement (PostgreSQL and SQLite both defer foreign keys).
parts = sa.Table(
    "parts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "thing_id",
        sa.String(36),
        sa.ForeignKey("things.id", deferrable=True, initially="DEFERRED"),
        nullable=False,
    ),
)
FIRST = ("t1", "first", 1)


@pytest.fixture
def engine(each_database: tuple[str, str]) -> Iterator[Engine]:
    engine = create_service_engine(*each_database)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(sa.insert(things).values(id="t1", slug="first", amount=1))
    yield engine
    engine.dispose()


def _things(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(sa.select(things).order_by(things.c.id))]


def _insert(**values: object) -> sa.Insert:
    return sa.insert(things).values(**values)


# Each case: the statements of one transaction (the last one breaks a constraint) and the error.
BAD_WRITES: dict[str, tuple[list[sa.Executable], type[ConstraintViolation]]] = {
    "same primary key": ([_insert(id="t1", slug="other", amount=1)], DuplicateRecord),
    "same unique column": ([_insert(id="t2", slug="first", amount=1)], DuplicateRecord),
    "update into a twin": (
        [_insert(id="t2", slug="second", amount=2), sa.update(things).where(things.c.id == "t2").values(slug="first")],
        DuplicateRecord,
    ),
    "check constraint": ([_insert(id="t2", slug="second", amount=-1)], ConstraintViolation),
    "not null": ([_insert(id="t2", slug=None, amount=1)], ConstraintViolation),
}


@pytest.mark.parametrize("case", list(BAD_WRITES))
def test_a_statement_breaking_a_constraint_raises_the_neutral_error_and_writes_nothing(
    engine: Engine, case: str
) -> None:
    statements, expected = BAD_WRITES[case]
    reached_commit = False
    with pytest.raises(ConstraintViolation) as raised, SqlUnitOfWork(engine) as uow:
        uow.connection.execute(_insert(id="t0", slug="written-first", amount=5))  # rolled back with the rest
        for statement in statements:
            uow.connection.execute(statement)
        reached_commit = True
        uow.commit()
    assert not reached_commit  # raised at the statement, inside the block
    assert type(raised.value) is expected  # a CHECK / NOT NULL is never taken for a duplicate
    assert not isinstance(raised.value, IntegrityError)
    assert isinstance(raised.value.__cause__, IntegrityError)  # chained, for the logs
    assert _things(engine) == [FIRST]


def test_a_constraint_checked_at_the_commit_is_a_violation_too(engine: Engine) -> None:
    with pytest.raises(ConstraintViolation) as raised, SqlUnitOfWork(engine) as uow:
        uow.connection.execute(_insert(id="t2", slug="second", amount=2))
        uow.connection.execute(sa.insert(parts).values(id="p1", thing_id="missing"))  # deferred: passes here
        with pytest.raises(ConstraintViolation) as at_commit:
            uow.commit()
        raise at_commit.value
    assert not isinstance(raised.value, DuplicateRecord)
    assert isinstance(raised.value.__cause__, IntegrityError)
    assert _things(engine) == [FIRST]
    # SQLite keeps a transaction whose COMMIT failed open: none of it may reach the next unit of work
    # on the same pooled connection (it would see those rows and fail its own commit).
    with SqlUnitOfWork(engine) as uow:
        uow.connection.execute(_insert(id="t3", slug="third", amount=3))
        uow.commit()
    assert _things(engine) == [FIRST, ("t3", "third", 3)]
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(parts)).scalar() == 0


def test_the_next_unit_of_work_writes_after_a_violation_and_reads_the_twin(engine: Engine) -> None:
    """What `create_once` relies on: the failed transaction is gone, a fresh one sees the twin."""
    with pytest.raises(DuplicateRecord), SqlUnitOfWork(engine) as uow:
        uow.connection.execute(_insert(id="t9", slug="first", amount=1))
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.connection.execute(sa.select(things.c.id).where(things.c.slug == "first")).scalar() == "t1"
        uow.connection.execute(_insert(id="t2", slug="second", amount=2))
        uow.commit()
    assert _things(engine) == [FIRST, ("t2", "second", 2)]


def test_leaving_without_commit_rolls_back_and_commit_keeps(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.connection.execute(_insert(id="t2", slug="dropped", amount=2))
    assert _things(engine) == [FIRST]
    with SqlUnitOfWork(engine) as uow:
        uow.connection.execute(_insert(id="t2", slug="kept", amount=2))
        uow.commit()
    assert _things(engine) == [FIRST, ("t2", "kept", 2)]


def test_other_errors_pass_unchanged_and_roll_back(engine: Engine) -> None:
    with pytest.raises(KeyError), SqlUnitOfWork(engine) as uow:
        uow.connection.execute(_insert(id="t2", slug="second", amount=2))
        raise KeyError("not a database error")
    assert _things(engine) == [FIRST]


def test_the_connection_is_refused_outside_the_block(engine: Engine) -> None:
    uow = SqlUnitOfWork(engine)
    with pytest.raises(RuntimeError):
        uow.connection  # noqa: B018
    with uow:
        assert uow.connection is not None
    with pytest.raises(RuntimeError):
        uow.connection  # noqa: B018
