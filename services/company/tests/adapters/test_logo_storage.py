"""Logo bytes on the local disk: atomic writes, safe keys only, a missing file is None."""

from __future__ import annotations

from pathlib import Path

import pytest

from company_service.adapters.logo_storage import LocalDiskLogoStorage


def test_put_get_delete(tmp_path: Path) -> None:
    storage = LocalDiskLogoStorage(tmp_path / "logos")
    storage.put("c1/a.png", b"one")
    storage.put("c1/a.png", b"two")  # replaced whole
    assert storage.get("c1/a.png") == b"two"
    assert [p.name for p in (tmp_path / "logos" / "c1").iterdir()] == ["a.png"]  # no temporary file left
    storage.delete("c1/a.png")
    storage.delete("c1/a.png")  # already gone: nothing to do
    assert storage.get("c1/a.png") is None


@pytest.mark.parametrize("key", ["../etc/passwd", "c1/../../x", "/abs", "c1/a/b.png", ""])
def test_unsafe_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="unsafe storage key"):
        LocalDiskLogoStorage(tmp_path).get(key)


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = LocalDiskLogoStorage(tmp_path)

    def refuse(source: str, target: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("company_service.adapters.logo_storage.os.replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        storage.put("c1/a.png", b"data")
    assert list((tmp_path / "c1").iterdir()) == []
