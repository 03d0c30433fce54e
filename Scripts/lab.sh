#!/usr/bin/env bash
# VirtKit's two-host lab on one machine (idempotent; run as root, or via sudo).
#
#   Scripts/lab.sh up       [--json]   start host B, the nbdkit disks; print status
#   Scripts/lab.sh down     [--json]   remove every lab domain, daemon, namespace and file
#   Scripts/lab.sh status   [--json]   what is running; exit 1 when the lab is not (fully) up
#   Scripts/lab.sh restart-b           restart host B's libvirtd (same namespace, same state)
#   Scripts/lab.sh up-c     [--json]   start host C (like B, plus a TLS listener) beside a running lab
#   Scripts/lab.sh status-c [--json]   host C's URIs and pids; exit 1 when it does not answer
#   Scripts/lab.sh fail eio|enospc     switch a failing disk's errors on (creates its error-file)
#   Scripts/lab.sh repair eio|enospc   switch them off (removes the error-file)
#   Scripts/lab.sh xml NAME [shared|busy|eio|enospc]  print a small guest's domain XML on that disk
#   Scripts/lab.sh xml NAME devices [WATCHDOG-ACTION]  a guest that drives its guest-agent
#                                     channel, balloon and (with an action) ib700 watchdog
#
# Host A is the system libvirtd (Scripts/start-libvirt.sh). Host B is a second libvirtd in
# its own mount + UTS namespace, held open by a `sleep` holder process: own hostname and
# host_uuid, own pid files, own virtlogd, and lab-state directories bind-mounted over
# /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt.
# Clients (and host A's daemon, for peer-to-peer migration) reach it through its socket:
#   qemu+unix:///system?socket=$LAB/hostb/run/libvirt-sock
# (`qemu+unix`, not `qemu`: inside a daemon a transport-less qemu:/// URI is opened by the
# local driver, which ignores ?socket=). Host A's /run/libvirt is bind-mounted at
# $LAB/hosta/run before B's namespace is made, so A's socket URI means host A from both
# namespaces (peer-to-peer B→A migration).
#
# Migration data flows over 127.0.0.1: B's qemu.conf gives it its own port range
# (49300-49363; A keeps the default 49152-49215, so the hosts never fight over a port).
# libvirt refuses a loopback migration_host/migration_address in qemu.conf, and the
# destination's hostname (virtkit-lab-b) does not resolve, so clients pass migrateURI
# tcp://127.0.0.1 (listed per host in `status --json`); QEMU then listens on 127.0.0.1.
#
# Disks: nbdkit (file plugin) on 127.0.0.1, each a 64 MiB raw image whose first sector is
# a tiny 16-bit boot program SeaBIOS runs (so guests need no OS image):
#   shared  idle program (cli; hlt): a small idle guest; the shared storage for migration
#   busy    dirties 512 KiB of guest RAM in an endless loop: a migration capped at a low
#           bandwidth can't converge, so it can be cancelled part-way
#   eio / enospc  idle program behind nbdkit's error filter (guests reach it through a
#           per-guest qcow2 overlay, see disk_xml): every request fails with that
#           errno while the disk's error-file exists (`fail`/`repair`, or touch/rm the
#           path). A guest started while it exists pauses on SeaBIOS's boot-sector read
#           (error_policy=stop) about 8 s after start (SeaBIOS's POST); after the repair a
#           resume retries the read and the guest runs on.
#
# The devices guest (`xml NAME devices`) boots Scripts/lab-boot/devices.S from a small
# read-only local image ($LAB/images/devices.img, assembled at `up` with the Swift
# toolchain's clang and ld.lld): it opens and closes its guest-agent port, reports every
# balloon target the host sets, and arms the ib700 watchdog when the guest has one —
# the guest-side halves of the agent-lifecycle, balloon-change and watchdog events. (A
# Linux guest would do the same, but its kernel takes minutes to boot on this nested
# machine kind.)
#
# Post-copy migration needs userfaultfd, which QEMU (as libvirt-qemu, without
# CAP_SYS_PTRACE) may use only with vm.unprivileged_userfaultfd=1: `up` sets it and `down`
# restores the value it found.
#
# TLS migration: `up` makes a throw-away CA with one server and one client certificate
# (SANs 127.0.0.1, localhost, both host names) in $LAB/pki. Host B's qemu.conf points
# migrate_tls_x509_cert_dir there; host A (the system daemon, whose config the lab leaves
# alone) uses libvirt's default /etc/pki/qemu, which `up` makes a symlink to $LAB/pki when
# that path does not exist yet (`down` removes only that symlink).
#
# Only domains whose name starts with `virtkit-lab-` are removed from host A by `down`
# (host A is shared); every domain on host B is.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=${VIRTKIT_LAB_DIR:-/var/lib/virtkit-lab}
HOSTB_NAME=${VIRTKIT_LAB_HOSTB_NAME:-virtkit-lab-b}
NBD_PORT_BASE=${VIRTKIT_LAB_NBD_PORT:-10851}
DISK_SIZE=${VIRTKIT_LAB_DISK_SIZE:-64M}
PREFIX=virtkit-lab-
B=$LAB/hostb
HOSTA_URI_LOCAL=qemu:///system
HOSTA_URI="qemu+unix:///system?socket=$LAB/hosta/run/libvirt-sock"
HOSTB_URI="qemu+unix:///system?socket=$B/run/libvirt-sock"
# Host C (optional, `up-c`): a third daemon like B, also listening for TLS clients on
# 127.0.0.1 with the lab CA's server certificate (the fleet tests reach it over TLS).
C=$LAB/hostc
HOSTC_NAME=${VIRTKIT_LAB_HOSTC_NAME:-virtkit-lab-c}
HOSTC_TLS_PORT=${VIRTKIT_LAB_HOSTC_TLS_PORT:-16516}
HOSTC_URI="qemu+unix:///system?socket=$C/run/libvirt-sock"
HOSTC_TLS_URI="qemu+tls://127.0.0.1:$HOSTC_TLS_PORT/system?pkipath=$LAB/pki/client"
DISKS=(shared busy eio enospc)

die() { echo "lab: $*" >&2; exit 1; }
log() { [ "${QUIET:-0}" = 1 ] || echo "lab: $*" >&2; }
[ "$(id -u)" -eq 0 ] || exec sudo -E "$0" "$@"

disk_port() { case $1 in shared) echo "$NBD_PORT_BASE" ;; eio) echo $((NBD_PORT_BASE + 1)) ;; enospc) echo $((NBD_PORT_BASE + 2)) ;; busy) echo $((NBD_PORT_BASE + 3)) ;; *) die "unknown disk '$1' (shared|busy|eio|enospc)" ;; esac; }
disk_errno() { case $1 in eio) echo EIO ;; enospc) echo ENOSPC ;; *) echo "" ;; esac; }
error_file() { echo "$LAB/errors/$1.on"; }
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
pid_of() { [ -s "$1" ] && cat "$1" || echo 0; }
answers() { timeout 10 virsh -q -c "$1" version >/dev/null 2>&1; }
is_mounted() { awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo; }
in_ns() { local dir=$1; shift; nsenter -t "$(cat "$dir/holder.pid")" -m -u -- "$@"; }
in_b() { in_ns "$B" "$@"; }

# ---------------------------------------------------------------- hosts B and C
# Each is a libvirtd + virtlogd in a mount + UTS namespace of its own; the functions take
# the host's lab folder (DIR = $B or $C) and its hostname / URI / migration ports.
prepare_b_tree() { prepare_ns_tree "$B" B 49300 49363 ""; }
prepare_ns_tree() {   # prepare_ns_tree DIR LABEL PORT_MIN PORT_MAX EXTRA_LIBVIRTD_CONF
    local dir=$1
    mkdir -p "$dir"/{etc,run,lib,log,cache} "$LAB/hosta/run"
    if [ ! -e "$dir/etc/libvirtd.conf" ]; then
        # Config only: never A's domain definitions (/etc/libvirt/qemu/*.xml) or networks.
        cp -a /etc/libvirt/*.conf "$dir/etc/"
        [ -d /etc/libvirt/nwfilter ] && cp -a /etc/libvirt/nwfilter "$dir/etc/"
        mkdir -p "$dir/etc/qemu/networks/autostart" "$dir/etc/secrets" "$dir/etc/storage" "$dir/etc/hooks"
        local uuid; uuid=$(cat /proc/sys/kernel/random/uuid)
        cat >>"$dir/etc/libvirtd.conf" <<EOF

# --- VirtKit lab host $2 ---
host_uuid = "$uuid"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
keepalive_interval = 5
keepalive_count = 5
$5
EOF
        cat >>"$dir/etc/qemu.conf" <<EOF

# --- VirtKit lab host $2 ---
migration_port_min = $3
migration_port_max = $4
# The cgroup filesystem is shared with host A: without systemd both daemons would name a
# guest's cgroup machine/qemu-ID-NAME.libvirt-qemu, and IDs restart at 1 on each host, so
# a migrating guest could collide with itself. Host B runs its guests without cgroups.
cgroup_controllers = [ ]
migrate_tls_x509_cert_dir = "$LAB/pki"
EOF
    fi
    mkdir -p "$dir/lib"/{boot,images,qemu,sanlock} "$dir/log"/{qemu,lxc} "$dir/cache/qemu"
    chown libvirt-qemu:libvirt-qemu "$dir/lib/qemu" 2>/dev/null || true
    chmod 0750 "$dir/lib/qemu"
}

start_b() { prepare_b_tree; start_ns "$B" "$HOSTB_NAME" "$HOSTB_URI"; }
start_ns() {   # start_ns DIR HOSTNAME URI [LIBVIRTD-FLAGS...]
    local dir=$1 name=$2 uri=$3; shift 3
    if ! is_mounted "$LAB/hosta/run"; then
        mount --bind /run/libvirt "$LAB/hosta/run"
    fi
    if ! alive "$dir/holder.pid"; then
        # A dead holder with live daemons (its starter was killed, e.g. a session ending):
        # they still hold the host's old namespace and pid-file locks, so stop them first.
        stop_pidfile "$dir/libvirtd.pid"
        stop_pidfile "$dir/virtlogd.pid"
        rm -f "$dir/holder.pid"
        # The holder keeps the namespaces alive across libvirtd restarts; everything else
        # in B is started in them with nsenter.
        unshare -m -u --propagation private -- /bin/sh -ec '
            B=$1; hostname "$2"
            mount --bind "$B/etc" /etc/libvirt
            mount --bind "$B/run" /run/libvirt
            mount --bind "$B/lib" /var/lib/libvirt
            mount --bind "$B/log" /var/log/libvirt
            mount --bind "$B/cache" /var/cache/libvirt
            echo $$ >"$B/holder.pid.tmp"; mv "$B/holder.pid.tmp" "$B/holder.pid"
            exec sleep infinity' sh "$dir" "$name" </dev/null >/dev/null 2>"$dir/holder.err" &
        for _ in $(seq 1 50); do alive "$dir/holder.pid" && break; sleep 0.1; done
        alive "$dir/holder.pid" || die "host $name namespace did not come up: $(cat "$dir/holder.err" 2>/dev/null)"
    fi
    alive "$dir/virtlogd.pid" || in_ns "$dir" virtlogd -d -p "$dir/virtlogd.pid" </dev/null >/dev/null 2>>"$dir/virtlogd.stderr"
    start_ns_libvirtd "$dir" "$uri" "$@"
}

# Daemons get /dev/null for stdin/stdout: a caller reading our output through a pipe
# (tests, `virtkit lab`) would otherwise wait for EOF until the daemon exits.
start_b_libvirtd() { start_ns_libvirtd "$B" "$HOSTB_URI"; }
start_ns_libvirtd() {   # start_ns_libvirtd DIR URI [LIBVIRTD-FLAGS...]
    local dir=$1 uri=$2; shift 2
    if ! alive "$dir/libvirtd.pid"; then
        rm -f "$dir/libvirtd.pid"
        in_ns "$dir" libvirtd -d "$@" -p "$dir/libvirtd.pid" </dev/null >/dev/null 2>>"$dir/libvirtd.stderr"
    fi
    for _ in $(seq 1 100); do
        answers "$uri" && return 0
        alive "$dir/libvirtd.pid" || break
        sleep 0.2
    done
    tail -n 20 "$dir/log/libvirtd.log" >&2 2>/dev/null || true
    die "libvirtd of $dir does not answer on $uri"
}

# Host C: B's recipe plus a TLS listener (the lab CA's server certificate; any client
# certificate the CA signed is accepted) and its own migration ports.
start_c() {
    make_client_pki
    prepare_ns_tree "$C" C 49400 49463 "listen_tls = 1
listen_tcp = 0
tls_port = \"$HOSTC_TLS_PORT\"
auth_tls = \"none\"
ca_file = \"$LAB/pki/ca-cert.pem\"
cert_file = \"$LAB/pki/server-cert.pem\"
key_file = \"$LAB/pki/server-key.pem\""
    start_ns "$C" "$HOSTC_NAME" "$HOSTC_URI" --listen
    answers "$HOSTC_TLS_URI" || die "host C does not answer over TLS on $HOSTC_TLS_URI"
}

# The client side of the lab CA in the layout libvirt's `pkipath` wants.
make_client_pki() {
    local d=$LAB/pki/client
    [ -s "$d/clientkey.pem" ] && return 0
    mkdir -p "$d"
    cp "$LAB/pki/ca-cert.pem" "$d/cacert.pem"
    cp "$LAB/pki/client-cert.pem" "$d/clientcert.pem"
    cp "$LAB/pki/client-key.pem" "$d/clientkey.pem"
    chmod 0700 "$d"; chmod 0600 "$d"/*.pem
}

stop_c() {
    [ -d "$C" ] || return 0
    # A daemon left stopped (SIGSTOP by a test) must run again to answer and to end.
    alive "$C/libvirtd.pid" && kill -CONT "$(cat "$C/libvirtd.pid")" 2>/dev/null || true
    [ -s "$C/libvirtd.pid" ] && remove_domains "$HOSTC_URI" all
    stop_ns "$C"
}

stop_ns() {   # stop_ns DIR: a namespace host's libvirtd, its leftover guests, virtlogd, holder
    local dir=$1 p
    stop_pidfile "$dir/libvirtd.pid"
    # Guests the host started outlive its libvirtd only if it was killed; they hold the namespace.
    if alive "$dir/holder.pid"; then
        for p in $(pgrep -f "guest=$PREFIX" || true); do
            [ "$(readlink /proc/$p/ns/mnt)" = "$(readlink /proc/$(cat "$dir/holder.pid")/ns/mnt)" ] && kill -KILL "$p" 2>/dev/null || true
        done
    fi
    stop_pidfile "$dir/virtlogd.pid"
    stop_pidfile "$dir/holder.pid" KILL
    # Daemons of an earlier, abandoned namespace no pid file points at any more.
    pkill -KILL -f -- "-p $dir/(libvirtd|virtlogd)\.pid" 2>/dev/null || true
}

status_c_json() {
    printf '{"name": "%s", "uri": "%s", "tlsURI": "%s", "migrateURI": "tcp://127.0.0.1", "migrationPorts": [49400, 49463], "up": %s, "libvirtdPID": %s, "namespacePID": %s}\n' \
        "$HOSTC_NAME" "$HOSTC_URI" "$HOSTC_TLS_URI" "$(answers "$HOSTC_URI" && echo true || echo false)" "$(pid_of "$C/libvirtd.pid")" "$(pid_of "$C/holder.pid")"
}

stop_pidfile() {   # stop_pidfile FILE [signal]: TERM, wait up to 10 s, then KILL
    local f=$1 pid
    alive "$f" || { rm -f "$f"; return 0; }
    pid=$(cat "$f"); kill "${2:-TERM}" "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    rm -f "$f"
}

restart_b() {
    alive "$B/holder.pid" || die "host B is not up (run: $0 up)"
    stop_pidfile "$B/libvirtd.pid"
    start_b_libvirtd
    log "host B libvirtd restarted (pid $(cat "$B/libvirtd.pid"))"
}

# ---------------------------------------------------------------- disks
boot_sector() {   # 512 bytes of hand-assembled real-mode code + the 55 AA signature
    local code
    if [ "$1" = busy ]; then
        # cli; outer: inc dx; mov bx,0x1000; seg: mov es,bx; xor di,di; mov ax,dx;
        # mov cx,0x8000; rep stosw; add bx,0x1000; cmp bx,0x9000; jb seg; jmp outer
        code='\xfa\x42\xbb\x00\x10\x8e\xc3\x31\xff\x89\xd0\xb9\x00\x80\xf3\xab\x81\xc3\x00\x10\x81\xfb\x00\x90\x72\xeb\xeb\xe5'
    else
        code='\xfa\xf4\xeb\xfd'   # cli; hlt; jmp back to hlt
    fi
    /usr/bin/python3 -c 'import sys; c=sys.argv[1].encode("latin1").decode("unicode_escape").encode("latin1"); sys.stdout.buffer.write(c + b"\0"*(510-len(c)) + b"\x55\xaa")' "$code"
}

start_disk() {
    local d=$1 port img pidf errno
    port=$(disk_port "$d"); img=$LAB/disks/$d.img; pidf=$LAB/disks/$d.pid; errno=$(disk_errno "$d")
    mkdir -p "$LAB/disks" "$LAB/errors"
    if [ ! -e "$img" ]; then
        truncate -s "$DISK_SIZE" "$img.tmp"
        boot_sector "$d" | dd of="$img.tmp" conv=notrunc status=none
        mv "$img.tmp" "$img"
    fi
    alive "$pidf" && return 0
    local args=(-P "$pidf" -i 127.0.0.1 -p "$port")
    if [ -n "$errno" ]; then
        nbdkit "${args[@]}" --filter=error file "file=$img" \
            "error=$errno" error-rate=100% "error-file=$(error_file "$d")" </dev/null >/dev/null 2>>"$LAB/disks/$d.log"
    else
        nbdkit "${args[@]}" file "file=$img" </dev/null >/dev/null 2>>"$LAB/disks/$d.log"
    fi
    for _ in $(seq 1 50); do alive "$pidf" && return 0; sleep 0.1; done
    die "nbdkit for disk '$d' did not start (port $port busy?)"
}

# Assembles Scripts/lab-boot/devices.S into a 1 MiB raw image (boot sector + 55 AA).
build_devices_image() {
    local img=$LAB/images/devices.img src=$HERE/lab-boot/devices.S tmp
    [ -s "$img" ] && [ "$img" -nt "$src" ] && return 0
    # The toolchain's bin directory: next to the real `swift`, or (behind a proxy such as
    # swiftly) from the runtime resource path the driver reports (<toolchain>/usr/lib/swift).
    local clang="" lld="" bin rrp
    for bin in "$(dirname "$(readlink -f "$(command -v swift || echo /nonexistent)")")" \
               "$(rrp=$(swift -print-target-info 2>/dev/null | sed -n 's/.*"runtimeResourcePath": "\(.*\)".*/\1/p'); [ -n "$rrp" ] && echo "$rrp/../../bin")"; do
        if [ -x "$bin/clang" ] && [ -x "$bin/ld.lld" ]; then clang=$bin/clang; lld=$bin/ld.lld; break; fi
    done
    [ -n "$clang" ] || clang=$(command -v clang) || die "no clang (the Swift toolchain's) to assemble $src"
    [ -n "$lld" ] || lld=$(command -v ld.lld) || die "no ld.lld (the Swift toolchain's) to link $src"
    mkdir -p "$LAB/images"
    tmp=$(mktemp -d)
    "$clang" --target=i386-unknown-none-elf -m16 -c "$src" -o "$tmp/devices.o" \
        && "$lld" -m elf_i386 --image-base=0 -Ttext=0x7c00 -e start --oformat=binary -o "$tmp/devices.bin" "$tmp/devices.o" \
        || { rm -rf "$tmp"; die "could not assemble $src"; }
    [ "$(stat -c %s "$tmp/devices.bin")" -le 510 ] || { rm -rf "$tmp"; die "$src does not fit a boot sector"; }
    truncate -s 1M "$tmp/devices.img"
    dd if="$tmp/devices.bin" of="$tmp/devices.img" conv=notrunc status=none
    printf '\x55\xaa' | dd of="$tmp/devices.img" bs=1 seek=510 conv=notrunc status=none
    chmod 644 "$tmp/devices.img"
    mv "$tmp/devices.img" "$img"
    rm -rf "$tmp"
}

# ---------------------------------------------------------------- TLS
make_pki() {
    local pki=$LAB/pki
    if [ ! -s "$pki/client-cert.pem" ]; then
        local tmp; tmp=$(mktemp -d)
        (
            cd "$tmp"
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
                -subj "/CN=VirtKit lab CA" -keyout ca-key.pem -out ca-cert.pem \
                -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
            for role in server client; do
                local usage=serverAuth; [ $role = client ] && usage=clientAuth
                openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=virtkit-lab-$role" \
                    -keyout $role-key.pem -out $role.csr
                printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:%s,DNS:%s\nextendedKeyUsage=%s\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n' \
                    "$(hostname)" "$HOSTB_NAME" $usage >$role.ext
                openssl x509 -req -in $role.csr -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial \
                    -days 30 -extfile $role.ext -out $role-cert.pem
            done
        ) >"$tmp/openssl.log" 2>&1 || { cat "$tmp/openssl.log" >&2; rm -rf "$tmp"; die "could not make the TLS certificates"; }
        mkdir -p "$pki"
        cp "$tmp"/{ca-cert,server-cert,server-key,client-cert,client-key}.pem "$pki/"
        rm -rf "$tmp"
        # QEMU reads them as libvirt-qemu.
        chown root:libvirt-qemu "$pki" "$pki"/*.pem 2>/dev/null || true
        chmod 0750 "$pki"; chmod 0640 "$pki"/*.pem
    fi
    if [ ! -e /etc/pki/qemu ] && [ ! -L /etc/pki/qemu ]; then
        [ -d /etc/pki ] || { mkdir /etc/pki; touch "$LAB/pki.madedir"; }
        ln -s "$pki" /etc/pki/qemu
        echo /etc/pki/qemu >"$LAB/pki.link"
    fi
}

# ---------------------------------------------------------------- domains
lab_domains() {   # lab_domains URI ALL: names of the lab's domains on that host
    virsh -q -c "$1" list --all --name 2>/dev/null | while read -r n; do
        [ -n "$n" ] || continue
        if [ "$2" = all ] || [[ $n == "$PREFIX"* ]]; then echo "$n"; fi
    done
}
remove_domains() {
    local uri=$1 scope=$2 n
    answers "$uri" || return 0
    for n in $(lab_domains "$uri" "$scope"); do
        virsh -q -c "$uri" destroy "$n" >/dev/null 2>&1 || true
        virsh -q -c "$uri" undefine --nvram "$n" >/dev/null 2>&1 || \
            virsh -q -c "$uri" undefine "$n" >/dev/null 2>&1 || true
        log "removed domain $n from $uri"
    done
}

# The guest's disk. A failing disk is reached through a per-guest qcow2 overlay whose
# backing file is the nbd export: libvirt 9.0 drops the I/O-error events of a disk whose
# source is the network itself (the event's srcPath is NULL for it and the daemon can't
# send it), while for a file disk the event names the file and the alias. Reads of the
# (unallocated) overlay go to the backing export, so the errors still come from nbdkit.
disk_xml() {   # disk_xml NAME DISK
    local name=$1 disk=$2 port; port=$(disk_port "$disk")
    if [ -n "$(disk_errno "$disk")" ]; then
        local ov=$LAB/overlays/$name.qcow2
        mkdir -p "$LAB/overlays"
        rm -f "$ov"
        qemu-img create -q -f qcow2 -F raw -b "nbd://127.0.0.1:$port" "$ov" >/dev/null
        cat <<EOF
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none' error_policy='stop' rerror_policy='stop'/>
      <source file='$ov'/>
      <target dev='vda' bus='virtio'/>
      <boot order='1'/>
    </disk>
EOF
    else
        cat <<EOF
    <disk type='network' device='disk'>
      <driver name='qemu' type='raw' cache='none' error_policy='stop' rerror_policy='stop'/>
      <source protocol='nbd'><host name='127.0.0.1' port='$port'/></source>
      <target dev='vda' bus='virtio'/>
      <boot order='1'/>
    </disk>
EOF
    fi
}

devices_guest_devices() {   # devices_guest_devices [WATCHDOG-ACTION]: the devices guest's <devices> lines
    [ -s "$LAB/images/devices.img" ] || die "no $LAB/images/devices.img (run: $0 up)"
    cat <<EOF
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$LAB/images/devices.img'/>
      <target dev='vda' bus='virtio'/>
      <readonly/>
    </disk>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <controller type='usb' model='none'/>
EOF
    [ -z "${1:-}" ] || echo "    <watchdog model='ib700' action='$1'/>"
    echo "    <memballoon model='virtio'/>"
}

domain_xml() {   # domain_xml NAME DISK [WATCHDOG-ACTION (devices guest)]
    local name=$1 disk=${2:-shared} type=qemu devices
    [ -c /dev/kvm ] && [ -w /dev/kvm ] && type=kvm
    if [ "$disk" = devices ]; then
        devices=$(devices_guest_devices "${3:-}")
    else
        devices=$(disk_xml "$name" "$disk"; printf "    <controller type='usb' model='none'/>\n    <memballoon model='none'/>")
    fi
    cat <<EOF
<domain type='$type'>
  <name>$name</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
$devices
  </devices>
</domain>
EOF
}

# ---------------------------------------------------------------- status
status_json() {
    local d hb=false hbpid ok=true
    answers "$HOSTB_URI" && hb=true
    printf '{\n  "labDir": "%s",\n  "hosts": [\n' "$LAB"
    printf '    {"name": "%s", "uri": "%s", "localURI": "%s", "migrateURI": "tcp://127.0.0.1", "migrationPorts": [49152, 49215], "up": %s},\n' \
        "$(hostname)" "$HOSTA_URI" "$HOSTA_URI_LOCAL" "$(answers "$HOSTA_URI" && echo true || echo false)"
    printf '    {"name": "%s", "uri": "%s", "migrateURI": "tcp://127.0.0.1", "migrationPorts": [49300, 49363], "up": %s, "libvirtdPID": %s, "namespacePID": %s}\n' \
        "$HOSTB_NAME" "$HOSTB_URI" "$hb" "$(pid_of "$B/libvirtd.pid")" "$(pid_of "$B/holder.pid")"
    printf '  ],\n  "devicesImage": "%s",\n  "userfaultfd": %s,\n  "disks": [\n' \
        "$LAB/images/devices.img" "$(cat /proc/sys/vm/unprivileged_userfaultfd 2>/dev/null || echo null)"
    local first=1
    for d in "${DISKS[@]}"; do
        [ $first = 1 ] || printf ',\n'; first=0
        local up=false ef errno; alive "$LAB/disks/$d.pid" && up=true
        errno=$(disk_errno "$d")
        printf '    {"name": "%s", "uri": "nbd://127.0.0.1:%s", "host": "127.0.0.1", "port": %s, "up": %s' \
            "$d" "$(disk_port "$d")" "$(disk_port "$d")" "$up"
        if [ -n "$errno" ]; then
            ef=$(error_file "$d")
            printf ', "errno": "%s", "errorFile": "%s", "failing": %s' "$errno" "$ef" "$([ -e "$ef" ] && echo true || echo false)"
        fi
        printf '}'
    done
    printf '\n  ]\n}\n'
}

is_up() {
    answers "$HOSTA_URI" && answers "$HOSTB_URI" || return 1
    local d; for d in "${DISKS[@]}"; do alive "$LAB/disks/$d.pid" || return 1; done
}

status_text() {
    echo "host A  $(hostname)  $HOSTA_URI  $(answers "$HOSTA_URI" && echo up || echo DOWN)"
    echo "host B  $HOSTB_NAME  $HOSTB_URI  $(answers "$HOSTB_URI" && echo up || echo DOWN)"
    local d; for d in "${DISKS[@]}"; do
        local st=DOWN; alive "$LAB/disks/$d.pid" && st=up
        local extra=""; [ -n "$(disk_errno "$d")" ] && extra="  error-file $(error_file "$d") ($([ -e "$(error_file "$d")" ] && echo failing || echo healthy))"
        echo "disk    $d  nbd://127.0.0.1:$(disk_port "$d")  $st$extra"
    done
}

# ---------------------------------------------------------------- commands
cmd=${1:-status}; shift || true
json=0
for a in "$@"; do [ "$a" = --json ] && json=1; done
case $cmd in
up)
    answers "$HOSTA_URI_LOCAL" || die "host A (qemu:///system) does not answer: run Scripts/start-libvirt.sh first"
    mkdir -p "$LAB"
    for d in "${DISKS[@]}"; do start_disk "$d"; done
    build_devices_image
    make_pki
    if [ -w /proc/sys/vm/unprivileged_userfaultfd ] && [ ! -e "$LAB/userfaultfd.orig" ]; then
        cat /proc/sys/vm/unprivileged_userfaultfd >"$LAB/userfaultfd.orig"
        echo 1 >/proc/sys/vm/unprivileged_userfaultfd
    fi
    start_b
    is_up || die "lab did not come up"
    if [ $json = 1 ]; then status_json; else status_text; fi
    ;;
down)
    if [ -d "$LAB" ]; then
        stop_c
        [ -s "$B/libvirtd.pid" ] && remove_domains "$HOSTB_URI" all
        remove_domains "$HOSTA_URI_LOCAL" prefix
        stop_ns "$B"
        for d in "${DISKS[@]}"; do stop_pidfile "$LAB/disks/$d.pid"; done
        is_mounted "$LAB/hosta/run" && umount "$LAB/hosta/run"
        is_mounted "$LAB/hosta/run" && die "could not unmount $LAB/hosta/run"
        if [ -s "$LAB/userfaultfd.orig" ]; then cat "$LAB/userfaultfd.orig" >/proc/sys/vm/unprivileged_userfaultfd; fi
        if [ -s "$LAB/pki.link" ] && [ -L "$(cat "$LAB/pki.link")" ]; then rm -f "$(cat "$LAB/pki.link")"; fi
        if [ -e "$LAB/pki.madedir" ]; then rmdir /etc/pki 2>/dev/null || true; fi
        rm -rf "$LAB"
        log "lab removed"
    fi
    if [ $json = 1 ]; then echo '{"up": false}'; fi
    ;;
status)
    if [ $json = 1 ]; then status_json; else status_text; fi
    is_up
    ;;
restart-b) restart_b ;;
up-c)
    # Host C beside a running lab (A and B untouched).
    is_up || die "the lab is not up (run: $0 up)"
    start_c
    if [ $json = 1 ]; then status_c_json; else echo "host C  $HOSTC_NAME  $HOSTC_URI  $HOSTC_TLS_URI  up"; fi
    ;;
status-c)
    if [ $json = 1 ]; then status_c_json; else echo "host C  $HOSTC_NAME  $HOSTC_URI  $HOSTC_TLS_URI  $(answers "$HOSTC_URI" && echo up || echo DOWN)"; fi
    answers "$HOSTC_URI"
    ;;
fail)   [ -n "$(disk_errno "${1:-}")" ] || die "usage: $0 fail eio|enospc"; mkdir -p "$LAB/errors"; touch "$(error_file "$1")" ;;
repair) [ -n "$(disk_errno "${1:-}")" ] || die "usage: $0 repair eio|enospc"; rm -f "$(error_file "$1")" ;;
xml) [ -n "${1:-}" ] || die "usage: $0 xml NAME [shared|busy|eio|enospc | devices [WATCHDOG-ACTION]]"; domain_xml "$1" "${2:-shared}" "${3:-}" ;;
*) die "usage: $0 up|down|status [--json] | restart-b | up-c|status-c [--json] | fail|repair eio|enospc | xml NAME [DISK]" ;;
esac
