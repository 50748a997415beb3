"""Delivery-tag bookkeeping of the PV simulator's channel: which deliveries may be acknowledged.

A delivery may be acknowledged once what it stands for is safe elsewhere: its row is on
disk (written and fsynced by a flush), the dead-letter copy made of it is confirmed by
the broker, and the interval results and run-complete notices published after the flush
that wrote it are confirmed. A delivery rejected back to the queue is never acknowledged
(acking a rejected tag is a channel error). Acks are ``multiple``, up to the tag
:meth:`AckLedger.ack` returns. Pure: no broker, no clock, no I/O; one ledger per channel
(delivery and publish tags start again at 1 on each, :meth:`AckLedger.reset`).
"""

from __future__ import annotations

from common.confirms import ConfirmWaits


class AckLedger:
    """Deliveries received, flushed, rejected, and publishes waiting for confirms, on one channel.

    Tags are the broker's: delivery tags count a channel's deliveries from 1, publish
    tags (with publisher confirms) count its publishes from 1.
    """

    def __init__(self) -> None:
        self._waits = ConfirmWaits()  # publish tag -> first delivery tag its confirm holds back
        self.reset()

    def reset(self) -> None:
        """A new channel: forget every tag (the old channel's unacked deliveries come again)."""
        self.last = 0
        """Last delivery tag received."""
        self.acked = 0
        """Deliveries up to here are acknowledged (or were rejected)."""
        self.flushed = 0
        """Deliveries up to here are on disk (or rejected, or dead-lettered)."""
        self.publish_tag = 0
        """Last publish tag used."""
        self._flush_from = 1  # first delivery of the last flush: what its results and notices hold back
        self._unpublished_from: int | None = None  # the last flush's results are still to publish
        self._waits.clear()
        self._rejected: set[int] = set()

    # -- deliveries ----------------------------------------------------------------------
    def delivered(self, tag: int) -> None:
        """Delivery ``tag`` arrived (tags grow by one per delivery)."""
        self.last = tag

    def rejected(self, tag: int) -> None:
        """Delivery ``tag`` went back to the queue (``basic_reject``): it is never acknowledged."""
        self._rejected.add(tag)

    def flushed_all(self) -> None:
        """Every delivery so far is on disk: the rows written and fsynced, the run records saved."""
        self._flush_from = self.flushed + 1
        self.flushed = self.last

    @property
    def unflushed(self) -> bool:
        """Deliveries arrived since the last flush."""
        return self.last > self.flushed

    # -- publishes ---------------------------------------------------------------------
    def hold_for_results(self) -> None:
        """The last flush made results due that are not all published yet: its deliveries wait for them."""
        self._unpublished_from = self._flush_from

    def results_out(self) -> None:
        """Every result of the last flush is published (each now waits for its confirm)."""
        self._unpublished_from = None

    def published(self, delivery_tag: int | None = None) -> int:
        """One more publish on the channel; returns its publish tag.

        Its confirm holds back the ack of ``delivery_tag`` and later deliveries: the delivery
        a dead-letter copy was made of, or by default the first delivery of the last flush
        (an interval result or a run-complete notice that flush made due).
        """
        self.publish_tag += 1
        self._waits.add(self.publish_tag, self._flush_from if delivery_tag is None else delivery_tag)
        return self.publish_tag

    def confirmed(self, publish_tag: int, multiple: bool) -> list[int]:
        """The broker confirmed (or nacked) ``publish_tag`` (and every earlier one if ``multiple``).

        Returns the publish tags settled now (none if they were settled before).
        """
        return self._waits.settle(publish_tag, multiple)

    @property
    def in_flight(self) -> int:
        """Publishes not yet confirmed."""
        return len(self._waits)

    # -- acks --------------------------------------------------------------------------
    def ackable(self) -> int:
        """The highest delivery tag that may be acknowledged with ``multiple=True``: flushed, no
        publish it waits for unconfirmed or still to be made, not rejected back to the queue."""
        upto = self.flushed
        if self._unpublished_from is not None:
            upto = min(upto, self._unpublished_from - 1)
        held = self._waits.first_held()
        if held is not None:
            upto = min(upto, held - 1)
        while upto in self._rejected:
            upto -= 1
        return upto

    def ack(self) -> int | None:
        """The tag to acknowledge now with ``multiple=True`` (recorded as acknowledged), or None."""
        upto = self.ackable()
        if upto <= self.acked:
            return None
        self.acked = upto
        self._rejected = {tag for tag in self._rejected if tag > upto}
        return upto

    def nothing_in_flight(self) -> bool:
        """Every delivery received is acknowledged or was rejected back to the queue."""
        return all(tag in self._rejected for tag in range(self.acked + 1, self.last + 1))
