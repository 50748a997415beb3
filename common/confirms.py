"""Publisher-confirm bookkeeping of one channel, shared by the services.

:class:`ConfirmWatermark` (the meter): how far a channel's publishes are confirmed
without a gap. :class:`ConfirmWaits` (the PV simulator, through
:class:`~pv_simulator.ledger.AckLedger`): publishes waiting for the broker's
confirm, each holding back the acks of some deliveries; a delivery may be acked only
once the publishes standing for it (dead-letter copies, results) are confirmed.
Publish tags grow on a channel (1, 2, ...) and confirms mostly settle a prefix
(``multiple``), so waits are kept in publish order and settled from the front: a
confirm costs what it settles, not the number in flight (a scan per confirm cost
about 1 s of CPU with 14,400 results in flight). Pure: no pika, no I/O.
"""

from __future__ import annotations


class ConfirmWaits:
    """Publish tag -> the first delivery tag whose ack waits for that publish's confirm."""

    def __init__(self) -> None:
        self._waits: dict[int, int] = {}  # in publish-tag order
        self._held: dict[int, int] = {}  # delivery tag -> how many publishes hold it (few distinct tags)

    def add(self, publish_tag: int, delivery_tag: int) -> None:
        """Deliveries from ``delivery_tag`` on wait for the confirm of ``publish_tag`` (greater than any before)."""
        self._waits[publish_tag] = delivery_tag
        self._held[delivery_tag] = self._held.get(delivery_tag, 0) + 1

    def settle(self, publish_tag: int, multiple: bool) -> list[int]:
        """A confirm (or nack) of ``publish_tag`` (and every earlier one if ``multiple``); returns the tags settled."""
        if not multiple:
            return [publish_tag] if self._release(publish_tag) else []
        settled = []
        for tag in self._waits:
            if tag > publish_tag:
                break
            settled.append(tag)
        for tag in settled:
            self._release(tag)
        return settled

    def _release(self, publish_tag: int) -> bool:
        delivery_tag = self._waits.pop(publish_tag, None)
        if delivery_tag is None:
            return False
        if self._held[delivery_tag] == 1:
            del self._held[delivery_tag]
        else:
            self._held[delivery_tag] -= 1
        return True

    def first_held(self) -> int | None:
        """The smallest delivery tag held back, or None."""
        return min(self._held) if self._held else None

    def clear(self) -> None:
        """Forget every wait (the channel is gone)."""
        self._waits.clear()
        self._held.clear()

    def __len__(self) -> int:
        return len(self._waits)


class ConfirmWatermark:
    """The highest publish tag up to which every publish on a channel is confirmed.

    Confirms with ``multiple`` settle every tag up to theirs; single confirms may come out of
    order and wait beyond the watermark until the gap before them is confirmed.
    """

    def __init__(self) -> None:
        self.confirmed = 0
        """Publish tags up to here are confirmed (0: none)."""
        self._ahead: set[int] = set()  # single confirms beyond the watermark

    def settle(self, publish_tag: int, multiple: bool) -> int:
        """A confirm of ``publish_tag`` (and every earlier one if ``multiple``); returns the new watermark."""
        if multiple or publish_tag == self.confirmed + 1:
            self.confirmed = max(self.confirmed, publish_tag)
        else:
            self._ahead.add(publish_tag)
        while self.confirmed + 1 in self._ahead:
            self.confirmed += 1
        if self._ahead:
            self._ahead = {tag for tag in self._ahead if tag > self.confirmed}
        return self.confirmed

    @property
    def ahead(self) -> int:
        """Single confirms waiting beyond the watermark (for a gap before them)."""
        return len(self._ahead)

    def reset(self) -> None:
        """A new channel: its publish tags start again at 1."""
        self.confirmed = 0
        self._ahead.clear()
