#!/usr/bin/env bash
# What the container image runs, without a container engine: copy package.json, package-lock.json, .npmrc and
# the built dist/ into a clean directory, install the production dependencies only (`npm ci --omit=dev`, which
# builds zstd-napi from source, as the Dockerfile's deps stage does), and run the CLI from there.
#
#   bash scripts/check-prod-install.sh            # check in a temporary directory, removed afterwards
#   bash scripts/check-prod-install.sh DIR        # keep the installed copy in DIR (the converter Lambda's asset)
#
# Needs `npm run build` first.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli.js ] || { echo "dist/cli.js missing: run npm run build first" >&2; exit 2; }

if [ $# -ge 1 ]; then
  dir="$1"
  rm -rf "$dir"
  mkdir -p "$dir"
else
  dir="$(mktemp -d)"
  trap 'rm -rf "$dir"' EXIT
fi
cp package.json package-lock.json .npmrc "$dir/"
cp -R dist "$dir/dist"
started=$(date +%s)
(cd "$dir" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
echo "npm ci --omit=dev: $(( $(date +%s) - started )) s"
# No dev dependency may have been installed.
for dev in vitest aws-cdk-lib cdk-nag eslint dockerfilelint; do
  if [ -e "$dir/node_modules/$dev" ]; then echo "dev dependency $dev installed" >&2; exit 1; fi
done
# Each role the image runs must load: --help parses the whole command tree and imports every module; a
# command's own --help imports only its modules (for convert, DuckDB's native binding too).
(cd "$dir" && BALER_NO_LOCAL_ENV=1 node dist/cli.js --help >/dev/null)
for role in source target convert; do
  (cd "$dir" && BALER_NO_LOCAL_ENV=1 node dist/cli.js "$role" --help >/dev/null)
done
# The native codec must load on this platform.
(cd "$dir" && node -e "require('zstd-napi')")
echo "production install OK in $dir"
