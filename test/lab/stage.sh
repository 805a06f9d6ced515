#!/usr/bin/env bash
# Copy the built project into a fresh folder the lab user owns (the checkout may sit where it cannot read)
# and print that folder. The caller removes it. Run as root after `npm run build`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
LAB_USER=${STACKD_LAB_USER:-stackdlab}
LAB_HOME=$(getent passwd "$LAB_USER" | cut -d: -f6)
# one folder per run, so two runs (two engineers, or a rerun) never pull the floor from under each other
stage=$(mktemp -d "$LAB_HOME/stackd-under-test.XXXXXX")
for item in package.json vitest.config.ts tsconfig.json dist dist-bench test config systemd bench node_modules; do
  [ -e "$repo/$item" ] || continue
  # a worktree may link node_modules to another checkout's: copy what the link points at, writable by the lab user
  if [ -L "$repo/$item" ]; then cp -a "$(readlink -f "$repo/$item")" "$stage/$item"; else cp -a "$repo/$item" "$stage/"; fi
done
chown -R "$LAB_USER:" "$stage"
chmod 755 "$stage"
echo "$stage"
