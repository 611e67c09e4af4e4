"""The /docs page: Swagger UI from the pinned npm package `swagger-ui-dist`, never from a CDN."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css")
# persistAuthorization: the token pasted in Authorize (how to get one: the `bearer` scheme's description)
# survives reloads of the page.
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, persistAuthorization: true
}});
</script>
</body>
</html>
"""


def find_swagger_ui(start: Path) -> Path | None:
    """node_modules/swagger-ui-dist in `start` or a parent (installed by `npm ci`)."""
    for folder in (start, *start.parents):
        candidate = folder / "node_modules" / "swagger-ui-dist"
        if (candidate / ASSETS[0]).is_file():
            return candidate
    return None


def write(out_dir: Path, openapi: dict[str, Any], swagger_ui: Path) -> None:
    """openapi.json, docs.html and the Swagger UI assets, side by side, for Envoy to serve."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "openapi.json").write_text(json.dumps(openapi, indent=1), encoding="utf-8")
    title = str(openapi.get("info", {}).get("title", "API"))
    (out_dir / "docs.html").write_text(PAGE.format(title=title), encoding="utf-8")
    for asset in ASSETS:
        shutil.copyfile(swagger_ui / asset, out_dir / asset)
