"""Request metrics with prometheus_client, recorded by an HTTP middleware and served on /metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, make_asgi_app
from starlette.routing import Match

Next = Callable[[Request], Awaitable[Response]]


def instrument(app: FastAPI) -> None:
    registry = CollectorRegistry()
    latency = Histogram(
        "api_request_seconds", "Request latency.", ["method", "template", "code"], registry=registry
    )
    served = Counter("api_requests", "Requests served.", ["method", "template", "code"], registry=registry)

    def template(request: Request) -> str:
        for route in app.router.routes:
            if route.matches(request.scope)[0] is Match.FULL:
                return str(getattr(route, "path", "other"))
        return "unmatched"

    @app.middleware("http")
    async def measure(request: Request, call_next: Next) -> Response:
        began, code = time.perf_counter(), 500
        try:
            response = await call_next(request)
            code = response.status_code
            return response
        finally:
            labels = (request.method, template(request), str(code))
            latency.labels(*labels).observe(time.perf_counter() - began)
            served.labels(*labels).inc()

    # prometheus_client's own exposition app, mounted as its documentation shows: GET /metrics is
    # redirected to /metrics/ (Prometheus follows redirects).
    app.mount("/metrics", make_asgi_app(registry))
