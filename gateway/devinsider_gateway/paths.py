"""google.api.http path templates -> OpenAPI paths and parameters.

`{name=companies/*/members/*}` becomes `/companies/{companyId}/members/{memberId}`: the literal
segments stay in the path (templates differing only in their literals stay distinct), and each
wildcard is one path parameter holding one id, named after the collection before it (singular +
`Id`). The transcoder rebuilds the field (`name`) from the whole matched text, so clients send the
same URL either way. A wildcard without a collection before it keeps the field's name
(`{id}`, `{path=**}` -> `{path}`, `{nested.id}` -> `{nestedId}`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VARIABLE = re.compile(r"\{([^}=]+)(?:=([^}]*))?\}")
_WILDCARDS = ("*", "**")


@dataclass(frozen=True)
class PathParam:
    name: str  # the OpenAPI parameter name: `companyId`
    field: str  # the (possibly nested) request field it fills: `member.name`
    pattern: str  # the variable's template: `companies/*/members/*`
    multi_segment: bool  # `**`: may contain slashes
    collection: str  # the literal segment before the wildcard (`companies`), "" when none
    resource: str  # the template with its parameters: `companies/{companyId}/members/{memberId}`

    @property
    def description(self) -> str:
        if not self.collection:
            return f"`{self.field}` (`{self.pattern}`)" + (", may contain `/`" if self.multi_segment else "")
        noun = " ".join(re.sub(r"([A-Z])", r" \1", _singular(self.collection)).lower().split())
        where = "the last segment" if self.resource.endswith(f"{{{self.name}}}") else f"the `{{{self.name}}}` segment"
        return f"The {noun}'s id, not a resource name: {where} of `{self.resource}` (request field `{self.field}`)."


@dataclass(frozen=True)
class OpenApiPath:
    path: str
    params: tuple[PathParam, ...]

    @property
    def fields(self) -> set[str]:
        return {p.field for p in self.params}


def _singular(collection: str) -> str:
    """`companies` -> `company`, `blacklistEntries` -> `blacklistEntry`, `members` -> `member`."""
    if collection.endswith("ies"):
        return collection[:-3] + "y"
    if collection.endswith(("sses", "xes", "ches", "shes")):
        return collection[:-2]
    return collection.removesuffix("s")


def _camel(field: str) -> str:
    head, *rest = re.split(r"[._]", field)
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


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
        named: list[tuple[int, str, str]] = []  # (index, parameter name, collection)
        for i, segment in enumerate(segments):
            if segment in _WILDCARDS:
                before = segments[i - 1] if i > 0 and segments[i - 1] not in _WILDCARDS else ""
                named.append((i, unique(f"{_singular(before)}Id" if before else _camel(field)), before))
        out = list(segments)
        for i, name, _ in named:
            out[i] = f"{{{name}}}"
        resource = "/".join(out)
        for i, name, collection in named:
            params.append(PathParam(name, field, pattern, segments[i] == "**", collection, resource))
        return resource

    return OpenApiPath(_VARIABLE.sub(replace, template), tuple(params))
