"""The matching service's use cases, as wired by the bootstrap and called by the entrypoints."""

from __future__ import annotations

from dataclasses import dataclass

from matching_service.service_layer.announcer import Announcer
from matching_service.service_layer.common import MatchingConfig
from matching_service.service_layer.index_sync import IndexSync
from matching_service.service_layer.matches import MatchUseCases
from matching_service.service_layer.page_events import PageStatusFollower
from matching_service.service_layer.profiles import ProfileUseCases
from matching_service.service_layer.social import SocialUseCases
from matching_service.service_layer.status_refresh import StatusRefresher
from matching_service.service_layer.taxonomy import TaxonomyUseCases


@dataclass(frozen=True)
class MatchingApp:
    config: MatchingConfig
    taxonomy: TaxonomyUseCases
    profiles: ProfileUseCases
    matches: MatchUseCases
    social: SocialUseCases
    sync: IndexSync
    announcer: Announcer
    refresher: StatusRefresher
    follower: PageStatusFollower
