"""The external payments API an app depends on, with faults the grader switches on and off.

    python -m grader.infra.payments_stub --ready-file F [--seed S]

Data port (the app's `PAYMENTS_URL`):
- `POST /charges` (header `Idempotency-Key`; body {amount_cents, currency, customer_email}) → 201 a new
  charge, 200 the same charge again for a known key, 400 without the key, 422 for a bad body, 402 declined.
- `GET /rates/{currency}` → 200 {currency, rate} (rate as a string), 404 for an unknown currency. The rates
  are drawn at start and on `POST /reset {"new_rates": true}` (each deployment), from `--seed` and the
  number of draws, so a grade is reproducible and no table of rates can be written down in advance.
- `POST /cancellations` (header `Idempotency-Key`: the key of the charge to cancel) → 200 {idempotency_key,
  status: "cancelled", charge}: the charge made under that key is refunded (`charge` shows it, `status`
  "refunded"), and when none is made yet none will be (a later or still running `POST /charges` under the key
  gets 409). Idempotent: cancelling twice is cancelling once.
- `POST /notifications` (body {order_id, ...}) → 202 {"accepted": true}; every attempt is recorded.

Control port (header `x-kit-control-token` required when started by the grader; 403 without it): `GET
/health`, `GET|PUT /config`, `POST /reset`, `GET /stats`, `GET /rates` (the table in force), `GET /charges`
(every charge created, with its key), and `POST /listeners` ({"netns": PATH or null} -> {"id", "port"}: one
more data listener, made inside the network namespace at PATH, one per deployment) with `POST
/listeners/close` ({"id"}). The control API is never served on a data listener: a control path there gets
404, and it and every refused control request are counted in `/stats` `tampering`.
The config holds, per group
("charges", "cancellations", "rates", "notifications"): `latency_ms`, `hang`, `hang_every`, `fail_first`,
`fail_every`, `failure` ("503" | "reset" | "reset_after_success") and, for charges, `decline` and
`completes_late` (as a real provider does: a charge it received is made even when the client has left, and
a held one when released, instead of a 503). A request goes through:
latency, then hang (`hang`: every request; `hang_every`: every k-th of the group; held until the client
leaves, the stub is reconfigured or reset — then answered 503 — or HANG_LIMIT_S passes), then validation,
then the failure rules (`fail_first` counts attempts per key: Idempotency-Key, currency or order_id;
`fail_every` counts the group's requests), then decline, then work.

In the grader, `start_payments_stub()` runs it as a child process and yields a `PaymentsStub` handle.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import secrets
import socket
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._http11 import (
    RESET,
    Handler,
    HttpServer,
    Request,
    Reset,
    Response,
    json_response,
    require_token,
    route_requests,
)
from ._netns import NetNamespace, listener
from ._service import (
    TOKEN_HEADER,
    ControlClient,
    ServiceProcess,
    control_token,
    run_child,
    serve_until_terminated,
    start_service,
)

GROUPS = ("charges", "cancellations", "rates", "notifications")
# USD -> currency: the middle of each range a rate is drawn from (±8 %, a year's swing of a major currency).
MID_RATES = {
    "EUR": 0.92, "GBP": 0.79, "JPY": 151.0, "CHF": 0.88, "CAD": 1.36, "AUD": 1.52, "NZD": 1.65, "SEK": 10.5,
    "NOK": 10.7, "DKK": 6.9, "PLN": 4.0, "CZK": 23.0, "HUF": 360.0, "RON": 4.6, "BGN": 1.8, "ISK": 138.0,
    "TRY": 32.0, "ILS": 3.7, "ZAR": 18.5, "INR": 83.0, "CNY": 7.2, "HKD": 7.8, "SGD": 1.35, "KRW": 1350.0,
    "TWD": 32.0, "THB": 36.0, "MYR": 4.7, "IDR": 15700.0, "PHP": 56.0, "VND": 24500.0, "MXN": 17.0, "BRL": 5.0,
    "ARS": 850.0, "CLP": 930.0, "COP": 3900.0, "PEN": 3.75, "AED": 3.67, "SAR": 3.75, "QAR": 3.64, "KWD": 0.31,
    "BHD": 0.376, "OMR": 0.385, "JOD": 0.709, "EGP": 47.0, "NGN": 1500.0, "KES": 130.0, "MAD": 10.0, "PKR": 280.0,
    "BDT": 110.0, "LKR": 300.0, "UAH": 39.0, "GHS": 13.0,
}  # fmt: skip
RATE_SWING = 0.08
RATE_DECIMALS = 4
HANG_LIMIT_S = 300.0
MAX_NOTIFICATION_RECORDS = 20000
# Control paths an app has no business asking its payments provider for (GET /health it may well ask)
CONTROL_PATHS = ("/config", "/stats", "/reset", "/listeners", "/listeners/close")
REFUSED = "control request without the grader's token"

log = logging.getLogger("payments_stub")


def draw_rates(seed: str) -> dict[str, str]:
    """A table of rates, the same for the same seed: every currency of MID_RATES within its range, and USD 1.

    Four decimals whose last digit is odd and not 5 (coprime to 10): a total of an odd multiple of 50.00 USD
    then converts to an exact half cent, so the rounding mode of a conversion can be observed.
    """
    rng = random.Random(seed)
    rates = {"USD": "1"}
    scale = 10**RATE_DECIMALS
    for currency, mid in MID_RATES.items():
        low, high = round(mid * (1 - RATE_SWING) * scale), round(mid * (1 + RATE_SWING) * scale)
        units = rng.randrange(-(-low // 10), high // 10) * 10 + rng.choice((1, 3, 7, 9))  # within low..high
        rates[currency] = str(Decimal(units).scaleb(-RATE_DECIMALS))
    return rates


# --- the handle, used by the grader -------------------------------------------------------------


def live_charge_ids(stats: Mapping[str, Any]) -> set[str]:
    """The ids of the charges in a `stats()` that hold money: made, and not refunded by a cancellation."""
    charges = stats.get("charges_by_key") or {}
    return {
        str(charge["id"])
        for charge in charges.values()
        if isinstance(charge, dict) and "id" in charge and charge.get("status", "succeeded") == "succeeded"
    }


@dataclass
class PaymentsStub:
    """A running stub: apps get `url`; the grader sets faults with `configure` and reads `stats()`."""

    service: ServiceProcess
    control: ControlClient

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.service.port}"

    @property
    def pid(self) -> int:
        return self.service.pid

    def configure(self, **groups: dict[str, Any]) -> dict[str, Any]:
        """Merge e.g. `charges={"failure": "reset", "fail_first": 2}` into the config; returns all of it."""
        result: dict[str, Any] = self.control.call("PUT", "/config", groups)
        return result

    def config(self) -> dict[str, Any]:
        result: dict[str, Any] = self.control.call("GET", "/config")
        return result

    def reset(self, *, new_rates: bool = False) -> None:
        """Defaults again, counters and charges forgotten, hung requests released; rates kept unless `new_rates`.

        A fresh deployment asks for new rates; a reset of the counters while an app runs keeps the ones it
        has seen (and may have cached).
        """
        self.control.call("POST", "/reset", {"new_rates": True} if new_rates else None)

    def rates(self) -> dict[str, str]:
        """The rates `GET /rates/{currency}` answers with now (USD included)."""
        result: dict[str, str] = self.control.call("GET", "/rates")
        return result

    def charges(self) -> list[dict[str, Any]]:
        """Every charge created since the last reset: {key, id, status, amount_cents, currency, customer_email}."""
        result: list[dict[str, Any]] = self.control.call("GET", "/charges")
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.control.call("GET", "/stats")
        return result

    def tampering(self) -> dict[str, int]:
        """What was asked of the stub that is the grader's alone, counted since it started."""
        counts: dict[str, int] = self.stats()["tampering"]
        return counts

    @contextlib.contextmanager
    def data_listener(self, netns: NetNamespace | None) -> Iterator[str]:
        """A data port of its own for one deployment, inside `netns` when given; yields its URL."""
        opened = self.control.call("POST", "/listeners", {"netns": netns.path if netns is not None else None})
        try:
            yield f"http://127.0.0.1:{int(opened['port'])}"
        finally:
            self.control.call("POST", "/listeners/close", {"id": opened["id"]})

    def log_tail(self, lines: int = 40) -> str:
        return self.service.log_tail(lines)


@contextlib.contextmanager
def start_payments_stub(seed: int | str | None = None) -> Iterator[PaymentsStub]:
    """Run a stub until the context ends; its rates come from `seed` (None: a random one)."""
    args = [] if seed is None else ["--seed", str(seed)]
    with start_service(__name__, args, name="payments_stub") as service:
        control = ControlClient(service)
        try:
            yield PaymentsStub(service, control)
        finally:
            control.close()


# --- the stub itself, run in the child process ----------------------------------------------------


class GroupConfig(BaseModel):
    """The faults of one group of endpoints ("rates", "notifications"; "charges" adds `decline`)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    latency_ms: float = Field(0.0, ge=0, le=600_000)
    hang: bool = False
    hang_every: int = Field(0, ge=0)  # every k-th request of the group hangs (a share of hangs, for load scenarios)
    fail_first: int = Field(0, ge=0)
    fail_every: int = Field(0, ge=0)
    failure: Literal["503", "reset", "reset_after_success"] = "503"


class ChargesConfig(GroupConfig):
    decline: bool = False
    completes_late: bool = False  # finish what was received: after the client left, and when a hang is released


class StubConfig(BaseModel):
    """The whole config, as `GET /config` shows it and `PUT /config` merges into it."""

    model_config = ConfigDict(extra="forbid", strict=True)
    charges: ChargesConfig = ChargesConfig()
    cancellations: GroupConfig = GroupConfig()
    rates: GroupConfig = GroupConfig()
    notifications: GroupConfig = GroupConfig()


def default_config() -> dict[str, GroupConfig]:
    defaults = StubConfig()
    return {group: getattr(defaults, group) for group in GROUPS}


def merged_config(current: dict[str, GroupConfig], patch: Any) -> dict[str, GroupConfig]:
    """`current` with `patch` applied; ValueError/TypeError naming the first bad group or field."""
    if not isinstance(patch, dict):
        raise TypeError("the config must be a JSON object")
    merged = _config_json(current)
    for group, fields in patch.items():
        if group not in GROUPS:
            raise ValueError(f"unknown config group: {group}")
        if not isinstance(fields, dict):
            raise TypeError(f"{group} must be a JSON object")
        merged[group] |= fields
    try:
        config = StubConfig.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        if first["type"] == "extra_forbidden":
            raise ValueError(f"unknown config field: {where}") from None
        raise ValueError(f"{where}: {first['msg']}") from None
    return {group: getattr(config, group) for group in GROUPS}


def _config_json(config: dict[str, GroupConfig]) -> dict[str, Any]:
    return {group: settings.model_dump() for group, settings in config.items()}


Work = Callable[[], Response]


def _fail(failure: str, work: Work) -> tuple[Response | Reset, bool]:
    """Answer as `failure` says; whether the work was done."""
    if failure == "503":
        return json_response(503, {"detail": "payments service unavailable"}), False
    if failure == "reset_after_success":
        work()  # the work is done, the answer is lost
        return RESET, True
    return RESET, False


class Rejected(Exception):
    """A request that fails validation; answered with `response` after latency and hang."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def _reject(status: int, detail: str) -> Rejected:
    return Rejected(json_response(status, {"detail": detail}))


def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        raise _reject(422, "the body must be JSON") from None
    if not isinstance(body, dict):
        raise _reject(422, "the body must be a JSON object")
    return body


def _failing(config: GroupConfig, number: int, attempt: int) -> bool:
    """Whether the group's failure rules hit this request (`number` in the group, `attempt` for its key)."""
    return bool(
        (config.fail_first and attempt <= config.fail_first) or (config.fail_every and number % config.fail_every == 0)
    )


class Stub:
    """Config, counters and recorded charges and notifications of one stub process."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.rate_draws = 0
        self.rates = draw_rates(f"{seed}:0")
        self.connections_opened = 0
        self.connections_open = 0
        self.hanging = 0
        self.epoch = 0  # bumped by reset: answers to requests from before it are not counted
        self.tampering: Counter[str] = Counter()  # never reset: the grader reads it before and after
        self.charges_in_flight = 0  # POST /charges received and not yet answered or finished; never reset
        self._finishing: set[asyncio.Task[tuple[Response | Reset, bool]]] = set()  # charges completing late
        self._clear()

    def _clear(self) -> None:
        self.config = default_config()
        self.requests: Counter[str] = Counter()
        self.statuses: dict[str, Counter[str]] = {group: Counter() for group in GROUPS}
        self.resets: Counter[str] = Counter()
        self.attempts: dict[str, Counter[str]] = {group: Counter() for group in GROUPS}
        self.charges: dict[str, dict[str, Any]] = {}
        self.charges_created: Counter[str] = Counter()
        self.charge_records: list[dict[str, Any]] = []
        self.cancelled: set[str] = set()  # Idempotency-Keys no charge may be made (or kept) under
        self.late_charges = 0  # charges made after their client had left
        self.notifications: deque[dict[str, Any]] = deque(maxlen=MAX_NOTIFICATION_RECORDS)
        self.release = asyncio.Event()

    def release_hung(self) -> None:
        self.release.set()
        self.release = asyncio.Event()

    def reset(self, *, new_rates: bool = False) -> None:
        self.release_hung()
        if new_rates:
            self.rate_draws += 1
            self.rates = draw_rates(f"{self.seed}:{self.rate_draws}")
        self.epoch += 1
        self.connections_opened = 0  # connections still open stay counted as open
        self._clear()

    def reconfigure(self, patch: Any) -> None:
        self.config = merged_config(self.config, patch)
        self.release_hung()

    def stats(self) -> dict[str, Any]:
        return {
            "connections_opened": self.connections_opened,
            "connections_open": self.connections_open,
            "requests": {group: self.requests[group] for group in GROUPS},
            "responses_by_status": {group: dict(self.statuses[group]) for group in GROUPS},
            "resets": {group: self.resets[group] for group in GROUPS},
            "hanging": self.hanging,
            "charge_attempts_by_key": dict(self.attempts["charges"]),
            "charges_created_by_key": dict(self.charges_created),
            "charges_by_key": {key: dict(charge) for key, charge in self.charges.items()},  # id, status, amount...
            "charges_in_flight": self.charges_in_flight,
            "late_charges": self.late_charges,
            "cancellation_attempts_by_key": dict(self.attempts["cancellations"]),
            "cancelled_keys": sorted(self.cancelled),
            "notifications": list(self.notifications),
            "rates_by_currency": dict(self.attempts["rates"]),
            "tampering": dict(self.tampering),
        }

    def data_server(self) -> HttpServer:
        return HttpServer(self.handle, on_open=self.connection_opened, on_close=self.connection_closed)

    # connections

    def connection_opened(self) -> None:
        self.connections_opened += 1
        self.connections_open += 1

    def connection_closed(self) -> None:
        self.connections_open -= 1

    # the data API

    async def handle(self, request: Request) -> Response | Reset:
        route = (request.method, request.path)
        if request.path in CONTROL_PATHS:
            self.tampering[f"{request.method} {request.path} on a data port"] += 1
            return json_response(404, {"detail": "Not Found"})
        if route == ("POST", "/charges"):
            return await self._serve("charges", request, self._charge)
        if route == ("POST", "/cancellations"):
            return await self._serve("cancellations", request, self._cancel)
        if request.method == "GET" and request.path.startswith("/rates/"):
            return await self._serve("rates", request, self._rate)
        if route == ("POST", "/notifications"):
            return await self._serve("notifications", request, self._notification)
        return json_response(404, {"detail": "Not Found"})

    async def _serve(
        self, group: str, request: Request, prepare: Callable[[Request], tuple[str, Work]]
    ) -> Response | Reset:
        """Count the request, apply the group's faults around its work, record what was answered."""
        received_at = time.time()
        epoch = self.epoch
        config = self.config[group]
        self.requests[group] += 1
        number = self.requests[group]
        record: dict[str, Any] | None = None
        try:
            key, work = prepare(request)
        except Rejected as exc:
            outcome = await self._faulty(config, number, 0, exc.response, epoch)
        else:
            self.attempts[group][key] += 1
            attempt = self.attempts[group][key]
            if group == "notifications":
                record = {"order_id": int(key), "received_at": received_at, "attempt": attempt,
                          "answered_status": None, "accepted": False}  # fmt: skip
                self.notifications.append(record)
            if group == "charges":
                outcome = await self._charging(config, number, attempt, work, epoch)
            else:
                outcome = await self._faulty(config, number, attempt, work, epoch)
        answer, worked = outcome
        if epoch != self.epoch:
            return answer
        if isinstance(answer, Reset):
            self.resets[group] += 1
        else:
            self.statuses[group][str(answer.status)] += 1
        if record is not None:
            record["answered_status"] = None if isinstance(answer, Reset) else answer.status
            record["accepted"] = worked
        return answer

    async def _charging(
        self, config: GroupConfig, number: int, attempt: int, work: Work, epoch: int
    ) -> tuple[Response | Reset, bool]:
        """`_faulty` for a charge, counted while it runs; with `completes_late` it finishes when its client left."""
        self.charges_in_flight += 1
        task = asyncio.ensure_future(self._faulty(config, number, attempt, work, epoch))
        task.add_done_callback(self._charge_finished)
        if not (isinstance(config, ChargesConfig) and config.completes_late):
            return await task  # the client leaving cancels the charge with it
        self._finishing.add(task)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(lambda done: self._finished_late(done, epoch))
            raise

    def _charge_finished(self, task: asyncio.Task[tuple[Response | Reset, bool]]) -> None:
        self.charges_in_flight -= 1
        self._finishing.discard(task)

    def _finished_late(self, task: asyncio.Task[tuple[Response | Reset, bool]], epoch: int) -> None:
        if not task.cancelled() and task.exception() is None and task.result()[1] and epoch == self.epoch:
            self.late_charges += 1

    async def _faulty(
        self, config: GroupConfig, number: int, attempt: int, work: Work | Response, epoch: int
    ) -> tuple[Response | Reset, bool]:
        """The answer after latency, hang and failure rules, and whether the work was done.

        `work` is a ready Response for a request that failed validation: it gets the latency and the
        hang, not the failure rules (it has no key to count attempts by). Work from before a reset is
        never done (it would land in the counters of the next deployment).
        """
        if config.latency_ms > 0:
            await asyncio.sleep(config.latency_ms / 1000)
        if config.hang or (config.hang_every and number % config.hang_every == 0):
            await self._hang()
            if not (isinstance(config, ChargesConfig) and config.completes_late):
                return json_response(503, {"detail": "released from a hang"}), False
        if isinstance(work, Response):
            return work, False
        if epoch != self.epoch:
            return json_response(503, {"detail": "the payments API was reset"}), False
        if _failing(config, number, attempt):
            return _fail(config.failure, work)
        if isinstance(config, ChargesConfig) and config.decline:
            return json_response(402, {"detail": "card declined"}), False
        return work(), True

    async def _hang(self) -> None:
        release = self.release
        self.hanging += 1
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(release.wait(), HANG_LIMIT_S)
        finally:
            self.hanging -= 1

    def _charge(self, request: Request) -> tuple[str, Work]:
        key = request.headers.get("idempotency-key", "")
        if not key:
            raise _reject(400, "the Idempotency-Key header is required")
        body = _json_object(request)
        amount, currency, email = body.get("amount_cents"), body.get("currency"), body.get("customer_email")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise _reject(422, "amount_cents must be a positive integer")
        if not isinstance(currency, str) or not currency:
            raise _reject(422, "currency must be a non-empty string")
        if not isinstance(email, str) or not email:
            raise _reject(422, "customer_email must be a non-empty string")

        def work() -> Response:
            known = self.charges.get(key)
            if known is not None:
                return json_response(200, known)  # a replay: the same charge, not a new one
            if key in self.cancelled:
                return json_response(409, {"detail": "the charge under this Idempotency-Key was cancelled"})
            charge = {"id": f"ch_{secrets.token_hex(12)}", "status": "succeeded",
                      "amount_cents": amount, "currency": currency}  # fmt: skip
            self.charges[key] = charge
            self.charge_records.append({"key": key, **charge, "customer_email": email})
            self.charges_created[key] += 1
            return json_response(201, charge)

        return key, work

    def _cancel(self, request: Request) -> tuple[str, Work]:
        key = request.headers.get("idempotency-key", "")
        if not key:
            raise _reject(400, "the Idempotency-Key header of the charge to cancel is required")

        def work() -> Response:
            self.cancelled.add(key)
            charge = self.charges.get(key)
            if charge is not None and charge["status"] == "succeeded":
                charge["status"] = "refunded"
                for record in self.charge_records:
                    if record["key"] == key:
                        record["status"] = "refunded"
            answer = {"idempotency_key": key, "status": "cancelled", "charge": charge}
            return json_response(200, answer)

        return key, work

    def _rate(self, request: Request) -> tuple[str, Work]:
        currency = request.path.removeprefix("/rates/")

        def work() -> Response:
            rate = self.rates.get(currency)
            if rate is None:
                return json_response(404, {"detail": f"unknown currency: {currency}"})
            return json_response(200, {"currency": currency, "rate": rate})

        return currency, work

    def _notification(self, request: Request) -> tuple[str, Work]:
        body = _json_object(request)
        order_id = body.get("order_id")
        if isinstance(order_id, bool) or not isinstance(order_id, int):
            raise _reject(422, "order_id must be an integer")
        key = str(order_id)

        def work() -> Response:
            return json_response(202, {"accepted": True})

        return key, work


def _control_routes(stub: Stub) -> dict[tuple[str, str], Callable[[Request], Response]]:
    def put_config(request: Request) -> Response:
        try:
            stub.reconfigure(request.json())
        except (TypeError, ValueError) as exc:
            return json_response(400, {"detail": str(exc)})
        log.info("config: %s", _config_json(stub.config))
        return json_response(200, _config_json(stub.config))

    def reset(request: Request) -> Response:
        try:
            options = request.json() if request.body else {}
        except ValueError:
            options = None
        if not isinstance(options, dict) or not isinstance(options.get("new_rates", False), bool):
            return json_response(400, {"detail": 'the body must be empty or {"new_rates": true|false}'})
        stub.reset(new_rates=options.get("new_rates", False))
        log.info("reset%s", " with new rates" if options.get("new_rates") else "")
        return json_response(200, {"status": "reset"})

    return {
        ("GET", "/health"): lambda _: json_response(200, {"status": "ok"}),
        ("GET", "/stats"): lambda _: json_response(200, stub.stats()),
        ("GET", "/config"): lambda _: json_response(200, _config_json(stub.config)),
        ("PUT", "/config"): put_config,
        ("POST", "/reset"): reset,
        ("GET", "/rates"): lambda _: json_response(200, stub.rates),
        ("GET", "/charges"): lambda _: json_response(200, stub.charge_records),
    }


class Listeners:
    """The data listeners added for deployments, each inside a network namespace of its own."""

    def __init__(self, stub: Stub) -> None:
        self.stub = stub
        self.servers: dict[int, HttpServer] = {}
        self._next = 1

    async def open(self, request: Request) -> Response:
        try:
            path = request.json()["netns"]
        except (ValueError, KeyError, TypeError) as exc:
            return json_response(400, {"detail": f"expected {{netns: path or null}}: {exc}"})
        if path is not None and not isinstance(path, str):
            return json_response(400, {"detail": "netns must be a path or null"})
        try:
            sock: socket.socket = listener(path)
        except OSError as exc:
            return json_response(400, {"detail": f"no listener in {path}: {exc}"})
        server = self.stub.data_server()
        port = await server.start(sock=sock)
        number, self._next = self._next, self._next + 1
        self.servers[number] = server
        log.info("data listener %s on %s (namespace %s)", number, port, path)
        return json_response(200, {"id": number, "port": port})

    def close(self, request: Request) -> Response:
        try:
            server = self.servers.pop(int(request.json()["id"]))
        except (ValueError, KeyError, TypeError):
            return json_response(404, {"detail": "no such listener"})
        server.close()
        return json_response(200, {"closed": True})

    def close_all(self) -> None:
        for server in self.servers.values():
            server.close()
        self.servers.clear()


def _control_handler(stub: Stub, listeners: Listeners) -> Handler:
    routes = route_requests({**_control_routes(stub), ("POST", "/listeners/close"): listeners.close})

    async def handler(request: Request) -> Response | Reset:
        if (request.method, request.path) == ("POST", "/listeners"):
            return await listeners.open(request)
        return await routes(request)

    def refused(request: Request) -> None:
        stub.tampering[REFUSED] += 1
        log.warning("refused %s %s: no token", request.method, request.path)

    return require_token(handler, TOKEN_HEADER, control_token(), refused)


async def _serve(ready_file: str, seed: str) -> None:
    stub = Stub(seed)
    listeners = Listeners(stub)
    data = stub.data_server()
    control = HttpServer(_control_handler(stub, listeners))
    try:
        port = await data.start()
        control_port = await control.start()
        log.info("listening on %s, control on %s", port, control_port)
        await serve_until_terminated(ready_file, {"port": port, "control_port": control_port})
    finally:
        data.close()
        listeners.close_all()
        control.close()
        stub.release_hung()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grader.infra.payments_stub")
    parser.add_argument("--ready-file", required=True, help="where to write {port, control_port, pid}")
    parser.add_argument("--seed", default=None, help="seed of the exchange rates (default: a random one)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    run_child(_serve(args.ready_file, args.seed if args.seed is not None else secrets.token_hex(8)))


if __name__ == "__main__":
    main()
