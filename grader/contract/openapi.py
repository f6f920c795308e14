"""Write the contract's OpenAPI document from an app: `python -m grader.contract.openapi APP_DIR OUT`.

The app is imported in a child interpreter so its `app` package never collides with another's. FastAPI
describes what the app's models declare; `contract_document` then adds what CONTRACT.md says and the models
cannot: bodies hold exactly their documented fields, `converted` is an object or absent, amounts are decimal
strings, and every documented error status has FastAPI's `{"detail": ...}` body. The contract suite
validates every response against the result (grader/contract/_schema.py).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

_DUMP = "import json, sys; from app.main import app; json.dump(app.openapi(), sys.stdout, indent=2, sort_keys=True)"

# Response bodies with exactly these fields: a renamed or stray field is a contract failure.
CLOSED_SCHEMAS = (
    "ConvertedTotal",
    "CustomerOrdersPublic",
    "Health",
    "OrderItemPublic",
    "OrderPublic",
    "ProductPage",
    "ProductPublic",
)
ERROR = "Error"
_ERROR_SCHEMA = {
    "description": "FastAPI's error shape: `detail` a string, or the list of validation errors for a 422.",
    "properties": {"detail": {"anyOf": [{"type": "string"}, {"type": "array"}], "title": "Detail"}},
    "required": ["detail"],
    "title": ERROR,
    "type": "object",
}
# The error statuses CONTRACT.md documents, per operation.
ERRORS: dict[tuple[str, str], dict[str, str]] = {
    ("/products/{product_id}", "get"): {"404": "unknown product", "422": "an id that is not an integer"},
    ("/products", "get"): {"422": "`limit` outside 1-100, `offset` below 0, or not integers"},
    ("/orders", "post"): {
        "401": "missing, unknown, wrong or revoked API key",
        "404": "an unknown product; nothing is written",
        "409": "not enough stock; nothing is written",
        "422": "a body outside the rules; nothing is written",
        "502": "the charge was declined, or the payments API kept failing (503s, resets); nothing is kept",
        "504": "the payments API kept timing out; nothing is kept",
    },
    ("/orders/{order_id}", "get"): {
        "404": "unknown order",
        "422": "an id that is not an integer, a currency that is not three capital letters, or unknown",
    },
    ("/customers/{email}/orders", "get"): {"404": "unknown customer"},
}
_DECIMAL_STRING = {"pattern": r"^[0-9]+(\.[0-9]+)?$"}
_CENTS_STRING = {"pattern": r"^[0-9]+\.[0-9]{2}$"}
_CURRENCY = {"pattern": r"^[A-Z]{3}$"}


def openapi_document(app_dir: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _DUMP],
        cwd=app_dir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": str(Path(sys.executable).parent), "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"could not import {app_dir}/app/main.py: {done.stderr.strip().splitlines()[-1:]}")
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def contract_document(generated: dict[str, Any]) -> dict[str, Any]:
    """`generated` (the app's own document) with CONTRACT.md's rules added; KeyError if a part is missing."""
    document = copy.deepcopy(generated)
    schemas: dict[str, Any] = document["components"]["schemas"]
    for name in CLOSED_SCHEMAS:
        schemas[name]["additionalProperties"] = False
    schemas["Health"]["required"] = ["status"]
    # Only `?currency=` adds it; without one the key is absent, never null.
    schemas["OrderPublic"]["properties"]["converted"] = {"$ref": "#/components/schemas/ConvertedTotal"}
    converted = schemas["ConvertedTotal"]["properties"]
    converted["currency"] |= _CURRENCY
    converted["rate"] |= _DECIMAL_STRING
    converted["total"] |= _CENTS_STRING
    schemas[ERROR] = _ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):  # replaced by Error: a 422 may carry a string
        schemas.pop(name, None)
    error = {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR}"}}}}
    for operations in document["paths"].values():  # FastAPI's own 422 for any route with parameters
        for operation in operations.values():
            if "422" in operation["responses"]:
                operation["responses"]["422"] = {**copy.deepcopy(error), "description": "Validation Error"}
    for (path, method), statuses in ERRORS.items():
        responses = document["paths"][path][method]["responses"]
        for status, description in statuses.items():
            responses[status] = {**copy.deepcopy(error), "description": description}
    return document


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m grader.contract.openapi APP_DIR OUT", file=sys.stderr)
        return 2
    app_dir, out = Path(argv[0]), Path(argv[1])
    out.write_text(json.dumps(contract_document(openapi_document(app_dir)), indent=2, sort_keys=True) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
