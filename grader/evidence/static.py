"""Static findings on a submission's copy: ruff's flake8-async rules and RUF006, and imports outside
the allowed list (the grader runs every submission from its own environment)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

RUFF_TIMEOUT = 60.0
# ASYNC109 (a `timeout` parameter on an async function) is a style opinion, not a concurrency bug.
RUFF_ARGS = [
    "check",
    "--isolated",
    "--no-cache",
    "--select",
    "ASYNC,RUF006",
    "--ignore",
    "ASYNC109",
    "--output-format",
    "json",
    "--exit-zero",
]
# Which bug a rule supports: blocking calls in async code, and tasks whose reference is dropped.
RULE_BUGS = {"ASYNC251": "blocking-sleep", "RUF006": "notification-lost"}
BLOCKING_RULES = ("ASYNC210", "ASYNC211", "ASYNC212", "ASYNC220", "ASYNC221", "ASYNC222", "ASYNC230", "ASYNC251")
# Import names of the packages installed for submissions: the requirements under "# the apps" in
# pyproject.toml's `dependencies` and what they pull in (tests/test_allowed_packages.py keeps the two equal).
# Only the top-level name is checked: `opentelemetry` is FastAPI's dependency opentelemetry-api alone.
ALLOWED_PACKAGES = frozenset(
    {
        "fastapi",
        "starlette",
        "uvicorn",
        "uvloop",
        "httptools",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "email_validator",
        "sqlalchemy",
        "asyncpg",
        "psycopg2",
        "psycopg",
        "psycopg_binary",
        "greenlet",
        "httpx",
        "httpcore",
        "h11",
        "anyio",
        "idna",
        "certifi",
        "stamina",
        "tenacity",
        "prometheus_client",
        "starlette_exporter",
        "orjson",
        "typing_extensions",
        "typing_inspection",
        "annotated_types",
        "annotated_doc",
        "opentelemetry",
        "dotenv",
        "click",
        "dns",
    }
)


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    where: str  # path:line inside the submission

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message, "where": self.where}


def ruff_findings(root: Path) -> list[Finding]:
    """ruff's ASYNC and RUF006 findings, with paths relative to the submission."""
    try:
        done = subprocess.run(
            [str(Path(sys.executable).parent / "ruff"), *RUFF_ARGS, str(root)],
            capture_output=True,
            text=True,
            timeout=RUFF_TIMEOUT,
            check=False,
        )
        rows = json.loads(done.stdout or "[]")
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        return [Finding("ruff", f"ruff could not run: {exc}", "")]
    return [
        Finding(row["code"], row["message"], f"{Path(row['filename']).relative_to(root)}:{row['location']['row']}")
        for row in rows
        if row.get("code")
    ]


def supporting(findings: list[Finding], bug_id: str) -> list[dict[str, str]]:
    """The findings that support a verdict on `bug_id`."""

    def relevant(finding: Finding) -> bool:
        if RULE_BUGS.get(finding.rule) == bug_id:
            return True
        return bug_id == "sync-db-driver" and finding.rule in BLOCKING_RULES and finding.rule != "ASYNC251"

    return [finding.as_dict() for finding in findings if relevant(finding)]


def _local_modules(root: Path) -> set[str]:
    return {p.stem for p in root.glob("*.py")} | {p.name for p in root.iterdir() if (p / "__init__.py").exists()}


def foreign_imports(root: Path) -> list[Finding]:
    """Imports of packages that are neither the standard library, the submission's own, nor allowed.

    Only what the app can import is checked: the `app` package and modules beside it. A kit's own
    tools (smoke tests, the locustfile) run elsewhere, with their own packages.
    """
    allowed = ALLOWED_PACKAGES | set(sys.stdlib_module_names) | _local_modules(root) | {"app"}
    found = []
    for path in sorted([*root.glob("*.py"), *(root / "app").rglob("*.py")]):
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError):
            continue  # the app's start-up reports syntax errors with their traceback
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in allowed:
                    found.append(
                        Finding(
                            "import",
                            f"imports {top!r}, which is not installed for submissions",
                            f"{path.relative_to(root)}:{node.lineno}",
                        )
                    )
    return found


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
