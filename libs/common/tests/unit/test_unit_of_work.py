"""`create_once`: the one "create, or return the twin a concurrent writer stored" of every service."""

from __future__ import annotations

import pytest

from devinsider_common import errors
from devinsider_common.unit_of_work import ConstraintViolation, DuplicateRecord, create_once, never


class Calls:
    """Records which of `write` / `find_twin` / `lost` ran, in order."""

    def __init__(self) -> None:
        self.log: list[str] = []

    def write(self, outcome: object) -> object:
        self.log.append("write")
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def find_twin(self, twin: object) -> object:
        self.log.append("find_twin")
        return twin


def test_the_write_wins_and_its_result_is_returned_without_looking_for_a_twin() -> None:
    calls = Calls()
    assert create_once(lambda: calls.write("stored"), lambda: calls.find_twin("twin")) == "stored"
    assert calls.log == ["write"]


def test_a_duplicate_returns_the_twin_read_after_the_failed_write() -> None:
    calls = Calls()
    found = create_once(lambda: calls.write(DuplicateRecord("uq")), lambda: calls.find_twin("twin"))
    assert found == "twin"
    assert calls.log == ["write", "find_twin"]


def test_a_duplicate_without_a_twin_raises_what_lost_makes_of_it_chained() -> None:
    duplicate = DuplicateRecord("uq_one_page_per_user")
    seen: list[DuplicateRecord] = []

    def lost(error: DuplicateRecord) -> Exception:
        seen.append(error)
        return errors.AlreadyExists("you already have a page", reason="PAGE_EXISTS")

    with pytest.raises(errors.AlreadyExists) as raised:
        create_once(lambda: Calls().write(duplicate), lambda: None, lost)
    assert raised.value.reason == "PAGE_EXISTS"
    assert seen == [duplicate]
    assert raised.value.__cause__ is duplicate


def test_a_duplicate_without_a_twin_nor_lost_is_raised_as_is() -> None:
    duplicate = DuplicateRecord("uq")
    with pytest.raises(DuplicateRecord) as raised:
        create_once(lambda: Calls().write(duplicate), never)
    assert raised.value is duplicate


def test_lost_is_not_called_when_a_twin_is_found() -> None:
    def lost(error: DuplicateRecord) -> Exception:
        raise AssertionError("lost called although a twin exists")

    assert create_once(lambda: Calls().write(DuplicateRecord("uq")), lambda: "twin", lost) == "twin"


def test_another_constraint_violation_is_not_caught_and_no_twin_is_looked_for() -> None:
    calls = Calls()
    violation = ConstraintViolation("ck_amount_positive")
    with pytest.raises(ConstraintViolation) as raised:
        create_once(
            lambda: calls.write(violation),
            lambda: calls.find_twin("twin"),
            lambda error: errors.AlreadyExists("lost"),
        )
    assert raised.value is violation and not isinstance(raised.value, DuplicateRecord)
    assert calls.log == ["write"]


def test_other_errors_of_the_write_pass_through() -> None:
    calls = Calls()
    with pytest.raises(errors.NotFound):
        create_once(lambda: calls.write(errors.NotFound("gone")), lambda: calls.find_twin("twin"))
    assert calls.log == ["write"]


def test_with_never_a_duplicate_is_always_lost() -> None:
    with pytest.raises(errors.AlreadyExists, match="taken"):
        create_once(lambda: Calls().write(DuplicateRecord("uq")), never, lambda e: errors.AlreadyExists("taken"))
