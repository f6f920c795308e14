"""Request metrics from a custom APIRoute: each route times its own handler and labels it by its template."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from prometheus_client import Counter, Histogram

DURATION = Histogram("http_server_duration_seconds", "Time to answer a request.", ["method", "path", "status"])
REQUESTS = Counter("http_server_requests", "Requests answered.", ["method", "path", "status"])


class TimedRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        template = self.path_format

        async def timed(request: Request) -> Response:
            began, status = time.perf_counter(), 500
            try:
                response = await handler(request)
            except HTTPException as exc:
                status = exc.status_code
                raise
            except RequestValidationError:
                status = 422
                raise
            else:
                status = response.status_code
                return response
            finally:
                labels = (request.method, template, str(status))
                DURATION.labels(*labels).observe(time.perf_counter() - began)
                REQUESTS.labels(*labels).inc()

        return timed
