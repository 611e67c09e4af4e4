"""Getting and setting the criteria profile of a page (permission from the owning service first).

A profile is read and returned as matching scores it: the dimensions its page holds come from the page
(`domain.facts`), read fresh from the owning service. Writes refuse the page's values and store the rest."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import PageName
from devinsider_common.pages.roles import PagePermission
from devinsider_common.unit_of_work import DuplicateRecord
from matching_service.domain.facts import own_values
from matching_service.domain.pages import PageStatus, effective
from matching_service.domain.profile import CriteriaProfile, validate_profile
from matching_service.service_layer.announcer import Announcer
from matching_service.service_layer.common import Clock, UowFactory, authorize, save_status
from matching_service.service_layer.index_sync import IndexSync
from matching_service.service_layer.ports import PageDirectory


class ProfileUseCases:
    def __init__(
        self, uow: UowFactory, clock: Clock, directory: PageDirectory, sync: IndexSync, announcer: Announcer
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._directory = directory
        self._sync = sync
        self._announcer = announcer

    def get(self, principal: Principal, page: PageName) -> CriteriaProfile:
        authorize(self._directory, principal, page.name, PagePermission.VIEW_PRIVATE)
        # The page's word first (read only: storing it is the events' and the refresh's), else the stored one.
        status = self._directory.statuses([page.name]).get(page.name)
        with self._uow() as uow:
            found = uow.profiles.get(page.name)
            status = status or uow.statuses.get_many([page.name]).get(page.name)
        taxonomy = self._sync.taxonomy()
        return effective(found or CriteriaProfile(page, taxonomy_version=taxonomy.version), status, taxonomy)

    def update(self, principal: Principal, changes: CriteriaProfile, fields: set[str]) -> CriteriaProfile:
        page = changes.page
        authorize(self._directory, principal, page.name, PagePermission.EDIT)
        asked = self._clock()  # the status holds as of this time (a later page event wins)
        status = self._directory.statuses([page.name]).get(page.name)
        try:
            merged = self._save(changes, fields, status, asked)
        except DuplicateRecord:
            # A concurrent first save of the page's profile won its key: apply these fields on top of
            # it, as if this update had come second (a PATCH of its fields, never a lost write).
            merged = self._save(changes, fields, status, asked)
        self._sync.catch_up()
        self._announcer.after_change(page)
        return merged

    def _save(
        self, changes: CriteriaProfile, fields: set[str], status: PageStatus | None, asked: datetime
    ) -> CriteriaProfile:
        page = changes.page
        taxonomy = self._sync.taxonomy()
        now = self._clock()
        with self._uow() as uow:
            previous = uow.profiles.get(page.name)
            base = previous or CriteriaProfile(page)
            merged = replace(
                base,
                criteria=changes.criteria if "criteria" in fields else base.criteria,
                funding_need=changes.funding_need if "funding_need" in fields else base.funding_need,
                ticket_range=changes.ticket_range if "ticket_range" in fields else base.ticket_range,
                taxonomy_version=taxonomy.version,
                updated_at=now,
            )
            validate_profile(merged, taxonomy, previous, fields)
            if status is not None and status.facts is not None:
                merged = own_values(merged)  # the page's values an older profile may hold are the page's now
            changed = sorted(f for f in fields if previous is None or getattr(previous, f) != getattr(merged, f))
            uow.profiles.save(merged, exists=previous is not None)
            if status is not None:
                save_status(uow, status, asked, now)
            shown = effective(merged, uow.statuses.get_many([page.name]).get(page.name), taxonomy)
            uow.changes.record([page.name], now)
            uow.events.profile_updated(shown, changed)
            # The MatchFound round this change owes commits with it (drained below, or by the job).
            uow.announcements.request(page.name, now)
            uow.commit()
        return shown
