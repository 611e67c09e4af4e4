"""What a use case knows of its unit of work: a transaction it commits, and the one error a store
raises when a write meets a twin (a unique constraint).

This module imports no database library: the service layer depends on it, the SQL unit of work
(`devinsider_common.db.uow`) and the in-memory fakes of the tests implement it.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self, TypeVar

T = TypeVar("T")
UowT_co = TypeVar("UowT_co", covariant=True)


class ConstraintViolation(Exception):
    """A write broke a constraint of the store (a check, a foreign key, a unique key).

    Raised by a unit of work (out of its `with` block, or by its commit) instead of the driver's error, so
    the service layer decides what it means without importing SQLAlchemy. One that escapes a use
    case is a bug; the server interceptor reports it as INTERNAL like any other."""


class DuplicateRecord(ConstraintViolation):
    """A write met an existing row with the same unique key: a concurrent twin won."""


class UnitOfWork(Protocol):
    """One transaction: a `with` block that commits when told and rolls back otherwise."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class UnitOfWorkFactory(Protocol[UowT_co]):
    """Opens a unit of work. A use case that only reads asks for `read_only=True`: each statement then
    commits on its own (one round trip, no BEGIN or ROLLBACK), and the unit of work cannot commit."""

    def __call__(self, read_only: bool = False) -> UowT_co: ...


def create_once(
    write: Callable[[], T],
    find_twin: Callable[[], T | None],
    lost: Callable[[DuplicateRecord], Exception] | None = None,
) -> T:
    """Run `write`; when a concurrent twin wins a unique key, return the twin `find_twin` reads in a
    fresh unit of work (an idempotent retry), or raise `lost(error)` when there is none to return
    (the key was another rule's, such as "one page per user").

    `write` and `find_twin` each open their own unit of work: the failed transaction is gone when
    the twin is read.
    """
    try:
        return write()
    except DuplicateRecord as error:
        twin = find_twin()
        if twin is not None:
            return twin
        if lost is None:
            raise
        raise lost(error) from error


def never(_: object = None) -> None:
    """`find_twin` of a write that has no twin to return (a duplicate always means `lost`)."""
    return None
