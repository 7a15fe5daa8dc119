#!/usr/bin/env bash
# Stops the engines e2e/host/setup-engines.sh started, and nothing else: every pid file it wrote
# under /run/kur-test is checked against the executable it must name before a signal is sent, so
# a stale file whose pid now belongs to another process is only removed. Run as root.
set -euo pipefail

readonly PID_DIR=/run/kur-test
readonly ENV_FILE=/var/lib/kur-test/engines.env
readonly CGROUP_SLICE=/sys/fs/cgroup/systemd/kur-test.slice
readonly STOP_TIMEOUT=${KUR_TEST_STOP_TIMEOUT:-30}

log() { printf '[stop-engines] %s\n' "$*" >&2; }

[[ $(id -u) == 0 ]] || {
  log "ERROR: run as root"
  exit 1
}

# Prints the pid in <pid file> if it names a live process running one of <executables>.
live_pid() { # <pid file> <executable...>
  local file=$1 pid exe want
  shift
  [[ -r $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  for want in "$@"; do
    [[ $exe == "$want" ]] && printf '%s\n' "$pid" && return 0
  done
  return 1
}

stop_pidfile() { # <name> <pid file> <executable...>
  local name=$1 file=$2 pid deadline
  shift 2
  [[ -e $file ]] || return 0
  if ! pid=$(live_pid "$file" "$@"); then
    log "$name: not running (stale $file removed)"
    rm -f "$file"
    return 0
  fi
  log "$name: stopping pid $pid"
  kill -TERM "$pid"
  deadline=$((SECONDS + STOP_TIMEOUT))
  while live_pid "$file" "$@" >/dev/null; do
    if ((SECONDS >= deadline)); then
      log "$name: still up after ${STOP_TIMEOUT}s, sending SIGKILL to $pid"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 0.5
  done
  rm -f "$file"
}

# Podman's containers outlive its API service (each has its own conmon) and live in the mount
# namespace of Podman's pause process; stop them while the service still answers.
stop_podman_containers() {
  local sock ids id
  [[ -r $ENV_FILE ]] || return 0
  sock=$(sed -n 's|^KUR_TEST_HOST_ROOTLESS_PODMAN=unix://||p' "$ENV_FILE")
  [[ -n $sock && -S $sock ]] || return 0
  ids=$(curl -sf --max-time 10 --unix-socket "$sock" http://d/v4.0.0/libpod/containers/json |
    grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4) || return 0
  for id in $ids; do
    log "rootless-podman: stopping container ${id:0:12}"
    curl -sf --max-time 60 -X POST --unix-socket "$sock" \
      "http://d/v4.0.0/libpod/containers/$id/stop?timeout=10" >/dev/null || true
  done
}

stop_podman_containers
stop_pidfile rootless-podman-service "$PID_DIR/rootless-podman-service.pid" /usr/bin/podman
stop_pidfile rootless-podman "$PID_DIR/rootless-podman.pid" /usr/bin/podman
stop_pidfile rootless-podman-pause "$PID_DIR/rootless-podman-pause.pid" /usr/bin/catatonit /usr/bin/podman
stop_pidfile rootless-docker "$PID_DIR/rootless-docker.pid" /usr/bin/rootlesskit
stop_pidfile rootful-docker "$PID_DIR/rootful-docker.pid" /usr/sbin/dockerd

# The delegated name=systemd cgroups setup-engines.sh created; rmdir only removes empty ones.
if [[ -d $CGROUP_SLICE ]]; then
  find "$CGROUP_SLICE" -depth -type d -exec rmdir {} + 2>/dev/null || true
fi
rm -f "$ENV_FILE"
log "done"
