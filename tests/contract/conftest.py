"""Fixtures of the contract tests: the generated descriptor set, the buf CLI, the generator script."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
from google.protobuf import descriptor_pb2

ROOT = Path(__file__).resolve().parents[2]
DESCRIPTOR_SET = ROOT / "gen" / "devinsider.binpb"
BUF = ROOT / "node_modules" / ".bin" / "buf"
GEN_SCRIPT = ROOT / "scripts" / "gen_protos.py"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture(scope="session")
def descriptor_set() -> descriptor_pb2.FileDescriptorSet:
    """The FileDescriptorSet that `scripts/gen_protos.py` writes (imports and source info included)."""
    if not DESCRIPTOR_SET.is_file():
        pytest.fail(f"{DESCRIPTOR_SET} is missing: run `make protos` first")
    return descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes())


@pytest.fixture(scope="session")
def devinsider_files(
    descriptor_set: descriptor_pb2.FileDescriptorSet,
) -> list[descriptor_pb2.FileDescriptorProto]:
    """Our own files of the set (package `devinsider.*`), without the google ones."""
    files = [f for f in descriptor_set.file if f.package.startswith("devinsider.")]
    assert files, "the descriptor set holds no devinsider file"
    return files


@pytest.fixture(scope="session")
def buf() -> Path:
    """The buf CLI installed from npm."""
    if not BUF.exists():
        pytest.fail(f"{BUF} is missing: run `npm ci` (or `make install`)")
    return BUF


def _load_script(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{path.stem}_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script runs
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def gen_module() -> ModuleType:
    """A private instance of scripts/gen_protos.py, so a test may repoint its output paths."""
    return _load_script(GEN_SCRIPT)


@pytest.fixture
def buf_breaking() -> ModuleType:
    """scripts/buf_breaking.py, the `make breaking` step of CI."""
    return _load_script(ROOT / "scripts" / "buf_breaking.py")


@pytest.fixture
def contract_changes() -> ModuleType:
    """scripts/contract_changes.py, the access policy and HTTP binding review of `make breaking`."""
    return _load_script(ROOT / "scripts" / "contract_changes.py")


@pytest.fixture
def buf_workspace(tmp_path: Path) -> Path:
    """A throw-away copy of the buf workspace (buf.yaml, protos/, build/third_party)."""
    third_party = ROOT / "build" / "third_party"
    if not third_party.is_dir():
        pytest.fail(f"{third_party} is missing: run `make protos` first")
    shutil.copyfile(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    shutil.copytree(ROOT / "protos", tmp_path / "protos")
    shutil.copytree(third_party, tmp_path / "build" / "third_party")
    return tmp_path
