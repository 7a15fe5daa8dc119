#!/bin/sh
# mmdebstrap --customize-hook for kur's node base: turns a plain Debian root filesystem into one
# that boots systemd as PID 1 inside a container. Called with the root filesystem as $1, after
# every package is installed and before mmdebstrap's own cleanup. Runs outside the chroot and
# only writes files, so it works the same in root and unshare mode.
set -eu

root="$1"
units="$root/etc/systemd/system"

# Reproducible across build hosts: mmdebstrap copies these two from the host, and the engine
# bind-mounts its own over them in every container anyway.
rm -f "$root/etc/resolv.conf" "$root/etc/hostname"

# Enablement symlinks that Debian's postinsts created: a node starts only what kur enables
# (getty on tty1, timers for fstrim and dpkg backups, remote-fs, pstore).
find "$units" -mindepth 2 -path '*.wants/*' -type l -delete
find "$units" -mindepth 1 -type d -name '*.wants' -empty -delete

# Units that make no sense in a container, or would reach past it into the host's kernel when the
# container is privileged (systemd-sysctl would apply Debian's fs.protected_* to the host; the
# entrypoint sets the per-namespace values a node needs). Masked (linked to /dev/null) rather than deleted so packages can't
# bring them back.
for unit in \
  getty.target console-getty.service getty-static.service \
  systemd-logind.service systemd-user-sessions.service systemd-ask-password-wall.path \
  systemd-ask-password-console.path \
  systemd-binfmt.service proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount \
  systemd-modules-load.service kmod-static-nodes.service \
  sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount \
  sys-fs-fuse-connections.mount dev-hugepages.mount \
  systemd-journald-audit.socket systemd-firstboot.service systemd-remount-fs.service \
  systemd-hwdb-update.service systemd-pstore.service systemd-repart.service \
  systemd-pcrphase.service systemd-pcrphase-sysinit.service \
  cryptsetup.target veritysetup.target integritysetup.target \
  fstrim.timer dpkg-db-backup.timer \
  systemd-sysctl.service; do
  ln -sf /dev/null "$units/$unit"
done

# A node is a server: no graphical target, and no reason to wait for one.
ln -sf /lib/systemd/system/multi-user.target "$units/default.target"

# The kernel log belongs to the host; reading it from a node would repeat the host's messages in
# every node's journal (and needs privileges a rootless node does not have).
mkdir -p "$root/etc/systemd/journald.conf.d"
cat >"$root/etc/systemd/journald.conf.d/10-kur-container.conf" <<'EOF'
[Journal]
ReadKMsg=no
Storage=volatile
RuntimeMaxUse=64M
EOF

# Empty: the node entrypoint generates a machine-id per node on first start (mmdebstrap already
# writes an empty file when SOURCE_DATE_EPOCH is set; this keeps it so if that ever changes).
: >"$root/etc/machine-id"
