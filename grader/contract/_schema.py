"""Every response body against contract/openapi.json, with a real JSON Schema validator.

OpenAPI 3.1's schemas are JSON Schema 2020-12: each response is validated against its operation's schema
for the answered status, `$ref`s resolved into the document's components. A status the document does not
list for the operation is left to the case (each case names the status it expects).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

OPENAPI = Path(__file__).resolve().parents[2] / "contract" / "openapi.json"
_URI = "urn:contract:openapi"
_FORMATS = FormatChecker(formats=())  # only the formats below: no optional format packages decide a verdict


@_FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True  # `type` says what is wrong with a non-string
    datetime.fromisoformat(value)
    return True


@dataclass(frozen=True)
class _Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    responses: dict[str, Any]


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


@cache
def _document() -> tuple[list[_Operation], Registry[Any]]:
    document = json.loads(OPENAPI.read_text())
    registry: Registry[Any] = Registry().with_resource(_URI, DRAFT202012.create_resource(document))
    operations = []
    for template, methods in document["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")
        for method, operation in methods.items():
            operations.append(_Operation(method.upper(), template, pattern, operation["responses"]))
    return operations, registry


@cache
def _validator(template: str, method: str, status: str) -> Draft202012Validator:
    _, registry = _document()
    where = _pointer("paths", template, method.lower(), "responses", status, "content", "application/json", "schema")
    return Draft202012Validator({"$ref": f"{_URI}#/{where}"}, registry=registry, format_checker=_FORMATS)


def violations(response: httpx.Response) -> str | None:
    """What is wrong with `response`'s body by the contract's document, or None (also for an undocumented
    operation or status, and for a body that is not documented as JSON)."""
    operations, _ = _document()
    method, path = response.request.method, response.request.url.path
    operation = next((op for op in operations if op.method == method and op.pattern.match(path)), None)
    if operation is None:
        return None
    documented = operation.responses.get(str(response.status_code))
    if documented is None or "application/json" not in documented.get("content", {}):
        return None
    where = f"{method} {path} answered {response.status_code}"
    if response.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return f"{where} with content-type {response.headers.get('content-type')!r}, not application/json"
    try:
        body = response.json()
    except ValueError:
        return f"{where} with a body that is not JSON: {response.text[:120]!r}"
    validator = _validator(operation.template, method, str(response.status_code))
    errors = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
    if not errors:
        return None
    return f"{where} with a body that breaks contract/openapi.json: " + "; ".join(_say(e) for e in errors[:3])


def _say(error: ValidationError) -> str:
    at = "".join(f"[{part!r}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    return f"body{at}: {error.message[:160]}"
