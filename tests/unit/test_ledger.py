"""The PV simulator's delivery-tag bookkeeping (pv_simulator/ledger.py), without a service or a broker."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pv_simulator.ledger import AckLedger


def delivered(ledger: AckLedger, count: int) -> None:
    for _ in range(count):
        ledger.delivered(ledger.last + 1)


def test_nothing_is_acked_before_a_flush_and_everything_flushed_after_it() -> None:
    ledger = AckLedger()
    delivered(ledger, 5)
    assert ledger.unflushed and ledger.ack() is None and not ledger.nothing_in_flight()
    ledger.flushed_all()
    assert not ledger.unflushed
    assert ledger.ack() == 5
    assert ledger.ack() is None  # acked once
    assert ledger.nothing_in_flight()


def test_a_rejected_delivery_is_never_acked_and_counts_as_settled() -> None:
    ledger = AckLedger()
    delivered(ledger, 7)
    ledger.rejected(6)
    ledger.rejected(7)  # the last two went back to the queue
    ledger.flushed_all()
    assert ledger.ack() == 5
    assert ledger.nothing_in_flight()
    delivered(ledger, 1)
    ledger.flushed_all()
    assert ledger.ack() == 8  # a multiple-ack beyond the rejected tags is fine


def test_a_dead_lettered_delivery_and_the_later_ones_wait_for_the_copy_confirm() -> None:
    ledger = AckLedger()
    delivered(ledger, 3)
    delivered(ledger, 1)
    assert ledger.published(4) == 1  # the dead-letter copy of delivery 4
    delivered(ledger, 6)
    ledger.flushed_all()
    assert ledger.ack() == 3 and ledger.in_flight == 1
    assert ledger.confirmed(1, multiple=False) == [1]
    assert ledger.ack() == 10 and ledger.in_flight == 0


def test_results_of_a_flush_hold_its_deliveries_until_published_and_confirmed() -> None:
    ledger = AckLedger()
    delivered(ledger, 4)
    ledger.flushed_all()
    assert ledger.ack() == 4
    delivered(ledger, 3)  # 5..7 close an interval
    ledger.flushed_all()
    ledger.hold_for_results()
    assert ledger.ack() is None  # results still to publish
    assert ledger.published() == 1
    ledger.results_out()
    assert ledger.ack() is None  # published, not confirmed
    delivered(ledger, 1)  # 8 arrives meanwhile: not flushed, not acked
    assert ledger.confirmed(1, multiple=True) == [1]
    assert ledger.ack() == 7


def test_a_multiple_confirm_settles_each_publish_once() -> None:
    ledger = AckLedger()
    delivered(ledger, 2)
    ledger.flushed_all()
    tags = [ledger.published() for _ in range(3)]
    assert tags == [1, 2, 3]
    assert ledger.confirmed(2, multiple=True) == [1, 2]
    assert ledger.confirmed(2, multiple=True) == []
    assert ledger.ack() is None
    assert ledger.confirmed(3, multiple=False) == [3]
    assert ledger.ack() == 2


def test_a_new_channel_starts_every_tag_again() -> None:
    ledger = AckLedger()
    delivered(ledger, 3)
    ledger.published(2)
    ledger.flushed_all()
    ledger.reset()
    assert (ledger.last, ledger.acked, ledger.flushed, ledger.publish_tag, ledger.in_flight) == (0, 0, 0, 0, 0)
    assert ledger.ack() is None and ledger.nothing_in_flight()
    assert ledger.published() == 1


def test_publishes_before_any_flush_on_a_channel_hold_every_delivery() -> None:
    ledger = AckLedger()
    ledger.published()  # a run-complete notice of a run closed from disk
    delivered(ledger, 2)
    ledger.flushed_all()
    assert ledger.ack() is None
    ledger.confirmed(1, multiple=False)
    assert ledger.ack() == 2


EVENTS = st.lists(st.one_of(
    st.just(("deliver",)), st.just(("bad",)), st.just(("reject",)), st.just(("flush",)), st.just(("ack",)),
    st.tuples(st.just("confirm"), st.integers(0, 30), st.booleans()), st.just(("publish",)),
), max_size=80)


class Model:
    """The service around a ledger, by hand: each delivery is a row (on disk at the next flush), a bad body
    (its dead letter must be confirmed) or an unexpected failure (rejected); a flush may make results due,
    published one at a time, then run-complete notices. Every ack must cover only deliveries whose row is
    durable and whose publishes are confirmed."""

    def __init__(self) -> None:
        self.ledger = AckLedger()
        self.durable: set[int] = set()
        self.rejected: set[int] = set()
        self.unconfirmed: dict[int, int] = {}  # publish tag -> first delivery it holds back
        self.to_publish = 0
        self.flush_from = 1
        self.acked = 0

    def deliver(self, kind: str) -> None:
        tag = self.ledger.last + 1
        self.ledger.delivered(tag)
        if kind == "bad":
            self.unconfirmed[self.ledger.published(tag)] = tag
        elif kind == "reject":
            self.ledger.rejected(tag)
            self.rejected.add(tag)

    def flush(self) -> None:
        if self.to_publish:
            return  # the service does not flush while the last flush's results are still to publish
        self.durable.update(range(self.ledger.flushed + 1, self.ledger.last + 1))
        self.flush_from = self.ledger.flushed + 1
        self.ledger.flushed_all()
        self.to_publish = self.ledger.last % 3  # some flushes close intervals
        if self.to_publish:
            self.ledger.hold_for_results()

    def publish(self) -> None:
        if self.to_publish:
            self.unconfirmed[self.ledger.published()] = self.flush_from
            self.to_publish -= 1
            if not self.to_publish:
                self.ledger.results_out()

    def notice(self) -> None:
        if not self.to_publish:  # run-complete notices go out once the flush's results are all published
            self.unconfirmed[self.ledger.published()] = self.flush_from

    def confirm(self, publish_tag: int, multiple: bool) -> None:
        for settled in self.ledger.confirmed(publish_tag, multiple):
            del self.unconfirmed[settled]

    def ack(self) -> None:
        upto = self.ledger.ack()
        if upto is None:
            return
        assert upto > self.acked and upto not in self.rejected
        for tag in range(self.acked + 1, upto + 1):
            assert tag in self.durable or tag in self.rejected
            assert all(tag < held for held in self.unconfirmed.values())
            assert not self.to_publish or tag < self.flush_from
        self.acked = upto


EVENTS = st.lists(st.one_of(
    st.sampled_from(["row", "bad", "reject", "flush", "publish", "notice", "ack"]),
    st.tuples(st.integers(0, 30), st.booleans()),
), max_size=80)


@settings(max_examples=300, deadline=None)
@given(EVENTS)
def test_any_interleaving_acks_only_durable_rows_with_confirmed_publishes_and_never_a_rejected_tag(
        events: list[str | tuple[int, bool]]) -> None:
    model = Model()
    for event in events:
        if isinstance(event, tuple):
            model.confirm(*event)
        elif event in ("row", "bad", "reject"):
            model.deliver(event)
        else:
            getattr(model, event)()
    ledger = model.ledger
    assert ledger.nothing_in_flight() == all(tag in model.rejected for tag in range(model.acked + 1,
                                                                                     ledger.last + 1))
