#!/usr/bin/env bash
# Installs what the end-to-end tests need when it is missing: Debian's chromium (apt) and the
# pinned npm packages of tests/e2e (npm ci). Safe to run again; does nothing when all is there.
#   tests/e2e/install.sh
set -euo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -q; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "e2e: installing chromium (apt)"
  apt_install chromium
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "e2e: installing nodejs and npm (apt)"
  apt_install nodejs npm
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "e2e: node $(node --version) is too old; playwright-core needs node 20 or newer" >&2
  exit 1
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "e2e: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "e2e: ready (chromium $("${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null | awk '{print $2}'), node $(node --version))"
