#!/usr/bin/env bash
# Starts the system libvirtd (qemu:///system) by hand, for machines without an init
# system: creates the libvirt-qemu user and kvm group when missing, makes /dev/kvm
# usable by QEMU, starts virtlogd and libvirtd, and waits until the daemon answers.
# Idempotent: does nothing when libvirtd already answers.
set -euo pipefail
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

answers() { timeout 10 virsh -q -c qemu:///system version >/dev/null 2>&1; }
if answers; then echo "start-libvirt: libvirtd already running"; exit 0; fi

getent group kvm >/dev/null || $sudo groupadd --system kvm
getent group libvirt-qemu >/dev/null || $sudo groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null || \
    $sudo useradd --system --no-create-home --home-dir /var/lib/libvirt \
        --shell /usr/sbin/nologin -g libvirt-qemu -G kvm libvirt-qemu
if [ -e /dev/kvm ]; then
    $sudo chgrp kvm /dev/kvm && $sudo chmod 0660 /dev/kvm
fi
$sudo mkdir -p /run/libvirt /var/lib/libvirt/images /var/log/libvirt/qemu /var/cache/libvirt

{ [ -s /run/virtlogd.pid ] && $sudo kill -0 "$(cat /run/virtlogd.pid)" 2>/dev/null; } || $sudo virtlogd -d
# The system daemon by its pid file: `pgrep -x libvirtd` also matches the lab's host B and C
# daemons, and would leave a crashed system daemon down.
if ! { [ -s /run/libvirtd.pid ] && $sudo kill -0 "$(cat /run/libvirtd.pid)" 2>/dev/null; }; then
    $sudo rm -f /run/libvirtd.pid
    $sudo libvirtd -d
fi
for _ in $(seq 1 60); do
    if answers; then
        echo "start-libvirt: libvirtd answers on qemu:///system ($(virsh -q -c qemu:///system version | head -1 | tr -s ' '))"
        exit 0
    fi
    sleep 0.5
done
echo "start-libvirt: libvirtd did not answer within 30 s" >&2
tail -n 20 /var/log/libvirt/libvirtd.log 2>/dev/null >&2 || true
exit 1
