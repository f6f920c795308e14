"""The fault injectors keep their control API to the grader: a token on the control port, never served on
a data port, each deployment's data port inside its own network namespace; every reach for it counted."""

from __future__ import annotations

import contextlib
import os
import socket

import httpx
import psycopg2
import pytest

from grader.infra._netns import NetNamespace
from grader.infra.payments_stub import PaymentsStub
from grader.infra.pgproxy import PgProxy, start_pgproxy
from grader.infra.postgres import PostgresServer

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_the_stubs_control_port_refuses_a_request_without_the_token_and_counts_it(
    stub: PaymentsStub, method: str
) -> None:
    """GET or PUT /config on the control port without the grader's token: 403, counted, config unchanged."""
    before = stub.tampering()
    stub.configure(charges={"latency_ms": 50})
    answer = httpx.request(method, f"{stub.service.control_url}/config", json={"charges": {"latency_ms": 0}})
    assert answer.status_code == 403
    assert stub.config()["charges"]["latency_ms"] == 50
    counted = stub.tampering()
    refused = "control request without the grader's token"
    assert counted[refused] == before.get(refused, 0) + 1


def test_the_proxys_control_port_refuses_a_request_without_the_token_and_counts_it(proxy: PgProxy) -> None:
    """PUT /config on the proxy's control port without the token: 403, counted, latency unchanged."""
    proxy.configure(latency_ms=5)
    answer = httpx.put(f"{proxy.service.control_url}/config", json={"latency_ms": 0})
    assert answer.status_code == 403
    assert proxy.stats()["tampering"]["control request without the grader's token"] >= 1
    assert proxy.configure()["latency_ms"] == 5


@pytest.mark.parametrize("path", ["/config", "/stats", "/reset"])
def test_control_paths_on_a_data_port_are_not_found_and_counted(stub: PaymentsStub, path: str) -> None:
    """The data port never serves the control API: 404, and the request is counted by method and path."""
    before = stub.tampering().get(f"GET {path} on a data port", 0)
    assert httpx.get(f"{stub.url}{path}").status_code == 404
    assert stub.tampering()[f"GET {path} on a data port"] == before + 1


def test_a_health_check_on_the_data_port_is_not_tampering(stub: PaymentsStub) -> None:
    """An app may well ask its payments provider for /health: 404 as before, and nothing counted."""
    before = stub.tampering()
    assert httpx.get(f"{stub.url}/health").status_code == 404
    assert stub.tampering() == before


def test_a_data_listener_of_a_deployment_serves_the_data_api_and_goes_away(stub: PaymentsStub) -> None:
    """A listener added for a deployment answers the data API; once dropped, its port is closed."""
    with stub.data_listener(None) as url:
        assert httpx.get(f"{url}/rates/EUR").json() == {"currency": "EUR", "rate": stub.rates()["EUR"]}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/rates/EUR")


@needs_root
def test_a_data_listener_in_a_namespace_is_reachable_there_only(stub: PaymentsStub) -> None:
    """The stub makes a deployment's data port inside its namespace: the grader's loopback has no such
    port, a socket inside the namespace reaches it."""
    netns = NetNamespace.create()
    try:
        with stub.data_listener(netns) as url:
            port = int(url.rsplit(":", 1)[1])
            inside = netns.call(lambda: _status_of_rates(port))
            outside = _status_of_rates(port)
    finally:
        netns.close()
    assert inside == "HTTP/1.1 200"
    assert outside == "ConnectionRefusedError"


def _status_of_rates(port: int) -> str:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"GET /rates/USD HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            return conn.recv(4096).split(b"\r\n", 1)[0].decode().strip()
    except OSError as exc:
        return type(exc).__name__


@needs_root
def test_the_proxy_accepts_on_a_listener_made_in_a_namespace(pg_server: PostgresServer, pg_db: str) -> None:
    """Handed a listening socket made inside a namespace, the proxy serves clients there, while its
    upstream connection stays in the grader's namespace; from the grader's loopback the port is closed."""
    netns = NetNamespace.create()
    listener = netns.listener()
    try:
        with start_pgproxy(pg_server.endpoint, listener) as proxy:
            listener.close()

            def select_one() -> int:
                connection = psycopg2.connect(proxy.dsn(pg_db), connect_timeout=10)
                with contextlib.closing(connection) as conn, conn.cursor() as cur:
                    cur.execute("select 1")
                    return int(cur.fetchone()[0])  # type: ignore[index]

            assert netns.call(select_one) == 1
            assert proxy.stats()["statements"] >= 1
            with pytest.raises(psycopg2.OperationalError):
                psycopg2.connect(proxy.dsn(pg_db), connect_timeout=5).close()
    finally:
        listener.close()
        netns.close()


def test_http_on_the_proxys_client_port_is_cut_and_counted(proxy: PgProxy) -> None:
    """An HTTP request sent to the PostgreSQL port (an app looking for the control API) gets no answer
    and is counted."""
    before = proxy.tampering().get("HTTP request on the PostgreSQL port", 0)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as conn:
        conn.sendall(b"GET /config HTTP/1.1\r\nhost: x\r\n\r\n")
        try:
            answer = conn.recv(4096)
        except ConnectionResetError:
            answer = b""
    assert answer == b""
    assert proxy.tampering()["HTTP request on the PostgreSQL port"] == before + 1
