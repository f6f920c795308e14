"""resources-outside-lifespan: resources come from lifespan and are released gracefully on shutdown.

Two measurements: started with `--lifespan off`, an app whose engine comes from lifespan cannot serve a
database read (one built at import time can); started normally, after SIGTERM every PostgreSQL connection
it held ends with a Terminate message (an engine never disposed just drops its sockets at exit).
"""

from __future__ import annotations

import time

import httpx

from grader.kitdata import API_KEY
from grader.probes._base import ProbeResult, ProbeTarget, judge
from grader.runner.app_process import AppStartError

BUG = "resources-outside-lifespan"
METRIC = "served_without_lifespan_plus_dropped_connections"


def _served_without_lifespan(target: ProbeTarget) -> tuple[bool, str]:
    try:
        with target.deploy(lifespan="off") as deployment:
            response = httpx.get(f"{deployment.url}/products/42", timeout=20.0)
            return response.status_code == 200, f"GET /products/42 answered {response.status_code}"
    except AppStartError as exc:
        return False, f"did not start without lifespan: {str(exc).splitlines()[0]}"


def _dropped_on_shutdown(target: ProbeTarget) -> dict[str, object]:
    with target.deploy() as deployment:
        with httpx.Client(base_url=deployment.url, timeout=20.0) as client:
            for product_id in range(1, 21):
                client.get(f"/products/{product_id}")
            for product_id in (5001, 5002):
                client.post(
                    "/orders",
                    headers={"X-API-Key": API_KEY},
                    json={
                        "customer_email": "shutdown@example.org",
                        "items": [{"product_id": product_id, "quantity": 1}],
                    },
                )
        before = deployment.proxy.stats()
        exit_code = deployment.app.terminate()
        time.sleep(0.5)  # the proxy classifies a close once both sides of the pair are done
        after = deployment.proxy.stats()
    return {
        "open_at_sigterm": before["connections_open"],
        "exit_code": exit_code,
        "closed_gracefully": after["closed_graceful"] - before["closed_graceful"],
        "dropped": after["closed_dropped"] - before["closed_dropped"],
    }


def probe(target: ProbeTarget) -> ProbeResult:
    served, how = _served_without_lifespan(target)
    shutdown = _dropped_on_shutdown(target)
    dropped = int(shutdown["dropped"])  # type: ignore[call-overload]
    evidence = {"without_lifespan": how, "shutdown": shutdown}
    what = f"database reads served without lifespan ({int(served)}) + connections dropped on shutdown ({dropped})"
    return judge(BUG, int(served) + dropped, evidence, what=what)
