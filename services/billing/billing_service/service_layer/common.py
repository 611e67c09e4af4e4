"""Pieces every use case shares: the unit-of-work factory and the clock (the caller's page authorisation is
`devinsider_common.pages.authorization.PageAuthorizer`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from billing_service.service_layer.ports import BillingUnitOfWork
from devinsider_common.unit_of_work import UnitOfWorkFactory

UowFactory = UnitOfWorkFactory[BillingUnitOfWork]
Clock = Callable[[], datetime]
