"""Every mail a person can get renders from the repository's templates, in text and in HTML.

The template ids are collected from the code itself (`ast`): the template argument of every mail call
(`request_mail`, the publishers' `_mail`, `MailRequested`), every `template=` keyword and every value
assigned to a name saying `template`. Each id must be in the catalog (`devinsider_common.mail.catalog`)
with both files, and render with the catalog's sample variables alone; a variable a template uses and
a request lacks fails the rendering.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import meta

from devinsider_common.mail.catalog import CATALOG
from devinsider_common.mail.rendering import RESERVED, TEMPLATE_DIR, MailRenderer, MissingVariable, UnknownTemplate

ROOT = Path(__file__).resolve().parents[4]
SOURCES = [ROOT / "libs" / "common" / "devinsider_common", *sorted((ROOT / "services").glob("*/*_service"))]
TEMPLATE_ID = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
PREFIX = re.compile(r"^[a-z][a-z0-9_]*_$")  # the start of an id built at run time
# Ids built at run time from a state (`f"program_application_{state}"`): the prefix and every value the code
# can put after it. A new dynamic id fails `test_dynamic_ids_are_known` until it is listed here.
DYNAMIC = {
    "pro_verification_": ("approved", "rejected"),  # user: ProVerificationState once decided
    "program_application_": ("approved", "rejected", "withdrawn"),  # program: ApplicationState once decided
}
RENDERER = MailRenderer()


def _source_files() -> Iterator[Path]:
    for root in SOURCES:
        for path in root.rglob("*.py"):
            if "migrations" not in path.parts and "testing" not in path.parts and path.name != "catalog.py":
                yield path


def _call_name(node: ast.Call) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def _template_values(node: ast.expr) -> Iterator[ast.expr]:
    """The candidate template expressions of `node` (both branches of `a if c else b`)."""
    if isinstance(node, ast.IfExp):
        yield from _template_values(node.body)
        yield from _template_values(node.orelse)
    else:
        yield node


def _dynamic_prefix(node: ast.JoinedStr) -> str | None:
    first = node.values[0] if node.values else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str) and PREFIX.match(first.value):
        return first.value
    return None


def collect() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """({template id: files naming it}, {dynamic prefix: files building ids with it})."""
    ids: dict[str, set[str]] = {}
    prefixes: dict[str, set[str]] = {}

    def take(node: ast.expr, where: str, *, names_only: bool = False) -> None:
        for value in _template_values(node):
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and TEMPLATE_ID.match(value.value):
                ids.setdefault(value.value, set()).add(where)
            elif isinstance(value, ast.JoinedStr) and (prefix := _dynamic_prefix(value)) and not names_only:
                prefixes.setdefault(prefix, set()).add(where)

    for path in _source_files():
        where = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "template":
                        take(keyword.value, where)
                name = _call_name(node)
                if "mail" in name.lower() or name == "MailRequested":
                    for argument in node.args:
                        take(argument, where)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                named = [t.id for t in targets if isinstance(t, ast.Name)]
                if node.value is not None and any("template" in n.lower() for n in named):
                    take(node.value, where)
    return ids, prefixes


IDS, PREFIXES = collect()
MAILED = set(IDS) | {prefix + suffix for prefix in PREFIXES for suffix in DYNAMIC.get(prefix, ())}


def test_the_collector_finds_the_mails_of_every_sender() -> None:
    """The collection is only as good as the collector: every service that mails is seen mailing."""
    senders = {where.split("/")[1] for places in IDS.values() for where in places}
    assert {"user", "company", "investor", "program", "billing", "notification"} <= senders
    assert {"welcome", "company_invitation", "investor_invitation", "billing_receipt"} <= set(IDS)
    assert set(PREFIXES) == set(DYNAMIC)


def test_dynamic_ids_are_known() -> None:
    assert set(PREFIXES) <= set(DYNAMIC), f"ids built at run time without their values listed: {PREFIXES}"


def test_every_mailed_template_is_in_the_catalog_and_every_catalog_template_is_mailed() -> None:
    assert MAILED - set(CATALOG) == set(), "mailed by the code without a template"
    assert set(CATALOG) - MAILED == set(), "templates nothing mails"


def test_the_shipped_templates_are_the_catalog() -> None:
    assert RENDERER.template_ids() == sorted(CATALOG)
    for template in CATALOG:
        assert (TEMPLATE_DIR / "en" / f"{template}.html").is_file(), template


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [value or "" for name, value in attrs if name == "href"]


@pytest.mark.parametrize("template", sorted(CATALOG))
def test_each_template_renders_in_text_and_html_with_its_sample_variables(template: str) -> None:
    sample = CATALOG[template].sample
    mail = RENDERER.render(template, "en", sample, "Bob Tester")
    assert mail.subject and "\n" not in mail.subject and "{" not in mail.subject
    assert mail.text.startswith("Hello Bob Tester,\n") and "{{" not in mail.text and "{%" not in mail.text
    page = _Html()
    page.feed(mail.html)
    assert {"html", "title", "body"} <= set(page.tags) and "{{" not in mail.html
    links = [value for value in sample.values() if value.startswith("http")]
    for link in links:  # a link is whole on a line of the text, and a target in the HTML
        assert link in mail.text.splitlines() or f" {link}" in mail.text, (template, link)
        assert link.replace("&", "&amp;") in mail.html, (template, link)


@pytest.mark.parametrize("template", sorted(CATALOG))
def test_a_template_uses_only_variables_its_senders_send(template: str) -> None:
    used = _used_variables(template)
    assert used - set(CATALOG[template].sample) == set(), "used by the template, not in the catalog's sample"
    for name in used:  # and each one is required: a request without it does not render
        partial = {k: v for k, v in CATALOG[template].sample.items() if k != name}
        with pytest.raises(MissingVariable):
            RENDERER.render(template, "en", partial)


def _used_variables(template: str) -> set[str]:
    environment = RENDERER.environment
    used: set[str] = set()
    for ext in ("txt", "html"):
        source = (TEMPLATE_DIR / "en" / f"{template}.{ext}").read_text(encoding="utf-8")
        tree = environment.parse(source)
        used |= meta.find_undeclared_variables(tree)
        for included in meta.find_referenced_templates(tree):
            if included and not included.endswith(f"_layout.{ext}"):
                used |= meta.find_undeclared_variables(environment.parse((TEMPLATE_DIR / included).read_text()))
    return used - RESERVED


def test_html_escapes_what_text_keeps() -> None:
    sample = {**CATALOG["company_invitation"].sample, "page_display_name": "<script>alert(1)</script> & Co"}
    mail = RENDERER.render("company_invitation", "en", sample)
    assert "<script>" not in mail.html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in mail.html
    assert "<script>alert(1)</script> & Co" in mail.text


def test_an_unknown_template_fails_and_a_locale_falls_back_to_english() -> None:
    with pytest.raises(UnknownTemplate):
        RENDERER.render("no_such_mail", "en", {})
    assert RENDERER.render("welcome", "fr-CA", {"given_name": "Ada"}).locale == "en"
    assert RENDERER.locale_of("welcome", "") == "en"


def test_the_digest_lists_every_match() -> None:
    mail = RENDERER.render("notification_match_digest", "en", CATALOG["notification_match_digest"].sample)
    assert mail.subject == "2 new matches on DevInsider"
    assert "- Blue Fund (91/100) for Acme Analytics: http://localhost:3000/investors/i1" in mail.text
    assert mail.html.count("/100</td>") == 2
