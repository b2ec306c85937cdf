#!/usr/bin/env bash
# Builds the docker provider's node image: a Debian 12 rootfs from
# debootstrap with the cluster packages installed in a chroot (no registry
# is needed), imported into docker, then the Dockerfile on top.
#
#   images/build.sh TAG            e.g. halab/node:3f2a...
#   HALAB_BASE_IMAGE=debian:bookworm images/build.sh TAG
#       skips debootstrap and starts from an image you can pull.
#   HALAB_BASE_REPO=halab/benchnode-base images/build.sh TAG
#       names the debootstrapped rootfs image (default halab/base), so that
#       `halab bench` can build one from nothing without touching another
#       lab's cache.
#
# Each step prints a "==>" line so a user sees where a slow build is.
set -euo pipefail

tag=${1:?usage: images/build.sh IMAGE:TAG}
here=$(cd "$(dirname "$0")" && pwd)
mirror=${HALAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
# Keep in sync with nothing else: this list is part of the image's content
# hash because this file is.
packages=(
  systemd systemd-sysv dbus openssh-server sudo ca-certificates
  iproute2 iputils-ping net-tools procps psmisc iptables less
  pacemaker pacemaker-cli-utils corosync crmsh resource-agents heartbeat
  cluster-glue fence-agents
)
# Daemons the provisioning step enables per stack; off in the image so that
# a fresh node runs no cluster software.
disabled=(corosync pacemaker heartbeat pacemaker_remote)

step() { printf '==> %s\n' "$*"; }

# The rootfs depends on this script only (mirror, suite, packages), not on
# the Dockerfile: a Dockerfile change must not re-run debootstrap.
base="${HALAB_BASE_REPO:-halab/base}:$(sha256sum "$0" | cut -c1-12)"
if [[ -n "${HALAB_BASE_IMAGE:-}" ]]; then
  step "base image: ${HALAB_BASE_IMAGE} (pulled, not debootstrapped)"
  docker pull "$HALAB_BASE_IMAGE"
  from=$HALAB_BASE_IMAGE
  install_in_dockerfile=1
else
  install_in_dockerfile=0
  if docker image inspect "$base" >/dev/null 2>&1; then
    step "rootfs $base already imported"
  else
    command -v debootstrap >/dev/null || { echo "debootstrap not found: apt-get install debootstrap" >&2; exit 1; }
    [[ $(id -u) -eq 0 ]] || { echo "debootstrap needs root: run as root (sudo make image)" >&2; exit 1; }
    root=$(mktemp -d /var/tmp/halab-rootfs.XXXXXX)
    cleanup() {
      for m in proc sys dev/pts dev; do umount -l "$root/$m" 2>/dev/null || true; done
      rm -rf --one-file-system "$root"
    }
    trap cleanup EXIT
    step "[1/4] debootstrap --variant=minbase $suite from $mirror (about 2 minutes)"
    debootstrap --variant=minbase "$suite" "$root" "$mirror" |
      awk '/^I: (Retrieving|Validating|Extracting|Installing|Configuring|Base system)/ { n++; if (n % 25 == 1 || /Base system/) print "    " $0; fflush() }'
    step "[2/4] apt-get install ${#packages[@]} packages in the rootfs"
    mount -t proc proc "$root/proc"
    mount --bind /dev "$root/dev"
    mount --bind /dev/pts "$root/dev/pts"
    # Package scripts must not start daemons inside the chroot.
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 0755 "$root/usr/sbin/policy-rc.d"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get -qq update
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 \
      install --no-install-recommends "${packages[@]}" |
      awk '/^(Get|Setting up)/ { n++; if (n % 20 == 1) print "    " $0; fflush() } END { print "    " n " package actions" }'
    chroot "$root" systemctl disable "${disabled[@]}" >/dev/null 2>&1 || true
    chroot "$root" apt-get clean
    rm -rf "$root"/var/lib/apt/lists/* "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
    for m in dev/pts dev proc; do umount "$root/$m"; done
    step "[3/4] docker import as $base"
    tar -C "$root" --numeric-owner -c . | docker import - "$base" >/dev/null
  fi
  from=$base
fi

step "[4/4] docker build $tag"
DOCKER_BUILDKIT=0 docker build -q \
  --build-arg "BASE=$from" \
  --build-arg "INSTALL=$install_in_dockerfile" \
  --build-arg "PACKAGES=${packages[*]}" \
  --build-arg "DISABLED=${disabled[*]}" \
  -t "$tag" "$here" >/dev/null
step "image $tag ready"
