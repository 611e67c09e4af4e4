"""`buf breaking` as CI runs it (scripts/buf_breaking.py): it passes on the same protos and
catches a removed RPC and a renumbered field."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

USER_PROTO = Path("protos/devinsider/user/v1/user.proto")


def test_identical_protos_are_compatible(buf_breaking: ModuleType, buf_workspace: Path) -> None:
    result = buf_breaking.breaking(buf_workspace)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_removed_rpc_is_breaking(buf_breaking: ModuleType, buf_workspace: Path) -> None:
    proto = buf_workspace / USER_PROTO
    extra = "  rpc PurgeUser(GetUserRequest) returns (User) {\n" + (
        "    option (devinsider.common.v1.access) = {audience: AUDIENCE_SERVICE};\n  }\n"
    )
    text = proto.read_text()
    marker = "service UserService {\n"
    proto.write_text(text.replace(marker, marker + extra, 1))
    result = buf_breaking.breaking(buf_workspace)
    assert result.returncode != 0 and "PurgeUser" in result.stdout + result.stderr


def test_a_renumbered_field_is_breaking(buf_breaking: ModuleType, buf_workspace: Path) -> None:
    proto = buf_workspace / USER_PROTO
    proto.write_text(proto.read_text().replace("string job_title = 6;", "string job_title = 60;", 1))
    result = buf_breaking.breaking(buf_workspace)
    assert result.returncode != 0 and "job_title" in result.stdout + result.stderr
