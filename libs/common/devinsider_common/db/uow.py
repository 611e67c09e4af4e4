"""Unit of work over one SQLAlchemy connection and transaction (cosmicpython's pattern, Core style).

A service subclasses it to attach its repositories in `_open_repositories`. Everything done
through the unit of work, outbox rows included, commits or rolls back together.

A violated constraint leaves the unit of work as `DuplicateRecord` (a unique key) or
`ConstraintViolation` (`devinsider_common.unit_of_work`): raised by the commit, or by the `with`
block's exit for a statement inside it (inside the block the statement still raises SQLAlchemy's
`IntegrityError`, which only an adapter may catch), so use cases never see SQLAlchemy's errors.

A read-only unit of work (`read_only=True`, for the use cases that only read) runs each statement in
autocommit mode: no BEGIN and no ROLLBACK around it, so a read that is one statement is one round trip
to the database. Its statements see what was committed when each started, as they would in a READ
COMMITTED transaction; it cannot commit.

Losing the database (a restart, a network cut) is `errors.Unavailable` (gRPC UNAVAILABLE: retry)
wherever it happens: opening the unit of work, in the middle of its statements, or at the commit;
never an unexpected error that the interceptor would turn into INTERNAL.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from devinsider_common import errors
from devinsider_common.unit_of_work import ConstraintViolation, DuplicateRecord


def _database_lost(error: BaseException | None) -> bool:
    """True for an error that says the connection or the server went away (or another transient
    operational failure), as opposed to a bad statement or a violated constraint."""
    return isinstance(error, DBAPIError) and (error.connection_invalidated or isinstance(error, OperationalError))


def _violation(error: IntegrityError) -> ConstraintViolation:
    """The store-neutral error for a constraint the database enforced (PostgreSQL's SQLSTATE 23505
    and SQLite's message both say "unique")."""
    unique = getattr(error.orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(error.orig)
    return (DuplicateRecord if unique else ConstraintViolation)(str(error.orig))


class SqlUnitOfWork:
    def __init__(self, engine: Engine, read_only: bool = False) -> None:
        self._engine = engine
        self.read_only = read_only
        self._connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open: use it in a `with` block")
        return self._connection

    def __enter__(self) -> Self:
        try:
            self._connection = self._engine.connect()
            if self.read_only:
                self._connection.execution_options(isolation_level="AUTOCOMMIT")
            else:
                self._connection.begin()
        except OperationalError as error:
            raise errors.Unavailable("the database cannot be reached; retry shortly") from error
        self._open_repositories(self._connection)
        return self

    def _open_repositories(self, connection: Connection) -> None:
        """Hook: build the service's repositories on `connection`."""

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        try:
            self.connection.commit()
        except DBAPIError as error:
            self._end_failed_commit()
            if isinstance(error, IntegrityError):  # a deferred constraint, checked at the commit
                raise _violation(error) from error
            if _database_lost(error):
                raise errors.Unavailable("the database went away during the commit; retry") from error
            raise

    def _end_failed_commit(self) -> None:
        """A failed COMMIT ends the transaction on PostgreSQL, but SQLite keeps it open with its
        writes (a deferred foreign key, a busy database), and SQLAlchemy then returns the connection
        to the pool as it is: the next unit of work would see those writes and fail its own commit.
        Roll the driver's connection back (or drop it when that fails too)."""
        connection = self.connection
        try:
            dbapi_connection = connection.connection.dbapi_connection
            if dbapi_connection is not None:
                dbapi_connection.rollback()
        except Exception:
            connection.invalidate()

    def rollback(self) -> None:
        self.connection.rollback()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if connection.in_transaction():
                connection.rollback()
        except DBAPIError as error:
            if not (_database_lost(error) or _database_lost(exc)):
                raise
            exc = exc or error  # the connection is gone, and the transaction with it
        finally:
            connection.close()
        if _database_lost(exc):
            raise errors.Unavailable("the database connection was lost; retry shortly") from exc
        if isinstance(exc, IntegrityError):
            raise _violation(exc) from exc
