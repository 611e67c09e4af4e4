"""RabbitMQ "stopped" while users write: the transactional outbox keeps every write working and
delivers every event exactly once when the broker is back.

"Stopped" means the services' RabbitMQ proxy is cut (new connections refused, the relays'
established connections killed): the real broker, shared with other tests, keeps running, and the
test reads the queues directly from it.

The property: during the outage every write through Envoy answers 200 (the events are rows of the
company service's outbox, committed with the change); `devinsider_outbox_backlog` counts exactly
those rows while the relay cannot publish and `devinsider_outbox_failed` stays 0 (an outage delays
events, never fails them); once the proxy is restored the backlog drains to 0 and each of those
events is on its queue exactly once (by AMQP `message_id`), no duplicate and none missing.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pika
from sqlalchemy import func, select

from devinsider_common.outbox import topology
from devinsider_common.outbox.tables import PENDING, outbox_messages
from devinsider_common.testing.amqp import drain

from ..e2e.suite_stack import unique
from .support import FaultStack, eventually, outbox_gauge

COMPANIES = 12  # each write below is a company page, then an invitation to it
QUEUES = (topology.DIRECT_QUEUES[topology.ODOO_COMPANY], topology.DIRECT_QUEUES[topology.MAIL])
_o = outbox_messages.c


def _write(fault_stack: FaultStack, index: int) -> tuple[int, int]:
    """Creates a company page and invites someone to it; returns the two HTTP statuses."""
    suite = fault_stack.suite
    owner = suite.token(unique(f"owner{index}"))
    created = suite.call("POST", "/v1/companies", {"displayName": f"Outage Works {index}"}, owner)
    if created.status != 200:
        return created.status, 0
    email = f"{unique('invitee')}@example.com"
    invited = suite.call(
        "POST", f"/v1/{created.json()['name']}/invitations", {"email": email, "role": "PAGE_ROLE_EDITOR"}, owner
    )
    return created.status, invited.status


def _message_ids_on_queues(amqp_url: str) -> Counter[str]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        return Counter(str(m.properties.message_id) for queue in QUEUES for m in drain(channel, queue))
    finally:
        connection.close()


def test_writes_succeed_while_rabbitmq_is_down_and_every_event_arrives_exactly_once(fault_stack: FaultStack) -> None:
    suite, amqp = fault_stack.suite, fault_stack.proxies.amqp
    engine = suite.company.engine
    eventually(lambda: outbox_gauge("devinsider_outbox_backlog", "company") == 0, "an empty company outbox")
    with engine.connect() as connection:
        first_id = int(connection.execute(select(func.coalesce(func.max(_o.id), 0))).scalar_one()) + 1
    assert not _message_ids_on_queues(suite.broker.url)  # nothing yet

    amqp.cut()
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda i: _write(fault_stack, i), range(COMPANIES)))
    assert statuses == [(200, 200)] * COMPANIES

    # CompanyCreated + MemberAdded, InvitationSent (Odoo) + MailRequested (mail) per company: all waiting.
    with engine.connect() as connection:
        rows = connection.execute(select(_o.message_id, _o.status).where(_o.id >= first_id)).all()
    expected = {row.message_id for row in rows}
    assert len(rows) == len(expected) == 4 * COMPANIES
    assert {row.status for row in rows} == {PENDING}
    assert outbox_gauge("devinsider_outbox_backlog", "company") == 4 * COMPANIES
    assert outbox_gauge("devinsider_outbox_failed", "company") == 0
    # The relay really tried (and failed) while the broker was away, rather than just not running yet.
    eventually(
        lambda: _max_attempts(fault_stack, first_id) >= 1, "a failed publish attempt recorded on the pending rows"
    )
    assert not _message_ids_on_queues(suite.broker.url)

    amqp.restore()
    eventually(lambda: outbox_gauge("devinsider_outbox_backlog", "company") == 0, "the backlog drained")
    assert outbox_gauge("devinsider_outbox_failed", "company") == 0
    # Published rows were confirmed by the broker before being marked: everything is on the queues now.
    # Other services share the queues (the user service records the callers it meets for the first
    # time and tells Odoo), so the company's own messages are picked out by id.
    delivered = {m: n for m, n in _message_ids_on_queues(suite.broker.url).items() if m in expected}
    assert set(delivered) == expected
    assert set(delivered.values()) == {1}, [m for m, n in delivered.items() if n > 1]


def _max_attempts(fault_stack: FaultStack, first_id: int) -> int:
    with fault_stack.suite.company.engine.connect() as connection:
        query = select(func.coalesce(func.max(_o.attempts), 0)).where(_o.id >= first_id)
        return int(connection.execute(query).scalar_one())
