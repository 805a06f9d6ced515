#!/usr/bin/env bash
# Run the system tests as the unprivileged lab user, inside its systemd user manager's cgroup subtree,
# against its rootless podman. Run as root after provision.sh and `npm run build`.
# The checkout may sit where the lab user cannot read it, so the built project is staged into its home.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
LAB_USER=${STACKD_LAB_USER:-stackdlab}
LAB_HOME=$(getent passwd "$LAB_USER" | cut -d: -f6)
# one folder per run, so two runs (two engineers, or a rerun) never pull the floor from under each other
stage=$(mktemp -d "$LAB_HOME/stackd-under-test.XXXXXX")
trap 'rm -rf "$stage"' EXIT
# what the tests need: the build, the tests, the config and the dependencies
cp -a "$repo/package.json" "$repo/vitest.config.ts" "$repo/tsconfig.json" "$repo/dist" "$repo/test" "$repo/config" "$repo/node_modules" "$stage/"
[ -d "$repo/systemd" ] && cp -a "$repo/systemd" "$stage/"
chown -R "$LAB_USER:" "$stage"
results=${STACKD_SYSTEM_RESULTS:-$stage/system-results.json}
chmod 755 "$stage"
"$here/as-lab.sh" sh -c "cd '$stage' && node node_modules/vitest/vitest.mjs run --project system --reporter=default --reporter=json --outputFile.json='$results' $*"
