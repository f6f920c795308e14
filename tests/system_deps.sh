#!/usr/bin/env bash
# System packages beyond the venv: Chromium, which the tests use to render the HTML reports headless.
# Idempotent; needs root (apt-get) only when something is missing. Called by the tests' session fixture.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "chromium is not installed and installing it needs root: run 'sudo $0' (apt-get install chromium)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null
