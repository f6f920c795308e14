"""no-request-metrics: /metrics exposes a request-duration histogram labelled by route template."""

from __future__ import annotations

import re

import httpx
from prometheus_client.parser import text_string_to_metric_families

from grader import kitdata
from grader.probes._base import ProbeResult, ProbeTarget, judge

BUG = "no-request-metrics"
METRIC = "histogram_count_delta"
REQUESTS = 30
BAND = None  # an exact count of the requests made: a fixed app sits on 30, inside any relative band of 30
TEMPLATE = re.compile(r"^/products/\{[^}]+\}$")
COUNTED = f"GET /products/{{id}} requests counted by a route-labelled histogram (of {REQUESTS})"
RAW_PATH = re.compile(r"^/products/\d+$")
MAX_REDIRECTS = 3


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _scrape(client: httpx.Client) -> httpx.Response:
    """GET /metrics as Prometheus scrapes it, following redirects within the app only.

    prometheus_client's own exposition app mounted at /metrics (as its documentation shows) answers
    GET /metrics with a redirect to /metrics/; a redirect elsewhere is not followed.
    """
    response = client.get("/metrics")
    for _ in range(MAX_REDIRECTS):
        target = response.next_request
        if target is None or _origin(target.url) != _origin(client.base_url):
            break
        response = client.send(target)
    return response


def _route_counts(text: str) -> tuple[float, bool]:
    """Sum of histogram `_count` samples for GET on the product route template; whether raw paths appear."""
    total, raw_paths = 0.0, False
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values = set(sample.labels.values())
            raw_paths |= any(RAW_PATH.match(v) for v in values)
            if (
                family.type == "histogram"
                and sample.name.endswith("_count")
                and "GET" in values
                and any(TEMPLATE.match(v) for v in values)
            ):
                total += sample.value
    return total, raw_paths


def probe(target: ProbeTarget) -> ProbeResult:
    evidence: dict[str, object] = {"requests": REQUESTS}
    with target.deploy() as deployment, httpx.Client(base_url=deployment.url, timeout=kitdata.HTTP_TIMEOUT_S) as client:
        first = _scrape(client)
        evidence["metrics_status"] = first.status_code
        if first.status_code != 200:
            return judge(BUG, 0, evidence, what=COUNTED, problems=[f"GET /metrics answered {first.status_code}"])
        for product_id in range(1, REQUESTS + 1):
            client.get(f"/products/{product_id}")
        second = _scrape(client)
    try:
        before, _ = _route_counts(first.text)
        after, raw_paths = _route_counts(second.text)
    except ValueError as exc:
        return judge(BUG, 0, evidence, what=COUNTED, problems=[f"/metrics is not Prometheus text: {exc}"])
    delta = after - before
    evidence |= {
        "content_type": second.headers.get("content-type"),
        "count_before": before,
        "count_after": after,
        "raw_paths_as_labels": raw_paths,
    }
    problems = ["raw paths are used as label values (unbounded cardinality)"] if raw_paths else []
    return judge(BUG, delta, evidence, what=COUNTED, problems=problems)
