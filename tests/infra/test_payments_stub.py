"""The payments stub: its API and every fault, seen by a real HTTP client over real sockets."""

from __future__ import annotations

import os
import threading
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest

from grader.infra._service import ControlError
from grader.infra._wait import wait_until
from grader.infra.payments_stub import MID_RATES, PaymentsStub, draw_rates, start_payments_stub

CHARGE = {"amount_cents": 1250, "currency": "USD", "customer_email": "ada@example.com"}


def _client(stub: PaymentsStub, timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(base_url=stub.url, timeout=timeout, trust_env=False)


def _charge(client: httpx.Client, key: str, body: dict[str, Any] | None = None) -> httpx.Response:
    return client.post("/charges", json=body or CHARGE, headers={"Idempotency-Key": key})


def test_a_charge_is_created_once_and_replayed_for_its_key(stub: PaymentsStub) -> None:
    """A new key makes a charge (201); the same key again answers 200 with the same charge."""
    with _client(stub) as client:
        first = _charge(client, "order-1")
        again = _charge(client, "order-1")
        other = _charge(client, "order-2")
    assert first.status_code == 201
    charge = first.json()
    assert charge["id"].startswith("ch_")
    assert charge == {"id": charge["id"], "status": "succeeded", "amount_cents": 1250, "currency": "USD"}
    assert (again.status_code, again.json()) == (200, charge)
    assert other.status_code == 201
    assert other.json()["id"] != charge["id"]
    stats = stub.stats()
    assert stats["charge_attempts_by_key"] == {"order-1": 2, "order-2": 1}
    assert stats["charges_created_by_key"] == {"order-1": 1, "order-2": 1}
    assert stats["responses_by_status"]["charges"] == {"201": 2, "200": 1}
    assert stats["requests"] == {"charges": 3, "cancellations": 0, "rates": 0, "notifications": 0}


@pytest.mark.parametrize(
    "body",
    [
        {"currency": "USD", "customer_email": "a@b.c"},
        {**CHARGE, "amount_cents": 0},
        {**CHARGE, "amount_cents": "12"},
        {**CHARGE, "amount_cents": True},
        {**CHARGE, "currency": 3},
        {**CHARGE, "customer_email": ""},
        [1, 2],
    ],
)
def test_a_bad_charge_body_is_422(stub: PaymentsStub, body: Any) -> None:
    """A body that is not a valid charge is answered 422 and creates nothing."""
    with _client(stub) as client:
        response = client.post("/charges", json=body, headers={"Idempotency-Key": "k"})
    assert response.status_code == 422
    assert "detail" in response.json()
    assert stub.stats()["charges_created_by_key"] == {}


def test_a_charge_without_idempotency_key_is_400(stub: PaymentsStub) -> None:
    """The Idempotency-Key header is required."""
    with _client(stub) as client:
        response = client.post("/charges", json=CHARGE)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]


def test_rates_are_the_tables_strings_and_unknown_currencies_404(stub: PaymentsStub) -> None:
    """Each known currency answers its rate of the table in force, as a string; an unknown one is 404."""
    table = stub.rates()
    assert set(table) == {"USD", *MID_RATES}
    with _client(stub) as client:
        for currency, rate in table.items():
            response = client.get(f"/rates/{currency}")
            assert (response.status_code, response.json()) == (200, {"currency": currency, "rate": rate})
        unknown = client.get("/rates/XYZ")
    assert unknown.status_code == 404
    assert "detail" in unknown.json()
    stats = stub.stats()
    assert stats["rates_by_currency"] == {**dict.fromkeys(table, 1), "XYZ": 1}
    assert stats["responses_by_status"]["rates"] == {"200": len(table), "404": 1}


def test_new_rates_come_with_a_deployments_reset_and_stay_over_a_plain_one(stub: PaymentsStub) -> None:
    """`reset(new_rates=True)` draws another table; a plain reset (a probe's, mid-deployment) keeps it."""
    first = stub.rates()
    stub.reset()
    assert stub.rates() == first
    stub.reset(new_rates=True)
    assert stub.rates() != first


@pytest.mark.parametrize("draw", ["1:0", "1:1", "42:3", "99999:7"])
def test_drawn_rates_are_realistic_and_observable_in_rounding(draw: str) -> None:
    """Every rate lies within ±8 % of its currency's mid rate, with four decimals ending in 1, 3, 7 or 9."""
    rates = draw_rates(draw)
    assert rates.pop("USD") == "1"
    for currency, rate in rates.items():
        value = Decimal(rate)
        assert abs(float(value) / MID_RATES[currency] - 1) <= 0.08, (currency, rate)
        assert value.as_tuple().exponent == -4, (currency, rate)
        assert rate[-1] in "1379", (currency, rate)


def test_drawn_rates_depend_only_on_the_seed_and_draw() -> None:
    """The same seed and draw give the same table (a grade is reproducible); another seed another table."""
    assert draw_rates("7:1") == draw_rates("7:1")
    assert draw_rates("7:1") != draw_rates("8:1")
    assert draw_rates("7:1") != draw_rates("7:2")


def test_a_seeded_stub_serves_the_seeds_table() -> None:
    """`start_payments_stub(seed)` serves the table of that seed's first draw, and `/rates` says so."""
    with start_payments_stub(seed=123) as seeded:
        assert seeded.rates() == draw_rates("123:0")
        seeded.reset(new_rates=True)
        assert seeded.rates() == draw_rates("123:1")


def test_charges_lists_every_created_charge_with_its_key(stub: PaymentsStub) -> None:
    """`charges()` lists each charge once with its key, id, amount, currency and e-mail; a replay adds none."""
    with _client(stub) as client:
        first = _charge(client, "k-1").json()
        _charge(client, "k-1")
        second = _charge(client, "k-2", {**CHARGE, "amount_cents": 99}).json()
    assert stub.charges() == [
        {"key": "k-1", **first, "customer_email": CHARGE["customer_email"]},
        {"key": "k-2", **second, "customer_email": CHARGE["customer_email"]},
    ]
    stub.reset()
    assert stub.charges() == []


def test_a_bad_reset_body_is_400(stub: PaymentsStub) -> None:
    """`POST /reset` takes nothing or {"new_rates": bool}; anything else is refused and changes nothing."""
    table = stub.rates()
    with pytest.raises(ControlError, match="400"):
        stub.control.call("POST", "/reset", {"new_rates": "yes"})
    assert stub.rates() == table


def test_notifications_are_accepted_and_recorded_per_attempt(stub: PaymentsStub) -> None:
    """Every notification attempt is recorded with its order, time, attempt number and answer."""
    before = time.time()
    with _client(stub) as client:
        for order_id in (7, 7, 8):
            response = client.post("/notifications", json={"order_id": order_id, "customer_email": "a@b.c"})
            assert (response.status_code, response.json()) == (202, {"accepted": True})
        assert client.post("/notifications", json={"customer_email": "a@b.c"}).status_code == 422
    records = stub.stats()["notifications"]
    assert [(r["order_id"], r["attempt"], r["answered_status"], r["accepted"]) for r in records] == [
        (7, 1, 202, True), (7, 2, 202, True), (8, 1, 202, True),
    ]  # fmt: skip
    assert all(before <= r["received_at"] <= time.time() for r in records)


def test_fail_first_with_503_counts_attempts_per_key(stub: PaymentsStub) -> None:
    """fail_first=2 fails the first two attempts of every key with 503, then lets it through."""
    stub.configure(charges={"fail_first": 2, "failure": "503"})
    with _client(stub) as client:
        statuses = [_charge(client, key).status_code for key in ("a", "b", "a", "a", "b", "b")]
    assert statuses == [503, 503, 503, 201, 503, 201]
    stats = stub.stats()
    assert stats["charges_created_by_key"] == {"a": 1, "b": 1}
    assert stats["charge_attempts_by_key"] == {"a": 3, "b": 3}


def test_fail_first_with_reset_is_a_transport_error(stub: PaymentsStub) -> None:
    """failure="reset" closes the connection without an answer: the client sees a transport error."""
    stub.configure(charges={"fail_first": 1, "failure": "reset"})
    with _client(stub) as client:
        with pytest.raises(httpx.TransportError):
            _charge(client, "k")
        assert _charge(client, "k").status_code == 201
    stats = stub.stats()
    assert stats["resets"]["charges"] == 1
    assert stats["charges_created_by_key"] == {"k": 1}
    assert stats["responses_by_status"]["charges"] == {"201": 1}


def test_reset_after_success_charges_but_loses_the_answer(stub: PaymentsStub) -> None:
    """reset_after_success records the charge, then resets; a retry with the key gets it replayed (200)."""
    stub.configure(charges={"fail_first": 1, "failure": "reset_after_success"})
    with _client(stub) as client:
        with pytest.raises(httpx.TransportError):
            _charge(client, "k")
        assert stub.stats()["charges_created_by_key"] == {"k": 1}
        retry = _charge(client, "k")
    assert retry.status_code == 200
    assert stub.stats()["charges_created_by_key"] == {"k": 1}


def test_fail_every_fails_each_kth_request_of_the_group(stub: PaymentsStub) -> None:
    """fail_every=3 fails the 3rd, 6th, ... request of the group, whatever the key."""
    stub.configure(rates={"fail_every": 3})
    with _client(stub) as client:
        statuses = [client.get("/rates/EUR").status_code for _ in range(7)]
        assert _charge(client, "k").status_code == 201  # other groups are unaffected
    assert statuses == [200, 200, 503, 200, 200, 503, 200]


def test_notification_failures_are_recorded_as_not_accepted(stub: PaymentsStub) -> None:
    """A failed notification attempt is recorded with its answer and accepted=false."""
    stub.configure(notifications={"fail_first": 1})
    with _client(stub) as client:
        assert client.post("/notifications", json={"order_id": 1}).status_code == 503
        assert client.post("/notifications", json={"order_id": 1}).status_code == 202
    records = stub.stats()["notifications"]
    assert [(r["attempt"], r["answered_status"], r["accepted"]) for r in records] == [
        (1, 503, False), (2, 202, True),
    ]  # fmt: skip


def test_a_hang_times_clients_out_and_the_stub_stays_responsive(stub: PaymentsStub) -> None:
    """A hung charge never answers (the client times out) while other requests are still served."""
    stub.configure(charges={"hang": True})
    with _client(stub, timeout=0.5) as hanging, _client(stub) as other:
        with pytest.raises(httpx.ReadTimeout):
            _charge(hanging, "k")
        assert other.get("/rates/EUR").status_code == 200
    wait_until(lambda: stub.stats()["hanging"] == 0, timeout=10, what="the hang to end with its client")
    stats = stub.stats()
    assert stats["charges_created_by_key"] == {}
    assert stats["responses_by_status"]["charges"] == {}


def test_hang_every_hangs_each_kth_request_of_the_group(stub: PaymentsStub) -> None:
    """hang_every=2: the 2nd and 4th charges never answer (the client times out), the 1st and 3rd are served."""
    stub.configure(charges={"hang_every": 2})
    outcomes: list[int | str] = []
    with _client(stub, timeout=2.0) as client, _client(stub) as other:
        for key in ("k1", "k2", "k3", "k4"):
            try:
                outcomes.append(_charge(client, key).status_code)
            except httpx.ReadTimeout:
                outcomes.append("timeout")
        assert other.get("/rates/EUR").status_code == 200  # other groups are unaffected
    assert outcomes == [201, "timeout", 201, "timeout"]
    wait_until(lambda: stub.stats()["hanging"] == 0, timeout=10, what="the hangs to end with their client")
    stats = stub.stats()
    assert stats["charges_created_by_key"] == {"k1": 1, "k3": 1}
    assert stats["responses_by_status"]["charges"] == {"201": 2}
    assert stats["requests"]["charges"] == 4


def test_reset_releases_hung_requests(stub: PaymentsStub) -> None:
    """A request hung when the stub is reset is released with a 503 instead of waiting 300 s."""
    stub.configure(notifications={"hang": True})
    answers: list[int] = []

    def send() -> None:
        with _client(stub, timeout=30) as client:
            answers.append(client.post("/notifications", json={"order_id": 3}).status_code)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        wait_until(lambda: stub.stats()["hanging"] == 1, timeout=10, what="the hung request")
        stub.reset()
    finally:
        sender.join(30)
    assert answers == [503]
    assert stub.config()["notifications"]["hang"] is False


def test_a_cancellation_refunds_the_charge_made_under_its_key(stub: PaymentsStub) -> None:
    """Cancelling a charged key refunds that charge, once however often it is asked; a replay shows it refunded."""
    with _client(stub) as client:
        charge = _charge(client, "k").json()
        first = client.post("/cancellations", headers={"Idempotency-Key": "k"})
        again = client.post("/cancellations", headers={"Idempotency-Key": "k"})
        replay = _charge(client, "k")
    assert first.status_code == again.status_code == 200
    assert first.json() == {"idempotency_key": "k", "status": "cancelled", "charge": {**charge, "status": "refunded"}}
    assert again.json() == first.json()
    assert (replay.status_code, replay.json()["status"]) == (200, "refunded")
    assert [record["status"] for record in stub.charges()] == ["refunded"]
    assert stub.stats()["cancelled_keys"] == ["k"]


def test_a_cancelled_key_is_never_charged_afterwards(stub: PaymentsStub) -> None:
    """A key cancelled before any charge voids it: a later charge under it is 409 and nothing is charged."""
    with _client(stub) as client:
        cancelled = client.post("/cancellations", headers={"Idempotency-Key": "k"})
        late = _charge(client, "k")
        missing = client.post("/cancellations")
    assert (cancelled.status_code, cancelled.json()["charge"]) == (200, None)
    assert late.status_code == 409
    assert missing.status_code == 400
    assert stub.stats()["charges_created_by_key"] == {}


def test_cancellations_have_faults_of_their_own(stub: PaymentsStub) -> None:
    """The cancellations group fails on its own config while charges are served."""
    stub.configure(cancellations={"fail_first": 1})
    with _client(stub) as client:
        assert _charge(client, "k").status_code == 201
        statuses = [client.post("/cancellations", headers={"Idempotency-Key": "k"}).status_code for _ in range(2)]
    assert statuses == [503, 200]
    assert stub.stats()["cancellation_attempts_by_key"] == {"k": 2}


def test_completes_late_charges_after_the_client_left(stub: PaymentsStub) -> None:
    """With completes_late, a charge whose client timed out during the latency is still made, and counted late."""
    stub.configure(charges={"latency_ms": 800, "completes_late": True})
    with _client(stub, timeout=0.2) as client, pytest.raises(httpx.ReadTimeout):
        _charge(client, "k")
    wait_until(lambda: stub.stats()["charges_in_flight"] == 0, timeout=10, what="the charge to finish")
    stats = stub.stats()
    assert stats["charges_created_by_key"] == {"k": 1}
    assert stats["late_charges"] == 1


def test_without_completes_late_the_client_leaving_cancels_the_charge(stub: PaymentsStub) -> None:
    """By default a charge whose client left during the latency is never made."""
    stub.configure(charges={"latency_ms": 800})
    with _client(stub, timeout=0.2) as client, pytest.raises(httpx.ReadTimeout):
        _charge(client, "k")
    wait_until(lambda: stub.stats()["charges_in_flight"] == 0, timeout=10, what="the charge to be dropped")
    time.sleep(0.8)  # past the latency: a charge that was not dropped would be made by now
    assert stub.stats()["charges_created_by_key"] == {}


def test_completes_late_makes_a_held_charge_when_released(stub: PaymentsStub) -> None:
    """A charge held by a hang is made when the hang is released (reconfigured), its client long gone."""
    stub.configure(charges={"hang": True, "completes_late": True})
    with _client(stub, timeout=0.3) as client, pytest.raises(httpx.ReadTimeout):
        _charge(client, "k")
    assert stub.stats()["charges_created_by_key"] == {}
    stub.configure(charges={"hang": False})
    wait_until(lambda: stub.stats()["charges_in_flight"] == 0, timeout=10, what="the released charge")
    assert stub.stats()["charges_created_by_key"] == {"k": 1}


def test_a_late_charge_under_a_cancelled_key_is_refused(stub: PaymentsStub) -> None:
    """A cancellation that overtakes a held charge wins: released afterwards, the charge is not made."""
    stub.configure(charges={"hang": True, "completes_late": True})
    with _client(stub, timeout=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            _charge(client, "k")
        assert client.post("/cancellations", headers={"Idempotency-Key": "k"}).status_code == 200
    stub.configure(charges={"hang": False})
    wait_until(lambda: stub.stats()["charges_in_flight"] == 0, timeout=10, what="the released charge")
    assert stub.stats()["charges_created_by_key"] == {}


def test_a_reset_drops_charges_still_held(stub: PaymentsStub) -> None:
    """A held late charge released by a reset is not made into the next deployment's books."""
    stub.configure(charges={"hang": True, "completes_late": True})
    with _client(stub, timeout=0.3) as client, pytest.raises(httpx.ReadTimeout):
        _charge(client, "k")
    stub.reset()
    wait_until(lambda: stub.stats()["charges_in_flight"] == 0, timeout=10, what="the released charge")
    assert stub.stats()["charges_created_by_key"] == {}


def test_latency_delays_the_answer(stub: PaymentsStub) -> None:
    """latency_ms=200 makes a request take at least 200 ms."""
    stub.configure(rates={"latency_ms": 200})
    with _client(stub) as client:
        started = time.perf_counter()
        assert client.get("/rates/GBP").status_code == 200
        assert time.perf_counter() - started >= 0.2


def test_decline_answers_402_and_charges_nothing(stub: PaymentsStub) -> None:
    """decline=true answers 402 {"detail": "card declined"} and creates no charge."""
    stub.configure(charges={"decline": True})
    with _client(stub) as client:
        response = _charge(client, "k")
    assert (response.status_code, response.json()) == (402, {"detail": "card declined"})
    assert stub.stats()["charges_created_by_key"] == {}


def test_tcp_connections_are_counted(stub: PaymentsStub) -> None:
    """One keep-alive client is one connection for ten requests; ten clients are ten connections."""
    with _client(stub) as client:
        for _ in range(10):
            assert client.get("/rates/EUR").status_code == 200
        assert stub.stats()["connections_opened"] == 1
    for _ in range(10):
        with _client(stub) as client:
            assert client.get("/rates/EUR").status_code == 200
    wait_until(lambda: stub.stats()["connections_open"] == 0, timeout=10, what="the connections to close")
    assert stub.stats()["connections_opened"] == 11


@pytest.mark.parametrize(
    ("patch", "named"),
    [
        ({"charges": {"latency": 5}}, "charges.latency"),
        ({"rates": {"decline": True}}, "rates.decline"),
        ({"refunds": {}}, "refunds"),
        ({"charges": {"failure": "timeout"}}, "charges.failure"),
        ({"charges": {"fail_first": -1}}, "charges.fail_first"),
        ({"charges": {"fail_every": 1.5}}, "charges.fail_every"),
        ({"charges": {"hang_every": True}}, "charges.hang_every"),
        ({"notifications": {"hang": "yes"}}, "notifications.hang"),
        ({"rates": {"latency_ms": "fast"}}, "rates.latency_ms"),
    ],
)
def test_bad_config_is_400_naming_the_field(stub: PaymentsStub, patch: dict[str, Any], named: str) -> None:
    """An unknown group or field, or a bad value, is refused with 400 naming it; nothing changes."""
    before = stub.config()
    with pytest.raises(ControlError, match=r"400.*" + named.replace(".", r"\.")):
        stub.configure(**patch)
    assert stub.config() == before


def test_configure_merges_and_reset_restores_defaults(stub: PaymentsStub) -> None:
    """configure merges partial configs; reset brings every default back."""
    defaults = stub.config()
    stub.configure(charges={"fail_first": 2})
    merged = stub.configure(charges={"failure": "reset"}, rates={"latency_ms": 5})
    assert merged["charges"] == {**defaults["charges"], "fail_first": 2, "failure": "reset"}
    assert merged["rates"]["latency_ms"] == 5.0
    stub.reset()
    assert stub.config() == defaults


def test_leaving_the_context_stops_the_process() -> None:
    """After the context ends no stub process is left."""
    with start_payments_stub() as stub:
        pid = stub.pid
        assert stub.stats()["connections_open"] == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
