"""Prometheus metrics: a pure ASGI middleware (no BaseHTTPMiddleware overhead) and `GET /metrics`.

Routes are labelled by their template (`/products/{product_id}`), never the raw path: one time series
per route, not one per product id.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "<unmatched>"  # requests no route matched share one label: unbounded paths, bounded series
LABELS = ("method", "route", "status")
BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Metrics:
    """The app's own registry (never the process-global one): two apps in a process never collide."""

    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))
    duration: Histogram = field(init=False)
    requests: Counter = field(init=False)

    def __post_init__(self) -> None:
        self.duration = Histogram(
            "http_request_duration_seconds", "HTTP request duration in seconds.",
            LABELS, registry=self.registry, buckets=BUCKETS,
        )
        self.requests = Counter(
            "http_requests_total", "HTTP requests handled.", LABELS, registry=self.registry
        )


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before starting a response

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            # The router stores the matched route in the (shared) scope on its way in.
            route = scope.get("route")
            labels = (scope["method"], getattr(route, "path", UNMATCHED), str(status))
            self.metrics.duration.labels(*labels).observe(time.perf_counter() - start)
            self.metrics.requests.labels(*labels).inc()


router = APIRouter(tags=["ops"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
async def metrics(request: Request) -> Response:
    """Prometheus text exposition of this app's registry."""
    registry: CollectorRegistry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
