"""Write the contract's OpenAPI document from an app: `python -m grader.contract.openapi APP_DIR OUT`.

The app is imported in a child interpreter so its `app` package never collides with another's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_DUMP = "import json, sys; from app.main import app; json.dump(app.openapi(), sys.stdout, indent=2, sort_keys=True)"


def openapi_document(app_dir: Path) -> dict[str, object]:
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
    document: dict[str, object] = json.loads(done.stdout)
    return document


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m grader.contract.openapi APP_DIR OUT", file=sys.stderr)
        return 2
    app_dir, out = Path(argv[0]), Path(argv[1])
    out.write_text(json.dumps(openapi_document(app_dir), indent=2, sort_keys=True) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
