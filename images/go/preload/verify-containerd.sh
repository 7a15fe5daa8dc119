#!/usr/bin/env bash
# Proves a kur-preload root works in a real containerd: images listed with their labels, blobs
# kept by garbage collection, containers run from never-unpacked images through ctr (overlayfs and
# native) and through the CRI (crictl), with no pull. Also proves two runs give identical output.
#
# usage (as root): verify-containerd.sh BIN_DIR
#   BIN_DIR holds containerd, ctr, containerd-shim-runc-v2 and crictl at the node's versions;
#   runc comes from PATH; a static busybox from $BUSYBOX (default /usr/bin/busybox).
# Everything lives in a temporary directory that is removed at the end, with the processes and
# cgroups this script created.
set -euo pipefail

BIN=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
BUSYBOX=${BUSYBOX:-/usr/bin/busybox}
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /tmp/kur-preload-verify.XXXXXX)
CG="kur-preload-verify-$$"
CTD_PID=""
export PATH="$BIN:$PATH"
C="ctr -a $W/containerd.sock -n k8s.io"
CR="crictl --runtime-endpoint unix://$W/containerd.sock --image-endpoint unix://$W/containerd.sock --config /dev/null"

cleanup() {
  set +e
  if [[ -n $CTD_PID ]]; then
    $CR rm -af >/dev/null 2>&1
    $CR stopp $($CR pods -q 2>/dev/null) >/dev/null 2>&1
    $CR rmp -af >/dev/null 2>&1
    stop_containerd
  fi
  for d in /sys/fs/cgroup/*/"$CG" /sys/fs/cgroup/*/"$CG"-cri; do
    [[ -d $d ]] && rmdir "$d"
  done
  grep -q " $W/" /proc/mounts && awk -v w="$W/" '$2 ~ "^"w {print $2}' /proc/mounts | sort -r | xargs -r umount
  rm -rf "$W"
}
trap cleanup EXIT

stop_containerd() {
  [[ -n $CTD_PID ]] || return 0
  # Only our own process: pids wrap here, so check what the pid runs before signalling it.
  if [[ $(readlink "/proc/$CTD_PID/exe" 2>/dev/null) == "$BIN/containerd" ]]; then
    kill "$CTD_PID"
    for _ in $(seq 50); do [[ -e /proc/$CTD_PID ]] || break; sleep 0.1; done
  fi
  CTD_PID=""
}

start_containerd() {
  setsid "$BIN/containerd" --config "$W/config.toml" >>"$W/containerd.log" 2>&1 </dev/null &
  CTD_PID=$!
  for _ in $(seq 100); do [[ -S $W/containerd.sock ]] && $C version >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "containerd did not start:" >&2
  tail -20 "$W/containerd.log" >&2
  exit 1
}

step() { printf '\n== %s\n' "$*"; }

step "build kur-preload"
(cd "$HERE" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$W/kur-preload" .)

step "layers and spec"
TAR=(tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner)
mkdir -p "$W/src/base/bin" "$W/src/base/etc" "$W/src/app/usr/local/bin" "$W/layers"
cp "$BUSYBOX" "$W/src/base/bin/busybox"
for a in sh echo cat ls sleep true; do ln -s busybox "$W/src/base/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$W/src/base/etc/passwd"
printf '#!/bin/sh\necho "hello from a preloaded image: $*"\n' >"$W/src/app/usr/local/bin/hello"
chmod 755 "$W/src/app/usr/local/bin/hello"
(cd "$W/src/base" && "${TAR[@]}" -cf "$W/layers/base.tar" bin etc)
(cd "$W/src/app" && "${TAR[@]}" -cf "$W/layers/app.tar" usr)
cat >"$W/spec.json" <<'EOF'
{
  "namespace": "k8s.io",
  "labels": { "io.cri-containerd.pinned": "pinned" },
  "images": [
    { "name": "docker.io/library/busybox:kur-test", "layers": ["layers/base.tar"], "architecture": "amd64",
      "config": { "Cmd": ["/bin/sh"], "Env": ["PATH=/usr/local/bin:/bin"] } },
    { "name": "registry.k8s.io/pause:3.10.1", "layers": ["layers/base.tar"], "architecture": "amd64",
      "config": { "Entrypoint": ["/bin/sleep", "2147483647"] } },
    { "name": "kur.local/hello:1", "layers": ["layers/base.tar", "layers/app.tar"], "architecture": "amd64",
      "config": { "Entrypoint": ["/usr/local/bin/hello"], "Env": ["PATH=/usr/local/bin:/bin"] } }
  ]
}
EOF

step "two runs give byte-identical roots"
"$W/kur-preload" --spec "$W/spec.json" --root "$W/out1" >"$W/summary.json"
"$W/kur-preload" --spec "$W/spec.json" --root "$W/out2" >/dev/null
diff -r "$W/out1" "$W/out2" && echo "diff -r: identical"
for r in out1 out2; do (cd "$W/$r" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum); done
(cd "$W/out1" && find . | sort)

step "containerd over the preloaded root"
cp -a "$W/out1" "$W/root"
cat >"$W/config.toml" <<EOF
version = 3
root = '$W/root'
state = '$W/state'
disabled_plugins = ['io.containerd.nri.v1.nri']
[grpc]
  address = '$W/containerd.sock'
[ttrpc]
  address = '$W/containerd.sock.ttrpc'
[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = 'registry.k8s.io/pause:3.10.1'
[plugins.'io.containerd.cri.v1.runtime']
  # Lowering oom_score_adj needs CAP_SYS_RESOURCE, which some hosts (and nodes) lack.
  restrict_oom_score_adj = true
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = 'io.containerd.runc.v2'
[plugins.'io.containerd.grpc.v1.cri']
  disable_tcp_service = true
EOF
start_containerd
$C version | sed -n '/Server/,$p'
$C images ls
$C content ls
$CR images
$CR inspecti kur.local/hello:1 | grep -E '"(pinned|id)"'

step "ctr run (overlayfs) and ctr run (native), images never unpacked before"
$C run --rm --cgroup "/$CG/t1" docker.io/library/busybox:kur-test t1 /bin/sh -c 'echo busybox runs: $(ls /bin | wc -l) entries in /bin'
$C run --rm --snapshotter native --cgroup "/$CG/t2" kur.local/hello:1 t2 /usr/local/bin/hello via-native
$C snapshot --snapshotter overlayfs ls
$C snapshot --snapshotter native ls

step "garbage collection keeps every preloaded blob and removes an orphan"
before=$($C content ls -q | sort)
printf 'orphan blob, referenced by nothing' | $C content ingest kur-gc-orphan
echo "blobs with orphan: $($C content ls -q | wc -l)"
$C images tag docker.io/library/busybox:kur-test docker.io/library/kur-gc-trigger:1 >/dev/null
$C images rm --sync docker.io/library/kur-gc-trigger:1 >/dev/null
after=$($C content ls -q | sort)
echo "blobs after synchronous GC: $(echo "$after" | wc -l)"
[[ $before == "$after" ]] && echo "same blob set as before the orphan: OK"

step "restart containerd (startup GC), then run a pod through the CRI"
stop_containerd
start_containerd
sleep 1
echo "blobs after restart: $($C content ls -q | wc -l), records: $($C images ls -q | wc -l)"
cat >"$W/pod.json" <<EOF
{"metadata":{"name":"preload","namespace":"default","uid":"preload-uid","attempt":0},"log_directory":"$W/logs",
 "linux":{"cgroup_parent":"/$CG-cri","security_context":{"namespace_options":{"network":2}}}}
EOF
cat >"$W/ctr.json" <<'EOF'
{"metadata":{"name":"hello"},"image":{"image":"kur.local/hello:1"},"args":["via-cri"],"log_path":"hello.log","linux":{}}
EOF
mkdir -p "$W/logs"
pod=$($CR runp "$W/pod.json")
cid=$($CR create --no-pull "$pod" "$W/ctr.json" "$W/pod.json")
$CR start "$cid" >/dev/null
for _ in $(seq 50); do $CR ps -a -q --state exited | grep -q "$cid" && break; sleep 0.2; done
$CR ps -a
$CR logs "$cid"
echo "PullImage calls in containerd's log: $(grep -c 'PullImage' "$W/containerd.log" || true)"

step "summary of the preload run"
cat "$W/summary.json"
