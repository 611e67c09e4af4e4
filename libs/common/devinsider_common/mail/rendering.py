"""The mail templates every renderer uses: `templates/<locale>/<template>.txt` and `.html` in this package.

A `MailRequested` names a template id, a locale and variables (strings). Rendering gives the subject (the
`subject` block of the text template), the plain text and the HTML (autoescaped: every variable is text,
never markup). Variables are strict: a template that uses a variable the request lacks fails
(`MissingVariable`), as does an unknown template (`UnknownTemplate`), instead of mailing a hole. The
locale falls back from `fr-CA` to `fr` to English, the one language shipped today.

Besides the request's variables a template sees `recipient_name` (the request's `to_name`, or "there"),
`locale`, and in HTML the rendered `subject`; `from_json` turns a variable carrying a JSON list (the
match digest's `matches`) into values a loop can walk. The catalog of ids and their variables is
`devinsider_common.mail.catalog`; libs/common/tests/unit/test_mail_templates.py renders every id the code mails.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

TEMPLATE_DIR = Path(__file__).parent / "templates"
DEFAULT_LOCALE = "en"
# Names the renderer provides itself; a request's variables cannot replace them.
RESERVED = frozenset({"recipient_name", "locale", "subject"})


class TemplateError(Exception):
    """A mail cannot be rendered from its template."""


class UnknownTemplate(TemplateError):
    """No template has this id (in any fallback locale)."""


class MissingVariable(TemplateError):
    """The template uses a variable the request does not carry."""


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str
    locale: str  # the locale of the templates used (after fallback)


def _environment(directory: Path) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["from_json"] = _from_json
    return environment


def _from_json(value: object) -> object:
    """A variable carrying JSON, decoded (`str` of an undefined variable raises the strict error)."""
    try:
        return json.loads(str(value))
    except json.JSONDecodeError as error:
        raise TemplateError(f"a variable is not the JSON its template expects: {error}") from error


class MailRenderer:
    def __init__(self, directory: Path = TEMPLATE_DIR) -> None:
        self._directory = directory
        self._environment = _environment(directory)

    @property
    def environment(self) -> jinja2.Environment:
        return self._environment

    def template_ids(self, locale: str = DEFAULT_LOCALE) -> list[str]:
        """Every template id shipped for `locale` (files not starting with `_`)."""
        folder = self._directory / locale
        return sorted(p.stem for p in folder.glob("*.txt") if not p.name.startswith("_"))

    def locale_of(self, template: str, locale: str) -> str:
        """The locale whose files render `template` for `locale` (`fr-CA` → `fr` → `en`)."""
        wanted = (locale or DEFAULT_LOCALE).replace("_", "-")
        for candidate in dict.fromkeys((wanted, wanted.split("-")[0].lower(), DEFAULT_LOCALE)):
            if all((self._directory / candidate / f"{template}.{ext}").is_file() for ext in ("txt", "html")):
                return candidate
        raise UnknownTemplate(f"no mail template {template!r}")

    def render(
        self, template: str, locale: str, variables: Mapping[str, str], recipient_name: str = ""
    ) -> RenderedMail:
        found = self.locale_of(template, locale)
        context: dict[str, object] = {**variables, "recipient_name": recipient_name or "there", "locale": found}
        try:
            text_template = self._environment.get_template(f"{found}/{template}.txt")
            subject = "".join(text_template.blocks["subject"](text_template.new_context(context))).strip()
            text = text_template.render(context)
            html = self._environment.get_template(f"{found}/{template}.html").render({**context, "subject": subject})
        except jinja2.UndefinedError as error:
            raise MissingVariable(f"mail template {template!r}: {error.message}") from error
        except KeyError as error:  # no `subject` block
            raise TemplateError(f"mail template {template!r} has no subject block") from error
        return RenderedMail(" ".join(subject.split()), text, html, found)


@cache
def default_renderer() -> MailRenderer:
    """The renderer of the templates shipped in this package (one per process)."""
    return MailRenderer()
