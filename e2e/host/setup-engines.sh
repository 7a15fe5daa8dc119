#!/usr/bin/env bash
# Gives kur's tests three real container engines on a Debian host, as root:
#   rootful Docker, rootless Docker and a rootless Podman API service (both for one test user).
# Installs what is missing from Debian's packages, does the host steps the rootless engines need,
# starts only the engines whose socket does not answer, and writes /var/lib/kur-test/engines.env.
# Idempotent: a second run only probes the sockets. Works without systemd as PID 1 (every daemon
# is started by hand, detached, with a pid file under /run/kur-test). Stop: e2e/host/stop-engines.sh.
set -euo pipefail

readonly TEST_USER=${KUR_TEST_USER:-kur-test}
readonly STATE_DIR=/var/lib/kur-test
readonly ENV_FILE=$STATE_DIR/engines.env
readonly PID_DIR=/run/kur-test
readonly LOG_DIR=/var/log/kur-test
# The v1 name=systemd hierarchy: a systemd host delegates a tree of it to each user; we do the same.
readonly SYSTEMD_CGROUP=/sys/fs/cgroup/systemd
readonly CGROUP_SLICE=$SYSTEMD_CGROUP/kur-test.slice
readonly START_TIMEOUT=${KUR_TEST_START_TIMEOUT:-120}
readonly ROOTFUL_DOCKER_SOCK=/var/run/docker.sock

# Everything the harness and the node image build need, in one place. Installed without
# recommends: docker.io recommends cgroupfs-mount, which must never touch this host's cgroups.
readonly PACKAGES=(
  docker.io containerd runc tini iptables # rootful Docker (dockerd starts its own containerd)
  rootlesskit slirp4netns uidmap          # rootless Docker (newuidmap/newgidmap for subuid ranges)
  podman conmon catatonit                 # rootless Podman, runc as runtime (crun refuses cgroup v1 hybrid)
  netavark aardvark-dns                   # Podman's network backend and its DNS for user-defined networks
  fuse-overlayfs                          # overlay in a user namespace where native overlay fails
  curl                                    # socket probes
  mmdebstrap arch-test busybox-static     # node image rootfs from Debian packages; test images
  gcc libc6-dev libseccomp-dev            # runc links libseccomp statically (cgo) in the Go build path
)

log() { printf '[setup-engines] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

[[ $(id -u) == 0 ]] || die "run as root (it installs packages and starts rootful Docker)"

# --- packages -------------------------------------------------------------------------------

install_packages() {
  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    log "packages: all present"
    return
  fi
  log "packages: installing ${missing[*]}"
  # Package scripts must not start services: we start the engines ourselves, our way.
  local policy=/usr/sbin/policy-rc.d added_policy=
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=1
  fi
  local apt=(apt-get -q -o DPkg::Lock::Timeout=600)
  local status=0
  {
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" update -qq &&
      DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"
  } >"$LOG_DIR/apt.log" 2>&1 || status=$?
  [[ -n $added_policy ]] && rm -f "$policy"
  ((status == 0)) || {
    tail -n 30 "$LOG_DIR/apt.log" >&2
    die "apt-get failed (full log: $LOG_DIR/apt.log)"
  }
}

# --- helpers --------------------------------------------------------------------------------

ping_socket() { # <socket path>: true when an engine answers its API there
  [[ -S $1 ]] && curl -sf --max-time 5 --unix-socket "$1" http://d/_ping >/dev/null 2>&1
}

# True when <pid file> names a live process running <executable>. Checking the executable keeps a
# stale file whose pid was reused by another process from being mistaken for our daemon.
pid_running() { # <pid file> <executable>
  local pid
  [[ -r $1 ]] || return 1
  pid=$(<"$1")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$2" ]]
}

remove_stale_pidfile() { # <pid file> <executable>
  if [[ -e $1 ]] && ! pid_running "$1" "$2"; then
    log "removing stale pid file $1"
    rm -f "$1"
  fi
}

wait_for_socket() { # <name> <socket> <log file>
  local deadline=$((SECONDS + START_TIMEOUT))
  until ping_socket "$2"; do
    if ((SECONDS >= deadline)); then
      log "$1 did not answer on $2 within ${START_TIMEOUT}s; last lines of $3:"
      tail -n 40 "$3" >&2 || true
      die "$1 failed to start"
    fi
    sleep 0.5
  done
}

# Runs <name>'s start function unless its socket answers; a daemon that is still starting (live
# pid, no answer yet) is waited for rather than started twice.
ensure_engine() { # <name> <socket> <pid file> <executable> <start function>
  local name=$1 sock=$2 pidfile=$3 exe=$4 start=$5 t0=$SECONDS
  if ping_socket "$sock"; then
    log "$name: already running ($sock)"
    return
  fi
  if pid_running "$pidfile" "$exe"; then
    log "$name: pid $(<"$pidfile") is up but not answering yet; waiting"
  else
    log "$name: starting"
    "$start"
  fi
  wait_for_socket "$name" "$sock" "$LOG_DIR/$name.log"
  log "$name: ready after $((SECONDS - t0))s"
}

# --- host steps -----------------------------------------------------------------------------

host_steps() {
  # slirp4netns opens /dev/net/tun inside the user's namespace; fuse-overlayfs and node containers
  # on rootless engines need /dev/fuse. Debian's udev rules make both 0666; this host has no udev.
  chmod 666 /dev/net/tun /dev/fuse
  # rootlesskit's --propagation=rslave needs a shared root mount.
  if [[ $(findmnt -n -o PROPAGATION /) != shared ]]; then
    log "mount --make-rshared /"
    mount --make-rshared /
  fi
  # Several clusters at once share the per-user inotify limits (kubelet, containerd, pods); the
  # kernel defaults (8192 / 128 on many distributions) end in "too many open files". Only raised.
  local key want have
  for key in fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512; do
    want=${key#*=}
    have=$(sysctl -n "${key%%=*}")
    if ((have < want)); then
      log "sysctl $key (was $have)"
      sysctl -q -w "$key"
    fi
  done
}

ensure_user() {
  if ! id "$TEST_USER" >/dev/null 2>&1; then
    log "creating user $TEST_USER"
    useradd --create-home --shell /bin/bash --user-group "$TEST_USER"
  fi
  TEST_UID=$(id -u "$TEST_USER")
  TEST_GID=$(id -g "$TEST_USER")
  TEST_HOME=$(getent passwd "$TEST_USER" | cut -d: -f6)
  RUNTIME_DIR=/run/user/$TEST_UID
  ensure_subids /etc/subuid --add-subuids
  ensure_subids /etc/subgid --add-subgids

  install -d -m 0755 /run/user
  install -d -m 0700 -o "$TEST_UID" -g "$TEST_GID" "$RUNTIME_DIR"
  # Without systemd-logind nothing cleans up after the user's last process ends. When the user
  # runs nothing (zombies aside), what is left in the runtime dir (pid files, sockets, Podman's
  # "alive" marker) and the user's /dev/shm objects (Podman's lock table) is stale from a killed
  # run: remove it as logind (RemoveIPC) would, so the engines start as after a reboot.
  if ! ps -u "$TEST_UID" -o stat= | grep -qv '^Z'; then
    find "$RUNTIME_DIR" -xdev -mindepth 1 -delete || log "could not empty $RUNTIME_DIR"
    find /dev/shm -xdev -mindepth 1 -maxdepth 1 -user "$TEST_UID" -delete || true
  fi
}

ensure_subids() { # <file> <usermod flag>: give the user 65536 subordinate ids if it has none
  local file=$1 flag=$2 start
  touch "$file"
  grep -q "^$TEST_USER:" "$file" && return
  start=$(awk -F: 'BEGIN { m = 100000 } { if ($2 + $3 > m) m = $2 + $3 } END { print m }' "$file")
  log "$file: $TEST_USER gets $start-$((start + 65535))"
  usermod "$flag" "$start-$((start + 65535))" "$TEST_USER"
}

# Creates <slice>/user-<uid>.slice/<name> in the name=systemd hierarchy, owned by the test user,
# and prints its path. Only this named hierarchy is touched: processes stay where they are in
# every controller hierarchy (memory above all).
delegate_cgroup() { # <name>
  local dir=$CGROUP_SLICE/user-$TEST_UID.slice/$1
  if [[ $(stat -f -c %T "$SYSTEMD_CGROUP" 2>/dev/null) != cgroupfs ]]; then
    log "no cgroup v1 name=systemd hierarchy at $SYSTEMD_CGROUP: nothing delegated"
    return
  fi
  mkdir -p "$dir"
  chown -R "$TEST_UID:$TEST_GID" "$dir"
  printf '%s\n' "$dir"
}

# Starts <command...> detached as the test user, inside cgroup <dir> (if any), logging to <log>.
# The shell writes its own pid to <pid file> and then execs, so the file names the daemon itself.
spawn_as_user() { # <cgroup dir> <pid file> <log> <command...>
  local cg=$1 pidfile=$2 logfile=$3
  shift 3
  setsid bash -c '
    cg=$1 pidfile=$2; shift 2
    [[ -z $cg ]] || echo $$ >"$cg/cgroup.procs"
    echo $$ >"$pidfile"
    exec "$@"' _ "$cg" "$pidfile" \
    setpriv --reuid="$TEST_UID" --regid="$TEST_GID" --init-groups --reset-env \
    env HOME="$TEST_HOME" USER="$TEST_USER" LOGNAME="$TEST_USER" XDG_RUNTIME_DIR="$RUNTIME_DIR" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@" \
    </dev/null >>"$logfile" 2>&1 &
}

# --- rootful Docker -------------------------------------------------------------------------

start_rootful_docker() {
  # With no --containerd and no system containerd socket, dockerd runs its own containerd
  # under /var/run/docker/containerd; a pid file left by a killed run must not name another process.
  remove_stale_pidfile /var/run/docker/containerd/containerd.pid /usr/bin/containerd
  remove_stale_pidfile "$PID_DIR/rootful-docker.pid" /usr/sbin/dockerd
  setsid dockerd --host="unix://$ROOTFUL_DOCKER_SOCK" --pidfile="$PID_DIR/rootful-docker.pid" \
    </dev/null >>"$LOG_DIR/rootful-docker.log" 2>&1 &
}

# --- rootless Docker ------------------------------------------------------------------------

start_rootless_docker() {
  remove_stale_pidfile "$RUNTIME_DIR/docker.pid" /usr/sbin/dockerd
  remove_stale_pidfile "$RUNTIME_DIR/docker/containerd/containerd.pid" /usr/bin/containerd
  spawn_as_user "$(delegate_cgroup rootless-docker)" "$PID_DIR/rootless-docker.pid" \
    "$LOG_DIR/rootless-docker.log" /usr/share/docker.io/contrib/dockerd-rootless.sh
}

# --- rootless Podman ------------------------------------------------------------------------

# Native overlay inside a user namespace needs kernel >= 5.11 and a filesystem that allows it;
# try a real mount as the user and fall back to fuse-overlayfs only when it fails.
native_overlay_works() {
  local dir
  dir=$(setpriv --reuid="$TEST_UID" --regid="$TEST_GID" --init-groups mktemp -d /tmp/kur-ovl.XXXXXX)
  local rc=0
  setpriv --reuid="$TEST_UID" --regid="$TEST_GID" --init-groups unshare --user --map-root-user --mount \
    sh -c 'cd "$1" && mkdir l u w m && echo x >l/f &&
           mount -t overlay overlay -o lowerdir=l,upperdir=u,workdir=w m && test -f m/f' _ "$dir" \
    >/dev/null 2>&1 || rc=1
  rm -rf "$dir"
  return $rc
}

write_podman_config() {
  local conf=$TEST_HOME/.config/containers
  install -d -o "$TEST_UID" -g "$TEST_GID" "$TEST_HOME/.config" "$conf"
  # The host has no systemd: cgroupfs, file events, k8s-file logs. Podman's default nofile ulimit
  # can exceed the host's hard limit, so containers inherit the service's limits instead.
  cat >"$conf/containers.conf.tmp" <<'EOF'
# Written by kur's e2e/host/setup-engines.sh
[containers]
default_ulimits = []
log_driver = "k8s-file"

[network]
network_backend = "netavark"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  local mount_program=
  if native_overlay_works; then
    PODMAN_STORAGE="overlay (native)"
  else
    PODMAN_STORAGE="overlay (fuse-overlayfs)"
    mount_program='mount_program = "/usr/bin/fuse-overlayfs"'
  fi
  printf '# Written by kur'"'"'s e2e/host/setup-engines.sh\n[storage]\ndriver = "overlay"\n\n[storage.options.overlay]\n%s\n' \
    "$mount_program" >"$conf/storage.conf.tmp"
  local f
  for f in containers.conf storage.conf; do
    chown "$TEST_UID:$TEST_GID" "$conf/$f.tmp"
    mv "$conf/$f.tmp" "$conf/$f"
  done
  log "rootless-podman: storage $PODMAN_STORAGE"
}

start_rootless_podman() {
  install -d -m 0700 -o "$TEST_UID" -g "$TEST_GID" "$RUNTIME_DIR/podman"
  rm -f "$RUNTIME_DIR/podman/podman.sock"
  remove_stale_pidfile "$PID_DIR/rootless-podman.pid" /usr/bin/podman
  spawn_as_user "$(delegate_cgroup rootless-podman)" "$PID_DIR/rootless-podman.pid" \
    "$LOG_DIR/rootless-podman.log" \
    podman --log-level=info system service --time=0 "unix://$RUNTIME_DIR/podman/podman.sock"
}

# Records the processes stop-engines.sh must end besides the one we launched. When no pause
# process exists yet, rootless Podman re-executes itself inside a new user namespace: the launched
# process only waits, handles SIGTERM itself and does not pass it on, so the child that serves the
# API gets its own pid file. The pause process (catatonit -P) keeps the user namespace alive.
record_podman_pids() {
  local child pause=$RUNTIME_DIR/libpod/tmp/pause.pid
  pid_running "$PID_DIR/rootless-podman.pid" /usr/bin/podman || return 0
  child=$(pgrep -P "$(<"$PID_DIR/rootless-podman.pid")" -x podman | head -n 1 || true)
  if [[ -n $child ]]; then
    printf '%s\n' "$child" >"$PID_DIR/rootless-podman-service.pid"
  fi
  if pid_running "$pause" /usr/bin/catatonit || pid_running "$pause" /usr/bin/podman; then
    cp "$pause" "$PID_DIR/rootless-podman-pause.pid"
  fi
}

# --- main -----------------------------------------------------------------------------------

main() {
  local t0=$SECONDS
  install -d -m 0755 "$STATE_DIR" "$PID_DIR" "$LOG_DIR"
  install_packages
  host_steps
  ensure_user
  write_podman_config

  ensure_engine rootful-docker "$ROOTFUL_DOCKER_SOCK" "$PID_DIR/rootful-docker.pid" /usr/sbin/dockerd \
    start_rootful_docker
  ensure_engine rootless-docker "$RUNTIME_DIR/docker.sock" "$PID_DIR/rootless-docker.pid" /usr/bin/rootlesskit \
    start_rootless_docker
  ensure_engine rootless-podman "$RUNTIME_DIR/podman/podman.sock" "$PID_DIR/rootless-podman.pid" \
    /usr/bin/podman start_rootless_podman
  record_podman_pids

  cat >"$ENV_FILE.tmp" <<EOF
# Written by kur's e2e/host/setup-engines.sh: the engines kur's tests run against.
KUR_TEST_ENGINES="rootful-docker rootless-docker rootless-podman"
KUR_TEST_HOST_ROOTFUL_DOCKER=unix://$ROOTFUL_DOCKER_SOCK
KUR_TEST_HOST_ROOTLESS_DOCKER=unix://$RUNTIME_DIR/docker.sock
KUR_TEST_HOST_ROOTLESS_PODMAN=unix://$RUNTIME_DIR/podman/podman.sock
KUR_TEST_USER=$TEST_USER
KUR_TEST_UID=$TEST_UID
EOF
  chmod 644 "$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"

  log "done in $((SECONDS - t0))s; wrote $ENV_FILE; logs in $LOG_DIR"
  printf 'rootful-docker   unix://%s\n' "$ROOTFUL_DOCKER_SOCK"
  printf 'rootless-docker  unix://%s\n' "$RUNTIME_DIR/docker.sock"
  printf 'rootless-podman  unix://%s\n' "$RUNTIME_DIR/podman/podman.sock"
}

main "$@"
