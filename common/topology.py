"""Names and declarations of the AMQP topology; both services declare it, so start order does not matter.

::

    meter --(meter.<id>.reading, meter.<id>.end)--> [pvsim: topic exchange]
        --(meter.*.reading, meter.*.end)--> (pvsim.pv_simulator: quorum queue) --> PV simulator
    rejected / over delivery limit --> [pvsim.dead_letter: fanout] --> (pvsim.dead_letter queue, capped)
    PV simulator --(result.<id>.interval, result.<id>.run)--> [pvsim.results: topic exchange] --> consumers' queues

Declarations are idempotent: the same names and arguments every time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pika.channel import Channel
from pika.exceptions import ChannelClosedByBroker

from common.schema import MAX_BODY_BYTES, InvalidMessage

log = logging.getLogger(__name__)

EXCHANGE = "pvsim"
QUEUE = "pvsim.pv_simulator"
DEAD_LETTER_EXCHANGE = "pvsim.dead_letter"
DEAD_LETTER_QUEUE = "pvsim.dead_letter"
READING_BINDING = "meter.*.reading"
END_BINDING = "meter.*.end"
DELIVERY_LIMIT = 20
"""Deliveries of one message before the quorum queue dead-letters it (RabbitMQ 4's default)."""

RESULTS_EXCHANGE = "pvsim.results"
"""Durable topic exchange of the PV simulator's live results (interval means, run completion)."""
INTERVAL_BINDING = "result.*.interval"
RUN_BINDING = "result.*.run"

EXCHANGE_TYPES = {EXCHANGE: "topic", DEAD_LETTER_EXCHANGE: "fanout", RESULTS_EXCHANGE: "topic"}
"""Each exchange and its type, all durable, in the order they are declared."""

REASON_HEADER = "x-pvsim-reason"
"""Header naming why the PV simulator dead-lettered a message."""
ROUTING_KEY_HEADER = "x-pvsim-routing-key"
"""Header holding a dead letter's original routing key."""
BODY_BYTES_HEADER = "x-pvsim-body-bytes"
"""Header holding the size of the body a dead letter was made from [bytes]."""
TRUNCATED_HEADER = "x-pvsim-truncated"
"""Header set (true) on a dead letter that holds only the first ``DEAD_LETTER_COPY_BYTES`` of its body."""
REJECTED_AT_HEADER = "x-pvsim-rejected-at"
"""Header holding when the PV simulator dead-lettered a message (UTC ISO 8601, seconds)."""
DEATH_HEADER = "x-death"
"""RabbitMQ's header on a message the broker dead-lettered (over the delivery limit): a list of tables
whose first holds ``routing-keys``, the message's original routing keys."""
FIRST_DEATH_REASON_HEADER = "x-first-death-reason"
"""RabbitMQ's header saying why the broker first dead-lettered a message (``delivery_limit``, ``rejected``)."""

DEAD_LETTER_COPY_BYTES = 4096
"""What a dead letter keeps of a body over the contract's ``MAX_BODY_BYTES`` [bytes]: enough to see what
it was, never the whole of a multi-megabyte body (three 60 MB bodies once took 231 MB of queue)."""
DEAD_LETTER_MAX_BYTES = 32 * 1024 * 1024
"""Cap of the dead-letter queue's message bodies (``x-max-length-bytes``) [bytes]: 512 dead letters of the
largest valid size, about 8,000 truncated ones. Beyond it the oldest are dropped (``drop-head``): the
newest say what is wrong now, and ``reject-publish`` would nack the PV simulator's copy, so it would
redeliver the bad message forever instead of going on."""


def dead_letter_copy(body: bytes) -> tuple[bytes, dict[str, int | bool]]:
    """The body a dead letter carries and the headers describing it.

    Parameters
    ----------
    body : bytes
        The body of the message being dead-lettered.

    Returns
    -------
    tuple[bytes, dict[str, int | bool]]
        ``body`` itself when it is at most ``MAX_BODY_BYTES`` (so it can be replayed), else its
        first ``DEAD_LETTER_COPY_BYTES``; and the headers ``BODY_BYTES_HEADER`` (the original size)
        and, when cut, ``TRUNCATED_HEADER``.
    """
    if len(body) <= MAX_BODY_BYTES:
        return body, {BODY_BYTES_HEADER: len(body)}
    return body[:DEAD_LETTER_COPY_BYTES], {BODY_BYTES_HEADER: len(body), TRUNCATED_HEADER: True}


def reading_routing_key(meter_id: str) -> str:
    """Routing key of a reading: ``meter.<meter_id>.reading``."""
    return f"meter.{meter_id}.reading"


def end_routing_key(meter_id: str) -> str:
    """Routing key of an end-of-run announcement: ``meter.<meter_id>.end``."""
    return f"meter.{meter_id}.end"


def interval_routing_key(meter_id: str) -> str:
    """Routing key of an interval result: ``result.<meter_id>.interval``."""
    return f"result.{meter_id}.interval"


def run_routing_key(meter_id: str) -> str:
    """Routing key of a run-complete notice: ``result.<meter_id>.run``."""
    return f"result.{meter_id}.run"


def is_reading_key(routing_key: str) -> bool:
    """Whether ``routing_key`` is a reading's (``meter.<id>.reading``; the PV queue's bindings let only
    ``meter.*.reading`` and ``meter.*.end`` in)."""
    return routing_key.endswith(".reading")


def is_end_key(routing_key: str) -> bool:
    """Whether ``routing_key`` is an end-of-run announcement's (``meter.<id>.end``)."""
    return routing_key.endswith(".end")


def is_interval_key(routing_key: str) -> bool:
    """Whether ``routing_key`` is an interval result's (``result.<id>.interval``)."""
    return routing_key.startswith("result.") and routing_key.endswith(".interval")


def is_run_key(routing_key: str) -> bool:
    """Whether ``routing_key`` is a run-complete notice's (``result.<id>.run``)."""
    return routing_key.startswith("result.") and routing_key.endswith(".run")


def check_meter_word(routing_key: str, meter_id: str) -> None:
    """Check that a body's ``meter_id`` is its routing key's meter word (``meter.<id>.reading``, ``result.<id>.run``).

    Raises
    ------
    InvalidMessage
        If the key has not three words or its second is not ``meter_id``: the message is dead-lettered,
        never written under the body's id (keys appear in the reason through ``repr``, so a key with a
        newline or a terminal escape cannot forge a log line).
    """
    words = routing_key.split(".")
    if len(words) != 3 or words[1] != meter_id:
        raise InvalidMessage(f"meter_id {meter_id!r} is not the meter word of the routing key {routing_key!r}")


@dataclass(frozen=True)
class QueueSpec:
    """A durable queue and its bindings to an exchange."""

    name: str
    exchange: str
    bindings: tuple[str, ...]
    arguments: dict[str, object] = field(default_factory=dict)


def queue_type_arguments(queue_type: str) -> dict[str, object]:
    """Arguments of a plain queue of ``queue_type`` (``quorum``, ``classic``), as the bare-broker floor uses."""
    return {"x-queue-type": queue_type}


def quorum_arguments(extra: dict[str, object]) -> dict[str, object]:
    """Arguments of a quorum queue whose messages go to ``pvsim.dead_letter`` after ``DELIVERY_LIMIT``
    deliveries, followed by the queue's own ``extra`` arguments."""
    return {
        **queue_type_arguments("quorum"),
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        **extra,
    }


PV_QUEUE = QueueSpec(
    name=QUEUE,
    exchange=EXCHANGE,
    bindings=(READING_BINDING, END_BINDING),
    arguments=quorum_arguments({"x-single-active-consumer": True}),
)
DEAD_LETTER = QueueSpec(
    name=DEAD_LETTER_QUEUE,
    exchange=DEAD_LETTER_EXCHANGE,
    bindings=("",),
    arguments={**queue_type_arguments("quorum"), "x-max-length-bytes": DEAD_LETTER_MAX_BYTES,
               "x-overflow": "drop-head"},
)
"""The dead-letter queue. A broker that has it from a version without the cap refuses the declaration
(PRECONDITION_FAILED, inequivalent arg 'x-max-length-bytes'): the services then use the old queue as it is
and warn once (:func:`warn_uncapped`); Wire contract, Migrating, says how to replace it."""


def results_queue(name: str, expires_s: int) -> QueueSpec:
    """A consumer's queue of the PV simulator's live results (the web service's): ``name`` (each consumer its
    own: consumers of one queue share its messages), bound to every interval result and run-complete notice,
    dead-lettered like the PV queue, and deleted by the broker after ``expires_s`` [s] without a consumer
    (``x-expires``)."""
    return QueueSpec(
        name=name,
        exchange=RESULTS_EXCHANGE,
        bindings=(INTERVAL_BINDING, RUN_BINDING),
        arguments=quorum_arguments({"x-expires": expires_s * 1000}),
    )


UNCAPPED_MIGRATION = (
    "list or replay what it holds (python -m pv_simulator.dead_letters), "
    f"rabbitmqctl delete_queue {DEAD_LETTER_QUEUE}, restart (docs/wire-contract.md, Migrating)"
)
"""How to replace an uncapped dead-letter queue by the capped one."""
_warned: set[str] = set()


def warn_uncapped(refusal: str) -> None:
    """Log, once per process, that the dead-letter queue in use is an earlier version's, without the cap.

    Parameters
    ----------
    refusal : str
        The broker's reply to the capped declaration (``PRECONDITION_FAILED - inequivalent arg ...``).
    """
    if DEAD_LETTER_QUEUE in _warned:
        return
    _warned.add(DEAD_LETTER_QUEUE)
    log.warning("the broker's %s predates the cap (%s): using it as it is, UNCAPPED (bad messages can fill "
                "the broker); to migrate: %s", DEAD_LETTER_QUEUE, refusal, UNCAPPED_MIGRATION)


def declare(channel: Channel, on_done: Callable[[], None],
            on_uncapped: Callable[[str], None] = warn_uncapped) -> None:
    """Declare exchanges, queues and bindings on an async ``channel``; call ``on_done`` after.

    Any mismatch with an existing declaration of the exchanges or of the PV simulator's queue closes
    the channel (PRECONDITION_FAILED). The dead-letter queue is declared on a channel of its own: if the
    broker refuses it as declared without the cap (an earlier version's), the existing queue is used
    as it is (declared passively) and ``on_uncapped`` is called with the broker's reply.
    """
    steps: list[Callable[..., object]] = [
        partial(channel.exchange_declare, name, kind, durable=True) for name, kind in EXCHANGE_TYPES.items()]
    for spec in (PV_QUEUE, DEAD_LETTER):
        if spec is DEAD_LETTER:
            steps.append(partial(_declare_dead_letter_queue, channel, on_uncapped))
        else:
            steps.append(partial(channel.queue_declare, spec.name, durable=True, arguments=spec.arguments))
        steps.extend(partial(channel.queue_bind, spec.name, spec.exchange, routing_key=key) for key in spec.bindings)

    def run(index: int) -> None:
        if index == len(steps):
            on_done()
            return
        steps[index](callback=lambda _frame: run(index + 1))

    run(0)


def _declare_dead_letter_queue(channel: Channel, on_uncapped: Callable[[str], None],
                               callback: Callable[[Any], None]) -> None:
    """Declare the dead-letter queue on a side channel of ``channel``'s connection, then call ``callback``.

    A 406 (the queue exists with other arguments) closes only the side channel: the queue is then declared
    passively on another one. Any other refusal, or a refused passive declaration, declares it capped on
    ``channel`` itself, which fails as it always did (the service's channel handling reports it).
    """
    connection = channel.connection
    settled = {"done": False}

    def on_main() -> None:
        if connection.is_open and channel.is_open:
            channel.queue_declare(DEAD_LETTER.name, durable=True, arguments=DEAD_LETTER.arguments, callback=callback)

    def declared(side: Channel, frame: Any) -> None:
        settled["done"] = True
        side.close()
        callback(frame)

    def capped(side: Channel) -> None:
        side.add_on_close_callback(refused)
        side.queue_declare(DEAD_LETTER.name, durable=True, arguments=DEAD_LETTER.arguments,
                           callback=lambda frame: declared(side, frame))

    def refused(_side: Channel, reason: BaseException) -> None:
        if settled["done"] or not connection.is_open:
            return
        if isinstance(reason, ChannelClosedByBroker) and reason.reply_code == 406:
            on_uncapped(f"{reason.reply_code} {reason.reply_text}")
            connection.channel(on_open_callback=passive)
        else:
            on_main()

    def passive(side: Channel) -> None:
        side.add_on_close_callback(lambda _side, _reason: None if settled["done"] else on_main())
        side.queue_declare(DEAD_LETTER.name, passive=True, callback=lambda frame: declared(side, frame))

    connection.channel(on_open_callback=capped)
