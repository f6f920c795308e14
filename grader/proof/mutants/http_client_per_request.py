"""http-client-per-request: every payments call opens (and closes) a client of its own."""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "http-client-per-request",
    "an `async with httpx.AsyncClient(...)` per attempt instead of the shared client",
    (
        Edit(
            "app/payments.py",
            "        response = await self._http.request(method, path, **kwargs)\n",
            "        async with httpx.AsyncClient(\n"
            "            base_url=self._settings.payments_url, timeout=self._http.timeout, trust_env=False\n"
            "        ) as http:\n"
            "            response = await http.request(method, path, **kwargs)\n",
        ),
    ),
)
