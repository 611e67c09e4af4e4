"""A consumer in its own process, for the fault tests (test_faults.py): it applies each `UserDeleted` by
inserting the event's subject into `effects` in one PostgreSQL transaction with the inbox record.

    python consumer_process.py AMQP_URL DATABASE_URL SCHEMA MARKER [--hang-on SUBJECT]

With `--hang-on`, the handler writes MARKER and then hangs inside the transaction of that subject's
effect, uncommitted, so the test can kill the process mid-message.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

from sqlalchemy import MetaData, Table, insert

from devinsider.user.v1.events_pb2 import UserDeleted
from devinsider_common.consumer import ConsumerQueue, Delivery, Subscription, start_consumer_thread
from devinsider_common.db.engine import create_service_engine
from devinsider_common.outbox.envelope import unpack_payload
from devinsider_common.outbox.inbox import record_once
from devinsider_common.outbox.topology import UNLOCK, Binding
from devinsider_common.settings import BrokerSettings

QUEUE = ConsumerQueue("faults.effects", (Binding(UNLOCK, "faults.effects", ""),))


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("amqp_url", "database_url", "schema", "marker"):
        parser.add_argument(name)
    parser.add_argument("--hang-on", default="")
    args = parser.parse_args()
    engine = create_service_engine(args.database_url, args.schema)
    effects = Table("effects", MetaData(), autoload_with=engine)

    def handle(delivery: Delivery) -> bool:
        subject = unpack_payload(delivery.envelope, UserDeleted).subject
        with engine.begin() as connection:
            if not record_once(connection, QUEUE.name, delivery.message_id):
                return False
            connection.execute(insert(effects).values(subject=subject))
            if subject == args.hang_on:
                Path(args.marker).write_text(subject)
                time.sleep(3600)  # killed here, before the commit
        return True

    settings = BrokerSettings(amqp_url=args.amqp_url, consumer_prefetch=4, consumer_retry_delay_seconds=0.2)
    consumer = start_consumer_thread("faults", settings, [Subscription(QUEUE, handle)])
    assert consumer is not None
    threading.Event().wait()


if __name__ == "__main__":
    main()
