"""Use cases on company logos: upload (type checked by magic bytes, size capped) and serve."""

from __future__ import annotations

from dataclasses import replace

from company_service.domain.logo import check_logo
from company_service.domain.model import CompanyView, Logo
from company_service.service_layer.companies import acting_role, live
from company_service.service_layer.ports import Clock, LogoStorage, UowFactory
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.ids import new_id
from devinsider_common.pages.membership import authorize
from devinsider_common.pages.roles import PagePermission

EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "image/svg+xml": ".svg"}


class LogoUseCases:
    def __init__(self, uow: UowFactory, clock: Clock, storage: LogoStorage, max_bytes: int) -> None:
        self._uow = uow
        self._clock = clock
        self._storage = storage
        self._max_bytes = max_bytes

    def upload(self, principal: Principal, company_id: str, content_type: str, data: bytes) -> CompanyView:
        """Store the new image, point the page at it, then drop the old one (never a page without its file)."""
        with self._uow() as uow:
            actor = authorize(uow, company_id, principal, PagePermission.EDIT)
            company = live(uow.companies.get(company_id, lock=True), company_id)
            kind = check_logo(content_type, data, self._max_bytes)
            key = f"{company_id}/{new_id()}{EXTENSIONS[kind]}"
            self._storage.put(key, data)
            try:
                updated = uow.companies.save(replace(company, logo=Logo(key, kind), updated_at=self._clock()))
                uow.events.company_updated(updated, ["logo_url"])
                uow.commit()
            except BaseException:
                self._storage.delete(key)
                raise
        if company.logo is not None:
            self._storage.delete(company.logo.key)
        return CompanyView(updated, True, acting_role(actor, principal))

    def get(self, company_id: str) -> tuple[str, bytes]:
        with self._uow(read_only=True) as uow:
            company = live(uow.companies.get(company_id), company_id)
        data = self._storage.get(company.logo.key) if company.logo else None
        if company.logo is None or data is None:
            raise errors.NotFound(f"companies/{company_id} has no logo", reason="LOGO_NOT_FOUND")
        return company.logo.content_type, data
