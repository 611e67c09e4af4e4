"""The scheduled jobs (once across replicas, devinsider_common.jobs): the match digest and the retention
of old notifications."""

from __future__ import annotations

from datetime import timedelta

import structlog

from notification_service.domain.digest import digest_mail, latest_digest_time
from notification_service.domain.drafting import Links
from notification_service.domain.preferences import DigestFrequency, Preferences
from notification_service.service_layer.common import Clock, NotificationConfig, UowFactory
from notification_service.service_layer.notify import address_of

log = structlog.get_logger("notification.jobs")
BATCH = 500


class DigestJob:
    """Mails each user the matches found before their latest digest time (`domain/digest.py`)."""

    def __init__(self, uow: UowFactory, clock: Clock, config: NotificationConfig) -> None:
        self._uow = uow
        self._clock = clock
        self._config = config
        self._links = Links(config.app_url)

    def run(self) -> int:
        """Mail the digests due now; how many were mailed."""
        now = self._clock()
        daily = latest_digest_time(now, DigestFrequency.DAILY, self._config.digest_hour_utc)
        with self._uow(read_only=True) as uow:
            due = uow.digests.recipients_before(daily, BATCH)
        return sum(self._one(recipient) for recipient in due)

    def _one(self, recipient: str) -> int:
        with self._uow() as uow:
            preferences = uow.preferences.get(recipient) or Preferences(recipient)
            if not preferences.digest_on:  # turned off since: what waits is dropped
                uow.digests.forget(recipient)
                uow.commit()
                return 0
            before = latest_digest_time(self._clock(), preferences.match_digest, self._config.digest_hour_utc)
            items = uow.digests.items_before(recipient, before)
            if not items:
                return 0
            if uow.digests.remove(recipient, [i.key for i in items]) != len(items):
                return 0  # another run took them: its transaction mails them
            email, name = address_of(uow, recipient)
            if email:
                mail = digest_mail(items, preferences.match_digest, self._links)
                external_id = f"mail:{mail.template}:{recipient}:{before.isoformat()}"
                uow.mail.send(mail.template, email, name, preferences.locale, mail.variables, external_id)
            uow.commit()
        log.info("digest.mailed", recipient=recipient, matches=len(items), mailed=bool(email))
        return 1 if email else 0


class RetentionJob:
    """Deletes notifications (and what was delivered) older than NOTIFICATION_RETENTION_DAYS."""

    def __init__(self, uow: UowFactory, clock: Clock, config: NotificationConfig) -> None:
        self._uow = uow
        self._clock = clock
        self._config = config

    def run(self) -> int:
        before = self._clock() - timedelta(days=self._config.retention_days)
        with self._uow() as uow:
            deleted = uow.notifications.delete_before(before, BATCH * 10)
            uow.deliveries.delete_before(before, BATCH * 10)
            uow.commit()
        return deleted
