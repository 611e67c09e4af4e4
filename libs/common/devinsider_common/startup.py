"""What every service's `main` does before serving: settings (and tracing) from the environment, or a clear
refusal.

A setting that is invalid, or a secret left at its public default in production mode, ends the process
with one line on stderr naming the variables (exit status 2), never a traceback and never a value:
the input of a secret setting is a credential.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

from pydantic import ValidationError

from devinsider_common import tracing
from devinsider_common.settings import PublicSecretError

SettingsT = TypeVar("SettingsT")

EXIT_BAD_CONFIGURATION = 2


def _refuse(service: str, reason: str) -> NoReturn:
    print(f"{service}: refusing to start: {reason}", file=sys.stderr)
    raise SystemExit(EXIT_BAD_CONFIGURATION)


def load_settings(factory: Callable[[], SettingsT], service: str) -> SettingsT:
    """`factory()`, or exit 2 with one line saying which settings are wrong and why."""
    try:
        return factory()
    except PublicSecretError as error:
        _refuse(service, str(error))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']).upper() or 'settings'}: {item['msg']}"
            for item in error.errors(include_input=False, include_url=False)
        )
        _refuse(service, problems)


def configure_tracing(service: str, process: str) -> None:
    """Tracing from the OTEL_* variables (devinsider_common.tracing), or exit 2 with the one line saying
    which variable asks for what cannot be served."""
    try:
        tracing.configure(service)
    except tracing.TracingConfigError as error:
        _refuse(process, str(error))
