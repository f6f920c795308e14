"""A small cohort for the workflow tests: two submissions sharing a copied fix (one with its variables
renamed), one that copies the reference solution, one written independently."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# One candidate's fix of the payments call, copied by a second one who renamed what they could.
RETRYING_CHARGE = '''"""Client for the external payments API."""

import asyncio
import random
import uuid

import httpx

from app.config import settings

MAX_ATTEMPTS = 4
BASE_DELAY_S = 0.05
DEADLINE_S = 8.0
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class PaymentError(Exception):
    """The payments API did not accept the charge."""


async def _pause(attempt_number: int) -> None:
    ceiling = BASE_DELAY_S * 2**attempt_number
    await asyncio.sleep(random.uniform(ceiling / 2, ceiling))


async def _attempt(client: httpx.AsyncClient, payload: dict, idempotency_headers: dict) -> httpx.Response | None:
    try:
        return await client.post("/charges", json=payload, headers=idempotency_headers)
    except httpx.TransportError:
        return None


async def charge(amount_cents: int, customer_email: str) -> str:
    """Charge `amount_cents` USD to the customer and return the payment id, retrying what may pass."""
    idempotency_headers = {"Idempotency-Key": str(uuid.uuid4())}
    payload = {"amount_cents": amount_cents, "currency": "USD", "customer_email": customer_email}
    request_timeout = httpx.Timeout(connect=1.0, read=2.0, write=2.0, pool=1.0)
    async with httpx.AsyncClient(base_url=settings.payments_url, timeout=request_timeout) as client:
        async with asyncio.timeout(DEADLINE_S):
            for attempt_number in range(MAX_ATTEMPTS):
                answer = await _attempt(client, payload, idempotency_headers)
                if answer is not None and answer.status_code in (200, 201):
                    return str(answer.json()["id"])
                if answer is not None and answer.status_code not in RETRYABLE_STATUSES:
                    raise PaymentError(f"charge failed with status {answer.status_code}")
                if attempt_number < MAX_ATTEMPTS - 1:
                    await _pause(attempt_number)
    raise PaymentError("the payments API did not accept the charge in time")
'''
RENAMES = {
    "attempt_number": "try_index",
    "idempotency_headers": "hdrs",
    "payload": "charge_body",
    "answer": "resp",
    "request_timeout": "limits_for_calls",
    "_pause": "_sleep_a_bit",
    "_attempt": "_post_once",
    "ceiling": "upper",
    "BASE_DELAY_S": "FIRST_WAIT",
    "RETRYABLE_STATUSES": "TRANSIENT",
}
NOTES = """# Notes

I replaced the payment client's blocking back-off with asyncio.sleep and added retries with jitter,
under an overall deadline.

<script>document.title = "owned"</script> ![tracker](http://198.51.100.7/pixel.png)
[my blog](http://198.51.100.7/blog)
"""


def renamed(code: str) -> str:
    for old, new in RENAMES.items():
        code = re.sub(rf"\b{re.escape(old)}\b", new, code)
    return code


def _commit(repository: Path, message: str) -> None:
    identity = ["-c", "user.name=Candidate", "-c", "user.email=candidate@example.org"]
    subprocess.run(["git", "-C", str(repository), "add", "-A"], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(repository), *identity, "commit", "-qm", message], check=True, capture_output=True)


def make_cohort(into: Path) -> dict[str, Path]:
    """alice (a git repository: the starter, then her fix and her notes), bob (alice's fix with variables
    renamed, plus a change of his own), carol (the reference solution, lightly edited), dave (independent)."""
    alice, bob, carol, dave = (into / name for name in ("alice", "bob", "carol", "dave"))
    shutil.copytree(ROOT / "exercise", alice)
    subprocess.run(["git", "init", "-q", str(alice)], check=True, capture_output=True)
    _commit(alice, "starter")
    (alice / "app" / "payments.py").write_text(RETRYING_CHARGE)
    _commit(alice, "payments: non-blocking retries under a deadline")
    (alice / "NOTES.md").write_text(NOTES)
    _commit(alice, "notes")
    shutil.copytree(ROOT / "exercise", bob)
    (bob / "app" / "payments.py").write_text(renamed(RETRYING_CHARGE))
    shutil.copytree(ROOT / "solution", carol, ignore=shutil.ignore_patterns("README.md", "__pycache__"))
    main = carol / "app" / "main.py"  # a copier's cosmetic touch: one local variable renamed
    text = re.sub(r"(?<![\w.])settings(?!\s*=[^=])", "config_values", main.read_text())
    main.write_text(text.replace("settings = Settings()", "config_values = Settings()"))
    shutil.copytree(ROOT / "grader" / "proof" / "alternatives" / "sync_threadpool", dave)
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave}
