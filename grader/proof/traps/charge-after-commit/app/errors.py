"""Domain errors and the one place that turns them (and infrastructure failures) into HTTP answers."""

from __future__ import annotations

import logging

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A failure the client is told about; subclasses fix the HTTP status."""

    status_code = 500

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status_code = 404


class InsufficientStock(DomainError):
    status_code = 409


class UnknownCurrency(DomainError):
    status_code = 422


class PaymentDeclined(DomainError):
    status_code = 502


class PaymentUnavailable(DomainError):
    """The payments API kept failing (5xx, refused or reset connections) until retries ran out."""

    status_code = 502


class PaymentTimeout(DomainError):
    """The payments API did not answer within the deadline."""

    status_code = 504


class ServiceBusy(DomainError):
    """Shed load rather than queue without bound; the client may retry."""

    status_code = 503


# lock_not_available (lock_timeout) and query_canceled (statement timeouts): contention, not a bug.
_BUSY_SQLSTATES = frozenset({"55P03", "57014"})


def _answer(status_code: int, detail: str) -> JSONResponse:
    headers = {"Retry-After": "1"} if status_code == 503 else None
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return _answer(exc.status_code, exc.detail)


def _pool_timeout(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database pool exhausted: %s", exc)
    return _answer(503, "service busy")


def _database_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if getattr(exc.orig, "sqlstate", None) in _BUSY_SQLSTATES:
        log.warning("database contention: %s", exc.orig)
        return _answer(503, "service busy")
    if exc.connection_invalidated:  # the pool has already replaced the connection; a retry will do
        log.warning("database connection lost: %s", exc.orig)
        return _answer(503, "database unavailable")
    log.error("database error", exc_info=exc)
    return _answer(500, "internal error")


def _driver_error(_: Request, exc: Exception) -> JSONResponse:
    # The product reads use asyncpg directly (see routes/products.py): its errors arrive untranslated.
    if getattr(exc, "sqlstate", None) in _BUSY_SQLSTATES:
        log.warning("database contention: %s", exc)
        return _answer(503, "service busy")
    if isinstance(exc, asyncpg.InterfaceError):  # the connection is gone; the pool replaces it
        log.warning("database connection lost: %s", exc)
        return _answer(503, "database unavailable")
    log.error("database error", exc_info=exc)
    return _answer(500, "internal error")


def _io_error(_: Request, exc: Exception) -> JSONResponse:
    # asyncpg raises connect failures and command timeouts untranslated (OSError, TimeoutError);
    # the payments client wraps its own, so what reaches here is an unreachable or stalled database.
    log.warning("database unreachable: %r", exc)
    return _answer(503, "database unavailable")


def install_error_handlers(app: FastAPI) -> None:
    """Map every domain and infrastructure error to its status, so routes only raise."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(PoolTimeoutError, _pool_timeout)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(asyncpg.PostgresError, _driver_error)
    app.add_exception_handler(asyncpg.InterfaceError, _driver_error)
    app.add_exception_handler(OSError, _io_error)  # TimeoutError included
