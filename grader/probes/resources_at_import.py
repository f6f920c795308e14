"""resources-at-import: the engine is built in the lifespan, not when the app is imported.

Started with `uvicorn --lifespan off`, an app whose database engine comes from its lifespan has none, so
it cannot serve a database read; one built at import time (or lazily on first use: nothing owns it
either) serves it. Whether the resources are released on shutdown is resources-not-released's question.
"""

from __future__ import annotations

import httpx

from grader import kitdata
from grader.probes._base import ProbeResult, ProbeTarget, judge
from grader.runner.app_process import AppStartError

BUG = "resources-at-import"
METRIC = "reads_served_without_lifespan"
READS = (42, 43)  # a product read, twice, on different rows


def probe(target: ProbeTarget) -> ProbeResult:
    answers: list[int | str] = []
    try:
        with (
            target.deploy(lifespan="off") as deployment,
            httpx.Client(base_url=deployment.url, timeout=kitdata.HTTP_TIMEOUT_S) as client,
        ):
            for product_id in READS:
                try:
                    answers.append(client.get(f"/products/{product_id}").status_code)
                except httpx.HTTPError as exc:
                    answers.append(type(exc).__name__)
        how = f"GET /products/{{id}} answered {answers}"
    except AppStartError as exc:
        how = f"did not start without lifespan: {str(exc).splitlines()[0]}"
    served = sum(answer == 200 for answer in answers)
    evidence = {"without_lifespan": how, "reads": len(READS)}
    what = f"product reads (of {len(READS)}) served with the lifespan off"
    return judge(BUG, served, evidence, what=what)
