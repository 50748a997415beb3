"""Publishes waiting for confirms (common/confirms.py)."""

from __future__ import annotations

from common.confirms import ConfirmWaits, ConfirmWatermark


def test_a_multiple_confirm_settles_every_publish_up_to_its_tag_and_frees_their_deliveries() -> None:
    waits = ConfirmWaits()
    waits.add(1, 10)
    waits.add(2, 10)
    waits.add(3, 25)
    assert waits.first_held() == 10 and len(waits) == 3
    assert waits.settle(2, multiple=True) == [1, 2]
    assert waits.first_held() == 25
    assert waits.settle(3, multiple=False) == [3]
    assert waits.first_held() is None and len(waits) == 0


def test_a_single_confirm_out_of_order_keeps_the_earlier_wait() -> None:
    waits = ConfirmWaits()
    waits.add(1, 7)
    waits.add(2, 9)
    assert waits.settle(2, multiple=False) == [2]
    assert waits.first_held() == 7
    assert waits.settle(2, multiple=False) == []  # already settled
    assert waits.settle(5, multiple=True) == [1]


def test_the_held_delivery_is_the_smallest_even_when_later_publishes_hold_earlier_deliveries() -> None:
    waits = ConfirmWaits()
    waits.add(1, 15)  # a dead letter of delivery 15
    waits.add(2, 11)  # results of a flush that covers deliveries from 11 on
    assert waits.first_held() == 11
    waits.settle(2, multiple=False)
    assert waits.first_held() == 15
    waits.clear()
    assert waits.first_held() is None


def test_the_watermark_advances_only_over_contiguous_confirms() -> None:
    watermark = ConfirmWatermark()
    assert watermark.settle(1, multiple=False) == 1
    assert watermark.settle(3, multiple=False) == 1  # out of order: 2 is still unconfirmed
    assert watermark.ahead == 1
    assert watermark.settle(2, multiple=False) == 3 and watermark.ahead == 0
    watermark.settle(6, multiple=False)
    assert watermark.settle(4, multiple=True) == 4  # 5 is still unconfirmed
    assert watermark.settle(5, multiple=False) == 6 and watermark.ahead == 0
    watermark.settle(9, multiple=False)
    assert watermark.settle(10, multiple=True) == 10 and watermark.ahead == 0  # a multiple covers 9
    watermark.reset()
    assert watermark.confirmed == 0 and watermark.settle(1, multiple=True) == 1
