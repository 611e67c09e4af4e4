"""The review of access policies and HTTP bindings in `make breaking` (scripts/contract_changes.py): descriptor
sets built by buf from a copy of our protos (the base) and an edited copy (the head)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

USER_PROTO = Path("protos/devinsider/user/v1/user.proto")
GET_ME = "devinsider.user.v1.UserService.GetMe"
AUTHENTICATED = "option (devinsider.common.v1.access) = {audience: AUDIENCE_AUTHENTICATED};"
ADMINS = "option (devinsider.common.v1.access) = {\n      audience: AUDIENCE_ROLES\n      roles: ROLE_ADMIN\n    };"


@pytest.fixture
def head(buf_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the base workspace (`buf_workspace`) for a test to edit: the change under review."""
    target = tmp_path_factory.mktemp("head")
    shutil.copytree(buf_workspace, target, dirs_exist_ok=True)
    return target


def _edit(workspace: Path, old: str, new: str, pattern: bool = False) -> None:
    """Replaces the first `old` of the user proto (a regular expression with `pattern`)."""
    proto = workspace / USER_PROTO
    text = proto.read_text(encoding="utf-8")
    edited = re.sub(old, new, text, count=1, flags=re.DOTALL) if pattern else text.replace(old, new, 1)
    assert edited != text, f"{old!r} is not in {USER_PROTO}"
    proto.write_text(edited, encoding="utf-8")


def _allow_list(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"changes": entries}, sort_keys=False), encoding="utf-8")
    return path


def _entry(old: str = "AUTHENTICATED", new: str = "ROLES [admin]") -> dict[str, str]:
    return {"rpc": GET_ME, "what": "access", "old": old, "new": new, "reason": "admins only", "reviewed_by": "lead"}


def _contract(module: ModuleType, workspace: Path) -> dict[str, dict[str, str]]:
    contract: dict[str, dict[str, str]] = module.contract(module.build(workspace, workspace / "set.binpb"))
    return contract


def test_a_changed_access_policy_fails_unless_an_entry_lists_it_exactly(
    contract_changes: ModuleType, buf_workspace: Path, head: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(head, AUTHENTICATED, ADMINS)
    base = str(buf_workspace)
    nothing = _allow_list(tmp_path / "none.yaml", [])
    assert contract_changes.main([base, str(head), "--allow-list", str(nothing)]) == 1
    output = capsys.readouterr().out
    assert f"UNREVIEWED {GET_ME}: access 'AUTHENTICATED' -> 'ROLES [admin]'" in output
    assert "reviewed_by: WHO" in output  # the entry to add, once reviewed

    exact = _allow_list(tmp_path / "exact.yaml", [_entry()])
    assert contract_changes.main([base, str(head), "--allow-list", str(exact)]) == 0
    assert f"reviewed by lead: {GET_ME}: access" in capsys.readouterr().out

    # An entry for another change does not cover this one, and is itself reported.
    other = _allow_list(tmp_path / "other.yaml", [_entry(new="ROLES [isv]")])
    assert contract_changes.main([base, str(head), "--allow-list", str(other)]) == 1
    output = capsys.readouterr().out
    assert "UNREVIEWED" in output and "stale entry of other.yaml (no such change; remove it once landed)" in output


def test_bindings_changed_and_rpcs_removed_are_changes_new_rpcs_are_not(
    contract_changes: ModuleType, buf_workspace: Path, head: Path
) -> None:
    _edit(head, 'get: "/v1/users/me"', 'get: "/v1/me"')
    _edit(head, r"\n  // Updates the caller's own profile;.*?\n  rpc UpdateMe\(.*?\n  }\n", "\n", pattern=True)
    new_rpc = "  rpc PurgeUser(GetMeRequest) returns (User) {\n    " + ADMINS + "\n  }\n"
    _edit(head, "service UserService {\n", "service UserService {\n" + new_rpc)
    found = contract_changes.changes(_contract(contract_changes, buf_workspace), _contract(contract_changes, head))
    change = contract_changes.Change
    assert found == [
        change(GET_ME, "http", "GET /v1/users/me", "GET /v1/me"),
        change(
            "devinsider.user.v1.UserService.UpdateMe",
            "rpc",
            "access AUTHENTICATED; http PATCH /v1/users/me body=user",
            "removed",
        ),
    ]


def test_stale_entries_are_reported_without_failing(
    contract_changes: ModuleType, buf_workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    allow_list = _allow_list(tmp_path / "landed.yaml", [_entry()])
    assert contract_changes.main([str(buf_workspace), str(buf_workspace), "--allow-list", str(allow_list)]) == 0
    assert f"stale entry of landed.yaml (no such change; remove it once landed): {GET_ME}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{k: v for k, v in _entry().items() if k != "reviewed_by"}], "missing: reviewed_by"),
        ([_entry() | {"reason": " "}], "reason must be non-empty text"),
        ([_entry() | {"what": "policy"}], "`what` is one of access, http, rpc"),
        ({"oops": 1}, "expected a mapping with a `changes:` list"),
    ],
)
def test_an_incomplete_allow_list_is_refused_with_the_reason(
    contract_changes: ModuleType, tmp_path: Path, entries: Any, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(entries if isinstance(entries, dict) else {"changes": entries}), encoding="utf-8")
    with pytest.raises(contract_changes.AllowListError, match=re.escape(message)):
        contract_changes.load_allow_list(path)


def test_the_allow_list_of_the_repository_is_well_formed(contract_changes: ModuleType) -> None:
    assert contract_changes.ALLOW_LIST.is_file()
    for entry in contract_changes.load_allow_list(contract_changes.ALLOW_LIST):
        assert entry.change.what in contract_changes.WHATS
