#!/usr/bin/env bash
# Restarts one engine that e2e/host/setup-engines.sh started, the way a host reboot or a daemon
# update does, for the durability tests: `restart-engine.sh rootful-docker|rootless-docker|rootless-podman`.
#   Docker (rootful and rootless): the daemon gets SIGTERM, stops its containers and exits; it is
#   started again and brings back every container whose restart policy says so.
#   Podman: containers outlive the API service (each has its conmon), so the service alone
#   restarting changes nothing; a reboot stops them too. Both happen here; without a restart
#   service (rootless, no systemd) nothing brings them back: that is `kur start cluster`'s job.
# Only pid files under /run/kur-test are signalled, each checked against its executable. Run as root.
set -euo pipefail

readonly PID_DIR=/run/kur-test
readonly ENV_FILE=/var/lib/kur-test/engines.env
readonly HERE=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")

log() { printf '[restart-engine] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

[[ $(id -u) == 0 ]] || die "run as root"
[[ $# == 1 ]] || die "usage: restart-engine.sh rootful-docker|rootless-docker|rootless-podman"

stop_pid() { # <pid file> <executable>: SIGTERM, wait until it is gone
  local file=$1 exe=$2 pid deadline
  [[ -r $file ]] || die "no pid file $file: is the engine running?"
  pid=$(<"$file")
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$exe" ]] || die "$file names pid $pid, which is not $exe"
  log "SIGTERM to $exe (pid $pid)"
  kill -TERM "$pid"
  deadline=$((SECONDS + 60))
  while [[ -e /proc/$pid ]]; do
    ((SECONDS < deadline)) || die "$exe (pid $pid) still running after 60 s"
    sleep 0.2
  done
}

stop_podman() {
  local sock ids id
  sock=$(sed -n 's|^KUR_TEST_HOST_ROOTLESS_PODMAN=unix://||p' "$ENV_FILE")
  ids=$(curl -sf --max-time 10 --unix-socket "$sock" http://d/v4.0.0/libpod/containers/json |
    grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4) || true
  for id in $ids; do
    curl -sf --max-time 60 -X POST --unix-socket "$sock" "http://d/v4.0.0/libpod/containers/$id/stop?timeout=10" \
      >/dev/null || log "could not stop container ${id:0:12}"
  done
  # The service is one podman process, or a launcher and its child in the user namespace (the
  # first start, before the pause process exists): stop every one of them that is still podman.
  local file pid stopped=
  for file in "$PID_DIR/rootless-podman-service.pid" "$PID_DIR/rootless-podman.pid"; do
    pid=$(cat "$file" 2>/dev/null || true)
    [[ -n $pid && $(readlink "/proc/$pid/exe" 2>/dev/null) == /usr/bin/podman ]] || continue
    stop_pid "$file" /usr/bin/podman
    stopped=1
  done
  [[ -n $stopped ]] || die "no running podman service in $PID_DIR"
}

case $1 in
rootful-docker) stop_pid "$PID_DIR/rootful-docker.pid" /usr/sbin/dockerd ;;
rootless-docker) stop_pid "$PID_DIR/rootless-docker.pid" /usr/bin/rootlesskit ;;
rootless-podman) stop_podman ;;
*) die "unknown engine $1" ;;
esac
log "starting it again"
bash "$HERE/setup-engines.sh" >/dev/null
log "$1 is back"
