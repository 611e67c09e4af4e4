"""Writes the OpenAPI document the edge serves at /openapi.json, without starting anything.

`devinsider-gateway-config` on gen/devinsider.binpb with every service of the set as an upstream (the
addresses do not matter: only the document is kept), as `make run` configures the edge. For
`make openapi-lint` (Redocly CLI) and `make ts-client` (openapi-typescript).

    python scripts/openapi_document.py build/openapi     # -> build/openapi/openapi.json
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from devinsider_gateway import cli, descriptors

ROOT = Path(__file__).resolve().parents[1]
DESCRIPTOR_SET = ROOT / "gen" / "devinsider.binpb"


def generate(out_dir: Path, descriptor_set: Path = DESCRIPTOR_SET) -> Path:
    """out_dir/openapi.json (with the /docs assets beside it); returns its path."""
    services = sorted(descriptors.load(descriptor_set).services)
    with tempfile.TemporaryDirectory() as work:
        args = ["--descriptor-set", str(descriptor_set), "--out", f"{work}/envoy.yaml", "--docs-dir", str(out_dir)]
        for service in services:
            args += ["--upstream", f"{service}=127.0.0.1:1"]
        if cli.main(args) != 0:
            raise SystemExit("devinsider-gateway-config failed")
    return out_dir / "openapi.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path, help="where openapi.json goes")
    parser.add_argument("--descriptor-set", type=Path, default=DESCRIPTOR_SET)
    args = parser.parse_args()
    print(generate(args.out_dir, args.descriptor_set))


if __name__ == "__main__":
    main()
