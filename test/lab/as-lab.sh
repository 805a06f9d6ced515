#!/usr/bin/env bash
# Run a command as the lab user, inside its systemd user manager's delegated cgroup subtree (LAB.md step 5),
# with the environment a linger session would give it. Run as root. Without the subtree, podman CLI scopes
# and aardvark-dns fail on this machine kind.
set -euo pipefail
LAB_USER=${STACKD_LAB_USER:-stackdlab}
LAB_UID=$(id -u "$LAB_USER")
CG=$("$(dirname "$0")/cgroup-root.sh")/user.slice/user-$LAB_UID.slice/user@$LAB_UID.service/lab.slice
echo $$ >"$CG/cgroup.procs"
exec runuser -u "$LAB_USER" -- env -i \
  HOME="$(getent passwd "$LAB_USER" | cut -d: -f6)" USER="$LAB_USER" LOGNAME="$LAB_USER" \
  PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
  XDG_RUNTIME_DIR="/run/user/$LAB_UID" \
  PODMAN_IGNORE_CGROUPSV1_WARNING=1 PODMAN_COMPOSE_WARNING_LOGS=false \
  ${STACKD_LAB_ENV:-} "$@"
