#!/usr/bin/env bash
# Run the system tests as the unprivileged lab user, inside its systemd user manager's cgroup subtree,
# against its rootless podman. Run as root after provision.sh and `npm run build`. Extra arguments go to
# vitest (e.g. a test file). STACKD_SYSTEM_RESULTS names a JSON results file the lab user may write.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The demo (test/lab/demo.sh) runs a stackd of its own as the lab user; its GC and prune act host-wide,
# so it is stopped while the tests run (`test/lab/demo.sh` starts it again).
if "$here/as-lab.sh" systemctl --user is-active --quiet stackd.service stackd.socket 2>/dev/null; then
  echo "[system tests] stopping the demo's stackd (stackd.service/.socket of the lab user) for a quiet lab" >&2
  "$here/as-lab.sh" systemctl --user stop stackd.service stackd.socket
fi
stage=$(bash "$here/stage.sh")
trap 'rm -rf "$stage"' EXIT
results=${STACKD_SYSTEM_RESULTS:-$stage/system-results.json}
"$here/as-lab.sh" sh -c "cd '$stage' && node node_modules/vitest/vitest.mjs run --project system --reporter=default --reporter=json --outputFile.json='$results' $*"
