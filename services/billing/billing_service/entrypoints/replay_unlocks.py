"""`devinsider-billing-replay-unlocks`: republish every unlock (`UnlockCreated`) through the outbox.

It rebuilds the unlock projections of the company and investor services, which record each unlock
once by its name. It runs on the billing service's own settings and database, beside the running
replicas: it migrates the schema as the service does at start (nothing to do where a replica already
did, and under the same lock), starts no server, writes outbox rows a batch per transaction and
exits; the relay of the running billing service (with AMQP_URL) publishes them.
"""

from __future__ import annotations

import argparse
from functools import partial

from billing_service.bootstrap import MIGRATIONS
from billing_service.service_layer.unit_of_work import SqlBillingUnitOfWork
from billing_service.service_layer.unlock_replay import UnlockReplay
from billing_service.settings import BillingSettings
from devinsider_common.logging import configure_logging
from devinsider_common.runtime import open_engine
from devinsider_common.startup import load_settings

PROCESS = "devinsider-billing-replay-unlocks"
DEFAULT_BATCH_SIZE = 500


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROCESS,
        description="Republish an UnlockCreated event for every unlock, through the billing outbox. "
        "Settings come from the environment, as for devinsider-billing-service.",
    )
    parser.add_argument(
        "--batch-size",
        type=_positive,
        default=DEFAULT_BATCH_SIZE,
        help=f"unlocks per transaction (default {DEFAULT_BATCH_SIZE})",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)  # before the settings: --help needs none
    settings = load_settings(BillingSettings, PROCESS)
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    # The engine of a runtime without the rest (cache, channels, tokens): the replay talks to nothing but
    # its database.
    engine = open_engine(settings, MIGRATIONS)
    try:
        count = UnlockReplay(partial(SqlBillingUnitOfWork, engine)).republish_unlocks(args.batch_size)
    finally:
        engine.dispose()
    print(f"republished {count} unlocks")


if __name__ == "__main__":
    main()
