"""Holding the orders an app answered against what the payments API really did."""

from __future__ import annotations

from typing import Any

import pytest

from grader.probes._work import attempts_of, charge_findings, orphan_charges

STATS: dict[str, Any] = {
    "charges_by_key": {
        "k1": {"id": "ch_1", "amount_cents": 1000, "currency": "USD"},
        "k2": {"id": "ch_2", "amount_cents": 2500, "currency": "USD"},
    },
    "charge_attempts_by_key": {"k1": 2, "k2": 1},
}


def order(order_id: int, payment_id: object, total: int) -> dict[str, Any]:
    return {"id": order_id, "payment_id": payment_id, "total_cents": total}


def test_orders_carrying_their_own_charges_raise_nothing() -> None:
    """Two orders, each with the charge the provider made for its total: no finding."""
    assert charge_findings([order(1, "ch_1", 1000), order(2, "ch_2", 2500)], STATS, "here") == []


@pytest.mark.parametrize(
    ("orders", "finding"),
    [
        ([order(1, "pay_made_up", 1000)], "payment id the payments API never issued"),
        ([order(1, None, 1000)], "without a payment id"),
        ([order(1, "ch_1", 999)], "another amount than their total"),
        ([order(1, "ch_1", 1000), order(2, "ch_1", 1000)], "carry a charge another order carries"),
    ],
    ids=["made-up id", "no id", "wrong amount", "shared charge"],
)
def test_work_not_done_is_a_finding(orders: list[dict[str, Any]], finding: str) -> None:
    """A made-up id, a missing id, another amount, one charge for two orders: each is named in one line."""
    findings = charge_findings(orders, STATS, "while slow")
    assert len(findings) == 1
    assert finding in findings[0]
    assert "while slow" in findings[0]


def test_a_charge_no_order_carries_is_an_orphan() -> None:
    """ch_2 was made but no order carries it: one orphan charge."""
    assert orphan_charges(STATS, ["ch_1", None]) == 1


def test_a_refunded_charge_no_order_carries_is_no_orphan() -> None:
    """A charge the app cancelled (refunded at the provider) holds no money: it is not counted."""
    refunded = {"id": "ch_2", "amount_cents": 2500, "currency": "USD", "status": "refunded"}
    stats = STATS | {"charges_by_key": {**STATS["charges_by_key"], "k2": refunded}}
    assert orphan_charges(stats, ["ch_1"]) == 0


def test_attempts_are_read_per_order_through_its_charge() -> None:
    """The order on ch_1 took 2 attempts; an order on an unknown charge shows 0."""
    assert attempts_of(STATS, [order(1, "ch_1", 1000), order(2, "nope", 5)]) == [2, 0]
