"""The swagger-ui-dist assets of the edge's /docs page, for image builds that have no Node.js.

The version and its integrity (sha512) are package-lock.json's, so the edge image serves exactly the
assets `npm ci` installs for `make run` and the tests. The tarball is taken from a local folder when
it lies there (the offline image build: scripts/images.sh fetches it on the host), from the npm
registry otherwise, and refused unless its digest matches the lock.

    python scripts/swagger_ui.py fetch --to deploy/docker/wheelhouse
    python scripts/swagger_ui.py extract --from /wheelhouse --to /tmp/swagger-ui-dist
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import shutil
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK_FILE = ROOT / "package-lock.json"
PACKAGE = "swagger-ui-dist"
REGISTRY = "https://registry.npmjs.org"


def locked(lock_file: Path = LOCK_FILE) -> tuple[str, str]:
    """(version, sha512 digest) of the package in the npm lock."""
    entry = json.loads(lock_file.read_text(encoding="utf-8"))["packages"][f"node_modules/{PACKAGE}"]
    algorithm, _, digest = str(entry["integrity"]).partition("-")
    if algorithm != "sha512":
        raise SystemExit(f"{PACKAGE}: unsupported integrity {algorithm!r} in package-lock.json")
    return str(entry["version"]), digest


def tarball_name(version: str) -> str:
    return f"{PACKAGE}-{version}.tgz"


def verified(data: bytes, digest: str) -> bytes:
    if base64.b64encode(hashlib.sha512(data).digest()).decode() != digest:
        raise SystemExit(f"{PACKAGE}: the tarball's sha512 does not match package-lock.json")
    return data


def tarball(source: Path | None, lock_file: Path = LOCK_FILE) -> bytes:
    """The locked tarball: from `source` when it holds it, else downloaded; checked either way."""
    version, digest = locked(lock_file)
    name = tarball_name(version)
    if source is not None and (source / name).is_file():
        return verified((source / name).read_bytes(), digest)
    url = f"{REGISTRY}/{PACKAGE}/-/{name}"
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - a fixed https URL
        return verified(response.read(), digest)


def fetch(destination: Path) -> Path:
    version, _ = locked()
    destination.mkdir(parents=True, exist_ok=True)
    target = destination / tarball_name(version)
    target.write_bytes(tarball(destination))
    return target


def extract(source: Path | None, destination: Path, lock_file: Path = LOCK_FILE) -> None:
    """The package's files (the tarball's `package/` folder) into `destination`."""
    data = tarball(source, lock_file)
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile() or not member.name.startswith("package/"):
                continue
            relative = Path(member.name).relative_to("package")
            if ".." in relative.parts:
                raise SystemExit(f"{PACKAGE}: refusing the path {member.name!r}")
            handle = archive.extractfile(member)
            if handle is None:
                continue
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(handle.read())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_command = commands.add_parser("fetch", help="download the locked tarball into a folder")
    fetch_command.add_argument("--to", type=Path, required=True)
    extract_command = commands.add_parser("extract", help="unpack the locked assets into a folder")
    extract_command.add_argument("--from", dest="source", type=Path, help="a folder that may hold the tarball")
    extract_command.add_argument("--to", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "fetch":
        print(fetch(args.to))
    else:
        extract(args.source, args.to)


if __name__ == "__main__":
    main()
