"""`devinsider-matching-sync-pages`: read every profiled page's status and facts from its service now.

The status refresh job (`PAGE_STATUS_REFRESH_SECONDS`) run once, on demand: after migration 0004 it
brings the facts the pages hold (industries, countries, sizes, ticket ranges...) without waiting for the
next page event or refresh, and a page's first facts strip its values from its stored profile (the page
is their source of truth). A changed page is recorded in the change log (the running replicas' indexes
follow) and owes its announcement round, drained here. It runs on the matching service's own settings,
beside the running replicas: it migrates the schema as the service does at start (nothing to do where a
replica already did), asks the page services with the service's own identity, starts no server and exits,
naming the profiled pages whose facts are still unknown (their service did not return them).
"""

from __future__ import annotations

import argparse
from functools import partial

from devinsider_common.auth.service_identity import service_token_provider
from devinsider_common.cache import create_cache
from devinsider_common.clock import utc_now
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.logging import configure_logging
from devinsider_common.runtime import open_engine
from devinsider_common.startup import load_settings
from matching_service.adapters.page_directory import GrpcPageDirectory
from matching_service.bootstrap import MIGRATIONS, build_app
from matching_service.service_layer.unit_of_work import SqlMatchingUnitOfWork
from matching_service.settings import MatchingSettings

PROCESS = "devinsider-matching-sync-pages"


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(
        prog=PROCESS,
        description="Read the status and facts of every page with a criteria profile from the company, investor "
        "and program services now. Settings come from the environment, as for devinsider-matching-service.",
    ).parse_args(argv)  # before the settings: --help needs none
    settings = load_settings(MatchingSettings, PROCESS)
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    engine = open_engine(settings, MIGRATIONS)
    channels = ChannelFactory(token_provider=service_token_provider(settings.auth, settings.service_name))
    try:
        ttl = settings.page_access_cache_ttl_seconds
        directory = GrpcPageDirectory(channels, settings.page_targets(), create_cache(settings), ttl)
        refresher = build_app(settings, partial(SqlMatchingUnitOfWork, engine), utc_now, directory).refresher
        changed = refresher.run()
        unknown = refresher.without_facts()
    finally:
        channels.close()
        engine.dispose()
    print(f"pages changed: {changed}")
    if unknown:
        print(f"pages without facts (their profiles keep their own values): {' '.join(unknown)}")


if __name__ == "__main__":
    main()
