"""scripts/swagger_ui.py: the edge image's /docs assets are exactly the locked npm package, or nothing."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

from .suite import load_script


@pytest.fixture(scope="module")
def swagger_ui() -> ModuleType:
    return load_script("swagger_ui")


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _lock(tmp_path: Path, data: bytes) -> Path:
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    entry = {"version": "9.9.9", "integrity": f"sha512-{digest}"}
    lock = tmp_path / "package-lock.json"
    lock.write_text(json.dumps({"packages": {"node_modules/swagger-ui-dist": entry}}))
    return lock


def test_the_lock_names_the_version_of_package_json(swagger_ui: ModuleType) -> None:
    version, digest = swagger_ui.locked()
    package = json.loads((Path(swagger_ui.ROOT) / "package.json").read_text())
    assert package["devDependencies"]["swagger-ui-dist"] == version
    assert len(base64.b64decode(digest)) == 64  # a sha512


def test_the_locked_tarball_is_unpacked_from_a_local_folder(swagger_ui: ModuleType, tmp_path: Path) -> None:
    data = _tarball({"package/index.js": b"ok", "package/dist/x.css": b"css", "other/ignored": b"no"})
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "swagger-ui-dist-9.9.9.tgz").write_bytes(data)
    swagger_ui.extract(tmp_path / "wheels", tmp_path / "out", _lock(tmp_path, data))
    assert sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file()) == [
        "dist/x.css",
        "index.js",
    ]


def test_a_tarball_that_is_not_the_locked_one_is_refused(swagger_ui: ModuleType, tmp_path: Path) -> None:
    lock = _lock(tmp_path, _tarball({"package/index.js": b"ok"}))
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "swagger-ui-dist-9.9.9.tgz").write_bytes(_tarball({"package/index.js": b"tampered"}))
    with pytest.raises(SystemExit, match=r"does not match package-lock\.json"):
        swagger_ui.extract(tmp_path / "wheels", tmp_path / "out", lock)
    assert not (tmp_path / "out").exists()


def test_a_path_escaping_the_package_is_refused(swagger_ui: ModuleType, tmp_path: Path) -> None:
    data = _tarball({"package/../../escaped": b"x"})
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "swagger-ui-dist-9.9.9.tgz").write_bytes(data)
    with pytest.raises(SystemExit, match="refusing the path"):
        swagger_ui.extract(tmp_path / "wheels", tmp_path / "out", _lock(tmp_path, data))
    assert not (tmp_path / "escaped").exists()
