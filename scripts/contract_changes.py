"""Access policies and HTTP bindings, RPC by RPC, against another revision: each change needs a reviewed entry.

`buf breaking` checks that the protos stay wire- and JSON-compatible, but custom options escape it: an RPC
that turns PUBLIC, loses a role or moves to another HTTP path compiles and breaks nothing buf knows of. This
script builds a descriptor set of each buf workspace (`buf build --as-file-descriptor-set`), reads every
RPC's access policy (devinsider.common.v1.access) and google.api.http bindings as the edge reads them
(devinsider_gateway.descriptors), and fails on any change to an RPC of the base (its policy or bindings
changed, added or dropped, or the RPC removed) that protos/contract-changes.yaml does not list exactly:
rpc, what, old and new as printed here, with a reason and a reviewer. A new RPC is no change (its policy is
reviewed with the code that serves it). Entries matching no change are reported as stale, not fatal: the
change has landed on the base (remove the entry) or the entry is mistyped (the change then fails).

    .venv/bin/python scripts/contract_changes.py BASE_WORKSPACE [HEAD_WORKSPACE] [--allow-list FILE]

`make breaking` runs it (scripts/buf_breaking.py) with the base revision's protos and the checkout.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devinsider_gateway import descriptors

ROOT = Path(__file__).resolve().parent.parent
BUF = ROOT / "node_modules" / ".bin" / "buf"
ALLOW_LIST = ROOT / "protos" / "contract-changes.yaml"
# What is compared per RPC; `rpc`: the RPC itself is gone (old: its policy and bindings).
ASPECTS = ("access", "http")
WHATS = (*ASPECTS, "rpc")
REMOVED = "removed"
ENTRY_KEYS = {"rpc", "what", "old", "new", "reason", "reviewed_by"}


class AllowListError(ValueError):
    """The allow-list file is not a list of complete entries."""


@dataclass(frozen=True)
class Change:
    rpc: str  # full method name: devinsider.user.v1.UserService.GetMe
    what: str  # access, http or rpc
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.rpc}: {self.what} {self.old!r} -> {self.new!r}"


@dataclass(frozen=True)
class Entry:
    change: Change
    reason: str
    reviewed_by: str


@dataclass(frozen=True)
class Report:
    unreviewed: list[Change]
    reviewed: list[Entry]
    stale: list[Entry]

    @property
    def ok(self) -> bool:
        return not self.unreviewed


def build(workspace: Path, out: Path) -> Path:
    """The workspace's protos, with their imports, as a FileDescriptorSet (buf's own compiler)."""
    result = subprocess.run(  # noqa: S603 - our pinned buf binary
        [str(BUF), "build", str(workspace), "--as-file-descriptor-set", "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"buf build {workspace} failed:\n{result.stdout}{result.stderr}")
    return out


def _access(method: descriptors.Method) -> str:
    return f"{method.audience} [{', '.join(method.roles)}]" if method.roles else method.audience


def _binding(binding: descriptors.Binding) -> str:
    text = f"{binding.verb.upper()} {binding.path}"
    text += f" body={binding.body}" if binding.body else ""
    return text + (f" response_body={binding.response_body}" if binding.response_body else "")


def contract(descriptor_set: Path) -> dict[str, dict[str, str]]:
    """Full method name -> {access: `ROLES [admin]`, http: `GET /v1/users/me + POST /v1/x body=*` or `none`}."""
    api = descriptors.load(descriptor_set)
    return {
        f"{method.service}.{method.name}": {
            "access": _access(method),
            "http": " + ".join(_binding(b) for b in method.bindings) or "none",
        }
        for methods in api.services.values()
        for method in methods
    }


def changes(base: dict[str, dict[str, str]], head: dict[str, dict[str, str]]) -> list[Change]:
    found: list[Change] = []
    for rpc, before in sorted(base.items()):
        after = head.get(rpc)
        if after is None:
            found.append(Change(rpc, "rpc", "; ".join(f"{a} {before[a]}" for a in ASPECTS), REMOVED))
            continue
        found += [Change(rpc, a, before[a], after[a]) for a in ASPECTS if before[a] != after[a]]
    return found


def load_allow_list(path: Path) -> list[Entry]:
    """The reviewed changes of `path` (`changes:` a list of entries); a missing file has none."""
    if not path.is_file():
        return []
    document: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = document.get("changes") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise AllowListError(f"{path}: expected a mapping with a `changes:` list (`changes: []` when empty)")
    entries = []
    for number, item in enumerate(items, start=1):
        keys = set(item) if isinstance(item, dict) else set()
        if keys != ENTRY_KEYS:
            raise AllowListError(
                f"{path}: entry {number} needs exactly the keys {', '.join(sorted(ENTRY_KEYS))}"
                f" (missing: {', '.join(sorted(ENTRY_KEYS - keys)) or '-'};"
                f" unknown: {', '.join(sorted(keys - ENTRY_KEYS)) or '-'})"
            )
        empty = sorted(k for k in ENTRY_KEYS if not isinstance(item[k], str) or not item[k].strip())
        if empty:
            raise AllowListError(f"{path}: entry {number} ({item['rpc']}): {', '.join(empty)} must be non-empty text")
        if item["what"] not in WHATS:
            raise AllowListError(f"{path}: entry {number} ({item['rpc']}): `what` is one of {', '.join(WHATS)}")
        change = Change(item["rpc"], item["what"], item["old"], item["new"])
        entries.append(Entry(change, item["reason"], item["reviewed_by"]))
    return entries


def review(found: list[Change], entries: list[Entry]) -> Report:
    """Each change with the entry that lists it exactly; the changes without one, and the entries left over."""
    listed = {entry.change: entry for entry in entries}
    reviewed = [listed[change] for change in found if change in listed]
    return Report(
        unreviewed=[change for change in found if change not in listed],
        reviewed=reviewed,
        stale=[entry for entry in entries if entry not in reviewed],
    )


def entry_yaml(change: Change) -> str:
    """What to add to the allow-list for `change`, once reviewed."""
    fields = {"rpc": change.rpc, "what": change.what, "old": change.old, "new": change.new}
    fields |= {"reason": "WHY", "reviewed_by": "WHO"}
    return yaml.safe_dump([fields], sort_keys=False, width=1000)


def compare(base: Path, head: Path, allow_list: Path = ALLOW_LIST) -> Report:
    """Builds both workspaces and reviews their differences against `allow_list`."""
    with tempfile.TemporaryDirectory(prefix="devinsider-contract-") as temp:
        before = contract(build(base, Path(temp) / "base.binpb"))
        after = contract(build(head, Path(temp) / "head.binpb"))
    return review(changes(before, after), load_allow_list(allow_list))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", type=Path, help="the buf workspace of the base revision")
    parser.add_argument("head", type=Path, nargs="?", default=ROOT, help="the buf workspace checked (default: here)")
    parser.add_argument("--allow-list", type=Path, default=ALLOW_LIST)
    args = parser.parse_args(argv)
    try:
        report = compare(args.base, args.head, args.allow_list)
    except (AllowListError, RuntimeError) as error:
        print(f"contract changes: {error}", file=sys.stderr)
        return 2
    for entry in report.reviewed:
        print(f"reviewed by {entry.reviewed_by}: {entry.change}")
    for entry in report.stale:
        print(f"stale entry of {args.allow_list.name} (no such change; remove it once landed): {entry.change}")
    for change in report.unreviewed:
        print(f"UNREVIEWED {change}")
    if report.unreviewed:
        print(f"\nOnce reviewed, list them in {args.allow_list}:")
        print("".join(entry_yaml(change) for change in report.unreviewed), end="")
    print(f"access policies and HTTP bindings: {'OK' if report.ok else 'UNREVIEWED CHANGES'}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
