"""Republishing every unlock, so that the services keeping a projection of unlocks can rebuild it.

The company and investor services record each `UnlockCreated` by the unlock's resource name,
idempotently (`devinsider_common.pages.unlocks.UnlockProjector`): an unlock they already hold changes
nothing, one they missed or lost is recorded. The events go to the outbox like any other; the relay
of the running service publishes them.
"""

from __future__ import annotations

import structlog

from billing_service.service_layer.common import UowFactory

log = structlog.get_logger("billing.unlock_replay")


class UnlockReplay:
    def __init__(self, uow: UowFactory) -> None:
        self._uow = uow

    def republish_unlocks(self, batch_size: int) -> int:
        """Write one `UnlockCreated` per unlock, in id order, `batch_size` unlocks per transaction (a
        large table never holds one long transaction, and a failure keeps the batches before it);
        returns how many were written.

        Unlocks committed meanwhile need nothing from here: each published its own event when made."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        after: str | None = None
        total = 0
        while True:
            with self._uow() as uow:
                batch = uow.unlocks.all_after(after, batch_size)
                for unlock in batch:
                    # The balance the original event carried: the one right after the unlock's own spend.
                    entry = uow.ledger.get(unlock.page, unlock.ledger_entry_id)
                    if entry is None:
                        # Never expected (an unlock is written with its spend, in one transaction), but the
                        # projections need the unlock, not the balance: publish it anyway, with 0.
                        log.warning("unlock without its ledger entry", unlock=unlock.name, entry=unlock.ledger_entry_id)
                    uow.events.unlock_created(unlock, entry.balance_after if entry is not None else 0)
                uow.commit()
            total += len(batch)
            if batch:
                log.info("unlocks republished", batch=len(batch), total=total, last=batch[-1].name)
            if len(batch) < batch_size:  # a short batch is the last one: no extra empty read
                return total
            after = batch[-1].id
