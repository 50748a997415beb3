"""Publishes waiting for the broker's confirm, each holding back the acks of some deliveries.

The PV simulator publishes dead-letter copies and results; a delivery may be acked
only once the publishes standing for it are confirmed. Publish tags grow on a
channel and confirms mostly settle a prefix (``multiple``), so the waits are kept in
publish order and settled from the front: a confirm costs what it settles, not the
number in flight (a scan per confirm cost about 1 s of CPU with 14,400 results in
flight).
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
