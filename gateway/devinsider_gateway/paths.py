"""google.api.http path templates -> OpenAPI paths and parameters.

`{name=users/*}` becomes `/users/{name}`: the literal segments stay in the path so that templates
differing only in their literals stay distinct; a variable with several wildcards gets one path
parameter per wildcard, named after the literal before it. The transcoder rebuilds the field from
the whole matched text, so clients send the same URL either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VARIABLE = re.compile(r"\{([^}=]+)(?:=([^}]*))?\}")


@dataclass(frozen=True)
class PathParam:
    name: str  # the OpenAPI parameter name
    field: str  # the (possibly nested) request field it fills
    pattern: str  # the variable's template, for the description
    multi_segment: bool  # `**`: may contain slashes


@dataclass(frozen=True)
class OpenApiPath:
    path: str
    params: tuple[PathParam, ...]

    @property
    def fields(self) -> set[str]:
        return {p.field for p in self.params}


def convert(template: str) -> OpenApiPath:
    params: list[PathParam] = []
    used: set[str] = set()

    def unique(name: str) -> str:
        candidate, n = name, 2
        while candidate in used:
            candidate, n = f"{name}{n}", n + 1
        used.add(candidate)
        return candidate

    def replace(match: re.Match[str]) -> str:
        field, pattern = match.group(1), match.group(2) or "*"
        segments = pattern.split("/")
        wildcards = [i for i, s in enumerate(segments) if s in ("*", "**")]
        out: list[str] = []
        for i, segment in enumerate(segments):
            if segment not in ("*", "**"):
                out.append(segment)
                continue
            before = segments[i - 1] if i > 0 and segments[i - 1] not in ("*", "**") else ""
            name = unique(field if len(wildcards) == 1 or not before else f"{field}.{before}")
            params.append(PathParam(name, field, pattern, segment == "**"))
            out.append(f"{{{name}}}")
        return "/".join(out)

    return OpenApiPath(_VARIABLE.sub(replace, template), tuple(params))
