"""The grader's load generator: a Locust file, run headless alone or as a master with workers.

Every request's latency goes into HDR histograms (microseconds) through Locust's request event, keyed
by (second of completion, endpoint, started in warm-up). Workers send what they recorded to the master
with each report, so the master holds it all, whatever machine a worker runs on; the master (or the
lone process) writes it to `--kit-out` at the end and a progress line to `--kit-progress` each second.

Two user classes: `ClosedUser` (a user sends a request, waits for the answer, sends the next) and
`ArrivalUser` (an open model: requests are sent on a fixed schedule whatever the server does, and
latency counts from each request's intended start, so a stalled server cannot hide its tail).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import gevent
import gevent.pool
from hdrh.histogram import HdrHistogram
from locust import FastHttpUser, LoadTestShape, events, task
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from grader import kitdata
from grader.load import _hdr
from grader.load.scenario import LATE_MS

NETWORK_TIMEOUT_S = 30.0


@dataclass
class Bucket:
    histogram: HdrHistogram = field(default_factory=_hdr.new)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: int = 0


class Recorder:
    """What one process saw; on the master, also what its workers sent."""

    def __init__(self) -> None:
        self.spec: dict[str, Any] = {}
        self.t0: float | None = None  # wall clock at the test's start, in this process
        self.buckets: dict[tuple[int, str, bool], Bucket] = {}
        self.schedule: Counter[str] = Counter()  # open model: arrivals due, late, waiting for a slot
        self.max_lag_ms = 0.0

    def start(self, spec: dict[str, Any]) -> None:
        self.spec, self.t0 = spec, time.time()

    def record(self, name: str, started: float, latency_ms: float, status: str, error: bool) -> None:
        if self.t0 is None:
            return
        second = max(0, int(time.time() - self.t0))
        warmup = started - self.t0 < self.spec["warmup_s"]
        bucket = self.buckets.setdefault((second, name, warmup), Bucket())
        _hdr.record_ms(bucket.histogram, latency_ms)
        bucket.statuses[status] += 1
        bucket.errors += error

    def drain(self) -> dict[str, Any]:
        """Everything recorded since the last drain, encoded; the recorder starts empty again."""
        buckets, self.buckets = self.buckets, {}
        schedule, self.schedule = self.schedule, Counter()
        lag, self.max_lag_ms = self.max_lag_ms, 0.0
        return {
            "buckets": [
                {
                    "s": s,
                    "name": name,
                    "warmup": warmup,
                    "hdr": _hdr.encode(b.histogram),
                    "statuses": dict(b.statuses),
                    "errors": b.errors,
                }
                for (s, name, warmup), b in buckets.items()
            ],
            "schedule": dict(schedule),
            "max_lag_ms": lag,
        }

    def absorb(self, data: dict[str, Any]) -> None:
        for item in data["buckets"]:
            bucket = self.buckets.setdefault((item["s"], item["name"], item["warmup"]), Bucket())
            bucket.histogram.decode_and_add(item["hdr"].encode("ascii"))
            bucket.statuses.update(item["statuses"])
            bucket.errors += item["errors"]
        self.schedule.update(data["schedule"])
        self.max_lag_ms = max(self.max_lag_ms, data["max_lag_ms"])

    def progress(self) -> dict[str, Any]:
        measured = _hdr.new()
        done = 0
        for (_, _, warmup), bucket in self.buckets.items():
            done += bucket.histogram.get_total_count()
            if not warmup:
                measured.add(bucket.histogram)
        elapsed = time.time() - (self.t0 or time.time())
        p95 = measured.get_value_at_percentile(95) / 1000 if measured.get_total_count() else None
        return {"elapsed_s": round(elapsed, 1), "requests": done, "p95_ms": p95}


RECORDER = Recorder()
_user_numbers = itertools.count()


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    parser.add_argument("--kit-spec", default="", help="the scenario, as JSON", include_in_web_ui=False)
    parser.add_argument("--kit-out", default="", help="where the master writes the histograms", include_in_web_ui=False)
    parser.add_argument("--kit-progress", default="", help="where the master appends progress", include_in_web_ui=False)


@events.test_start.add_listener
def _started(environment: Environment, **_: Any) -> None:
    assert environment.parsed_options is not None
    RECORDER.start(json.loads(environment.parsed_options.kit_spec))
    if not isinstance(environment.runner, WorkerRunner) and environment.parsed_options.kit_progress:
        gevent.spawn(_write_progress, environment.parsed_options.kit_progress)


def _write_progress(path: str) -> None:
    while True:
        gevent.sleep(1.0)
        with open(path, "a") as file:
            file.write(json.dumps(RECORDER.progress()) + "\n")


@events.request.add_listener
def _on_request(  # noqa: PLR0917  # the request event's signature is Locust's
    name: str, response_time: float, response: Any, context: dict[str, Any], exception: Any, start_time: float,
    **_: Any,
) -> None:  # fmt: skip
    intended = context.get("kit_intended")
    latency_ms = (time.perf_counter() - intended) * 1000 if intended is not None else response_time
    started = context.get("kit_intended_wall", start_time)
    status = getattr(response, "status_code", 0) or 0
    shown = str(status) if status else "error"
    RECORDER.record(name, started, latency_ms, shown, status not in context.get("kit_expect", (200,)))


@events.report_to_master.add_listener
def _report(client_id: str, data: dict[str, Any]) -> None:
    data["kit"] = RECORDER.drain()


@events.worker_report.add_listener
def _absorb(client_id: str, data: dict[str, Any]) -> None:
    if "kit" in data:
        RECORDER.absorb(data["kit"])


@events.quitting.add_listener
def _write_out(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if isinstance(environment.runner, WorkerRunner) or options is None or not options.kit_out:
        return
    if isinstance(environment.runner, MasterRunner):
        gevent.sleep(0.5)  # the workers' final reports are already sent; let them land
    data = RECORDER.drain()
    data["t0"] = RECORDER.t0
    with open(options.kit_out + ".part", "w") as file:
        json.dump(data, file)
    os.replace(options.kit_out + ".part", options.kit_out)


class Requests:
    """Draws requests from a scenario's weighted mix, filling placeholders from the seed's known rows."""

    def __init__(self, spec: dict[str, Any], rng: random.Random) -> None:
        self.rng = rng
        self.templates = spec["requests"]
        self.cumulative = list(itertools.accumulate(t["weight"] for t in self.templates))

    def _product(self) -> int:
        while not kitdata.in_stock(product := self.rng.randint(1, kitdata.PRODUCTS)):
            pass
        return product

    def _email(self) -> str:
        return f"customer{self.rng.randint(1, kitdata.SEEDED_CUSTOMERS)}@example.com"

    def next(self) -> tuple[dict[str, Any], str, dict[str, Any]]:
        """(template, path, request keyword arguments)."""
        template = self.rng.choices(self.templates, cum_weights=self.cumulative)[0]
        path = template["path"].format_map(_Lazy(self))
        kwargs: dict[str, Any] = {}
        if template["body"] == "order":
            products = {self._product() for _ in range(self.rng.randint(1, 3))}
            kwargs["json"] = {"customer_email": self._email(),
                              "items": [{"product_id": p, "quantity": 1} for p in sorted(products)]}  # fmt: skip
        if template["api_key"]:
            kwargs["headers"] = {"X-API-Key": kitdata.API_KEY}
        return template, path, kwargs


class _Lazy(dict[str, Any]):
    """Placeholder values made only when a path asks for them."""

    def __init__(self, requests: Requests) -> None:
        super().__init__()
        self.requests = requests

    def __missing__(self, key: str) -> Any:
        rng = self.requests.rng
        make = {
            "product_id": self.requests._product,
            "order_id": lambda: rng.randint(1, kitdata.SEEDED_ORDERS),
            "email": self.requests._email,
            "category": lambda: rng.choice(kitdata.CATEGORIES),
            "offset": lambda: 20 * rng.randint(0, 25),
        }[key]
        return make()


class _KitUser(FastHttpUser):
    abstract = True
    network_timeout = NETWORK_TIMEOUT_S
    connection_timeout = NETWORK_TIMEOUT_S

    def on_start(self) -> None:
        seed = f"{RECORDER.spec['seed']}-{os.getpid()}-{next(_user_numbers)}"
        self.mix = Requests(RECORDER.spec, random.Random(seed))

    def send(self, intended: float | None = None) -> None:
        """One request from the mix; a request cut off by the end of the run is recorded as unfinished."""
        template, path, kwargs = self.mix.next()
        context: dict[str, Any] = {"kit_expect": tuple(template["expect"])}
        started_wall, started = time.time(), time.perf_counter()
        if intended is not None:
            context["kit_intended"] = intended
            context["kit_intended_wall"] = started_wall - (started - intended)
        try:
            self.client.request(template["method"], path, name=template["name"], context=context, **kwargs)
        except gevent.GreenletExit:
            begun = intended if intended is not None else started
            RECORDER.record(template["name"], context.get("kit_intended_wall", started_wall),
                            (time.perf_counter() - begun) * 1000, "unfinished", True)  # fmt: skip
            raise


class ClosedUser(_KitUser):
    """A closed-model user: one request at a time, the next once the answer is in (after `think_s`)."""

    def wait_time(self) -> float:
        think: float = RECORDER.spec["think_s"]
        return think

    @task
    def one(self) -> None:
        self.send()


class ArrivalUser(_KitUser):
    """An open-model source: requests start on a fixed schedule, at most `max_in_flight` at a time."""

    def __init__(self, environment: Environment) -> None:
        self.concurrency = int(RECORDER.spec["max_in_flight"])  # test_start has run: users spawn after it
        super().__init__(environment)

    def wait_time(self) -> float:
        return 0.0

    @task
    def arrive(self) -> None:
        spec = RECORDER.spec
        interval = spec["arrival_users"] / spec["rate"]
        in_flight = gevent.pool.Pool(spec["max_in_flight"])
        first = time.perf_counter() + random.random() * interval  # users start out of phase
        ends = time.perf_counter() + spec["duration_s"] - (time.time() - (RECORDER.t0 or time.time()))
        unsent = first  # the earliest arrival not yet sent
        try:
            for due in _schedule(first, interval):
                if due >= ends:  # no arrivals after the end: what is in flight gets the stop grace
                    in_flight.join()
                    gevent.sleep(spec["duration_s"])  # until Locust stops this user
                now = time.perf_counter()
                if due > now:
                    gevent.sleep(due - now)
                RECORDER.schedule["due"] += 1
                if in_flight.full():
                    RECORDER.schedule["waited_for_slot"] += 1  # the server's backlog: its clock runs on
                    in_flight.wait_available()
                else:
                    lag_ms = (time.perf_counter() - due) * 1000
                    RECORDER.max_lag_ms = max(RECORDER.max_lag_ms, lag_ms)
                    RECORDER.schedule["late"] += lag_ms > LATE_MS
                in_flight.spawn(self.send, due)
                RECORDER.schedule["sent"] += 1
                unsent = due + interval
        finally:
            self._record_unsent(unsent, min(time.perf_counter(), ends), interval)
            in_flight.kill(block=True, timeout=5)

    def _record_unsent(self, first: float, until: float, interval: float) -> None:
        """Arrivals that came due but could not be sent (every slot held by a slow server): each is a
        request that waited from its intended start to the end, so it is recorded, never dropped."""
        now, wall = time.perf_counter(), time.time()
        for due in itertools.takewhile(lambda t: t < until, _schedule(first, interval)):
            template, _, _ = self.mix.next()
            RECORDER.record(template["name"], wall - (now - due), (now - due) * 1000, "unfinished", True)
            RECORDER.schedule["unsent"] += 1


def _schedule(first: float, interval: float) -> Iterator[float]:
    return (first + n * interval for n in itertools.count())


class StagesShape(LoadTestShape):
    """Users over time from the scenario's stages (closed), or every arrival user at once (open)."""

    def tick(self) -> tuple[int, float] | None:
        options = self.runner.environment.parsed_options if self.runner else None
        spec = json.loads(options.kit_spec) if options else {}
        run_time = self.get_run_time()
        if not spec or run_time >= spec["duration_s"]:
            return None
        if spec["model"] == "open":
            return spec["arrival_users"], float(spec["arrival_users"])
        users = [stage["users"] for stage in spec["stages"] if stage["at_s"] <= run_time][-1]
        return users, float(max(users, 1) * 4)  # a step, not a ramp: all of a stage's users within ~0.25 s
