"""Generate the Python modules, type stubs and descriptor set from protos/.

Output (never edited by hand, never committed):
- gen/python/devinsider/...: *_pb2.py, *_pb2_grpc.py and their .pyi stubs (mypy-protobuf),
- gen/devinsider.binpb: one FileDescriptorSet with imports and source info (Envoy, gateway, tests),
- build/third_party: the google/api and google/rpc protos from googleapis-common-protos, for buf.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import google.api
import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
GEN = ROOT / "gen"
PY_OUT = GEN / "python"
DESCRIPTOR_SET = GEN / "devinsider.binpb"
THIRD_PARTY = ROOT / "build" / "third_party"
GOOGLEAPIS = Path(next(iter(google.api.__path__))).parent.parent
WELL_KNOWN = Path(next(iter(grpc_tools.__path__))) / "_proto"
BIN = Path(sys.executable).parent
THIRD_PARTY_PROTOS = ["google/api", "google/rpc", "google/type"]


def _run_protoc(args: list[str]) -> None:
    includes = [f"-I{PROTOS}", f"-I{GOOGLEAPIS}", f"-I{WELL_KNOWN}"]
    # The mypy-protobuf plugins sit beside this interpreter (the virtualenv's bin/).
    plugins = [f"--plugin=protoc-gen-{name}={BIN / f'protoc-gen-{name}'}" for name in ("mypy", "mypy_grpc")]
    code = protoc.main(["protoc", *includes, *plugins, *args])
    if code != 0:
        sys.exit(f"protoc failed with exit code {code}")


def _copy_third_party() -> None:
    shutil.rmtree(THIRD_PARTY, ignore_errors=True)
    for folder in THIRD_PARTY_PROTOS:
        for proto in (GOOGLEAPIS / folder).glob("*.proto"):
            target = THIRD_PARTY / folder / proto.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(proto, target)


def main() -> None:
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    shutil.rmtree(PY_OUT, ignore_errors=True)
    PY_OUT.mkdir(parents=True)
    _run_protoc(
        [
            f"--python_out={PY_OUT}",
            f"--grpc_python_out={PY_OUT}",
            f"--mypy_out={PY_OUT}",
            f"--mypy_grpc_out={PY_OUT}",
            *sources,
        ]
    )
    # Envoy's convert_grpc_status renders error bodies only with these two in the set.
    status_protos = ["google/rpc/status.proto", "google/rpc/error_details.proto"]
    descriptor_args = [f"--descriptor_set_out={DESCRIPTOR_SET}", "--include_imports", "--include_source_info"]
    _run_protoc([*descriptor_args, *sources, *status_protos])
    # Regular packages (not namespace packages) so mypy and setuptools see them plainly.
    for folder in [PY_OUT / "devinsider", *(PY_OUT / "devinsider").rglob("*")]:
        if folder.is_dir():
            (folder / "__init__.py").touch()
            (folder / "py.typed").touch()
    _copy_third_party()
    print(f"generated {len(sources)} protos into {PY_OUT.relative_to(ROOT)} and {DESCRIPTOR_SET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
