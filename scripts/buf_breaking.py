"""`buf breaking` for our protos against another git revision.

The buf schema registry is out of reach, so the revision's protos are exported from git into a
temporary workspace (with the same google/* imports from build/third_party) and buf compares the
working tree with it. Default revision: `main`; on main itself, its previous commit, so every
commit that lands on main must be wire- and JSON-compatible with the one before. Then
scripts/contract_changes.py compares what buf does not see, the access policy and HTTP bindings of
every RPC, against the same revision: each change needs a reviewed entry in protos/contract-changes.yaml.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUF = ROOT / "node_modules" / ".bin" / "buf"


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=False)  # noqa: S603, S607


def default_against() -> str | None:
    head, main = _git("rev-parse", "HEAD"), _git("rev-parse", "--verify", "-q", "main")
    if main.returncode != 0:
        return None
    if head.stdout == main.stdout:
        parent = _git("rev-parse", "--verify", "-q", "HEAD~1")
        return "HEAD~1" if parent.returncode == 0 else None
    return "main"


def export_revision(revision: str, target: Path) -> bool:
    """Write `revision`'s buf.yaml and protos/ into `target`; False when it has none."""
    archive = _git("archive", "--format=tar", revision, "buf.yaml", "protos")
    if archive.returncode != 0:
        return False
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    shutil.copytree(ROOT / "build" / "third_party", target / "build" / "third_party")
    return True


def breaking(against: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our pinned buf binary
        [str(BUF), "breaking", "--against", str(against)], cwd=ROOT, capture_output=True, text=True, check=False
    )


def contract_changes(against: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(ROOT / "scripts" / "contract_changes.py"), str(against)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def main() -> int:
    revision = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else default_against()
    if revision is None:
        print("buf breaking: no earlier revision to compare with")
        return 0
    with tempfile.TemporaryDirectory() as temp:
        if not export_revision(revision, Path(temp)):
            print(f"buf breaking: {revision} has no protos yet")
            return 0
        result = breaking(Path(temp))
        contract = contract_changes(Path(temp))
    print(result.stdout + result.stderr, end="")
    print(f"buf breaking against {revision}: {'OK' if result.returncode == 0 else 'BREAKING CHANGES'}")
    print(contract.stdout + contract.stderr, end="")
    return result.returncode or contract.returncode


if __name__ == "__main__":
    sys.exit(main())
