#!/usr/bin/env python3
"""Writes the hand-made HostProbe fixture trees next to this script.

Run it after changing it: `python3 make-handmade.py`; the trees are committed so that
reviewers see the exact files. Each tree is a tiny /sys + /proc, with sysfs' relative
symlinks where the kernel has them.
"""
import os, shutil

HERE = os.path.dirname(os.path.abspath(__file__))


def w(root, path, text):
    p = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text if text.endswith("\n") or text == "" else text + "\n")


LINKS = {}


def ln(root, path, target):
    """Records a symlink in `<tree>.symlinks` instead of creating it: sysfs links form
    cycles (device -> .., iommu_group -> devices -> device) that tools walking the package
    (SwiftPM) would follow forever. Tests materialize the links in a temporary copy."""
    p = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    LINKS.setdefault(root, []).append((path, target))


def write_links():
    for root, links in LINKS.items():
        with open(root + ".symlinks", "w") as f:
            for path, target in sorted(links):
                f.write(f"{path}\t{target}\n")


def write_empty_dirs(root):
    """git keeps no empty directories: list them in `<tree>.dirs` for the tests to recreate."""
    empty = []
    for dirpath, dirnames, filenames in os.walk(root):
        if not dirnames and not filenames:
            empty.append("/" + os.path.relpath(dirpath, root))
    with open(root + ".dirs", "w") as f:
        for path in sorted(empty):
            f.write(path + "\n")


def links_to_manifest(root):
    """Turns the real symlinks of a captured tree into `<tree>.symlinks`."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            if os.path.islink(p):
                out.append(("/" + os.path.relpath(p, root), os.readlink(p)))
                os.unlink(p)
    with open(root + ".symlinks", "w") as f:
        for path, target in sorted(out):
            f.write(f"{path}\t{target}\n")


MADE = []  # roots fresh() made in this run


def fresh(name):
    root = os.path.join(HERE, name)
    MADE.append(root)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    return root


def cpulist(ids):
    ids = sorted(ids)
    out, i = [], 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        out.append(str(ids[i]) if i == j else f"{ids[i]}-{ids[j]}")
        i = j + 1
    return ",".join(out)


def cpuinfo_x86(n, flags):
    blocks = []
    for i in range(n):
        blocks.append(f"processor\t: {i}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
                      f"model name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz\nstepping\t: 7\ncpu MHz\t\t: 2100.000\n"
                      f"flags\t\t: {flags}\n")
    return "\n".join(blocks)


MEMINFO = """MemTotal:       32768000 kB
MemFree:        20000000 kB
MemAvailable:   25000000 kB
SwapTotal:       2097148 kB
SwapFree:        2097148 kB
HugePages_Total:     768
HugePages_Free:      756
Hugepagesize:       2048 kB
"""


def two_socket_smt():
    """2 packages x 4 cores x 2 threads, 2 NUMA nodes, Linux numbering (siblings i, i+8),
    hugepages of two sizes on both nodes, isolated/nohz_full CPUs, a cpufreq policy."""
    r = fresh("2s4c2t-2n")
    cpus = range(16)
    pkg = lambda c: (c % 8) // 4
    core = lambda c: c % 4
    node_cpus = {0: [c for c in cpus if pkg(c) == 0], 1: [c for c in cpus if pkg(c) == 1]}
    d = "/sys/devices/system/cpu"
    for f, v in [("possible", "0-15"), ("present", "0-15"), ("online", "0-15"), ("offline", ""),
                 ("isolated", "2-3,10-11"), ("nohz_full", "2-3,10-11"), ("smt/active", "1")]:
        w(r, f"{d}/{f}", v)
    for c in cpus:
        t = f"{d}/cpu{c}/topology"
        sib = [c % 8, c % 8 + 8]
        pk = [x for x in cpus if pkg(x) == pkg(c)]
        w(r, f"{t}/physical_package_id", str(pkg(c)))
        w(r, f"{t}/die_id", "0")
        w(r, f"{t}/core_id", str(core(c)))
        w(r, f"{t}/thread_siblings_list", cpulist(sib))
        w(r, f"{t}/core_siblings_list", cpulist(pk))
        if c:
            w(r, f"{d}/cpu{c}/online", "1")
        ln(r, f"{d}/cpu{c}/node{pkg(c)}", f"../../node/node{pkg(c)}")
        for idx, (lvl, typ, size, shared) in enumerate([(1, "Data", "32K", sib), (1, "Instruction", "32K", sib),
                                                        (2, "Unified", "1024K", sib), (3, "Unified", "22528K", pk)]):
            cd = f"{d}/cpu{c}/cache/index{idx}"
            w(r, f"{cd}/level", str(lvl))
            w(r, f"{cd}/type", typ)
            w(r, f"{cd}/size", size)
            w(r, f"{cd}/shared_cpu_list", cpulist(shared))
    # cpu0's cpufreq is a relative link to its policy, as on real hosts.
    for k, v in [("scaling_governor", "performance"), ("scaling_driver", "intel_pstate"), ("scaling_min_freq", "1000000"),
                 ("scaling_max_freq", "3900000"), ("scaling_cur_freq", "2100000"), ("cpuinfo_min_freq", "1000000"),
                 ("cpuinfo_max_freq", "3900000")]:
        w(r, f"{d}/cpufreq/policy0/{k}", v)
    ln(r, f"{d}/cpu0/cpufreq", "../cpufreq/policy0")
    n = "/sys/devices/system/node"
    for f, v in [("online", "0-1"), ("possible", "0-1"), ("has_memory", "0-1"), ("has_cpu", "0-1")]:
        w(r, f"{n}/{f}", v)
    hp = {0: {2048: (512, 500), 1048576: (2, 1)}, 1: {2048: (256, 256), 1048576: (0, 0)}}
    for node, cl in node_cpus.items():
        w(r, f"{n}/node{node}/cpulist", cpulist(cl))
        w(r, f"{n}/node{node}/distance", "10 21" if node == 0 else "21 10")
        w(r, f"{n}/node{node}/meminfo", f"Node {node} MemTotal:       16384000 kB\nNode {node} MemFree:        {10000000 + node} kB\n"
                                        f"Node {node} MemUsed:         {6384000 - node} kB\nNode {node} HugePages_Total:   512\n")
        for size, (tot, free) in hp[node].items():
            hd = f"{n}/node{node}/hugepages/hugepages-{size}kB"
            w(r, f"{hd}/nr_hugepages", str(tot))
            w(r, f"{hd}/free_hugepages", str(free))
            w(r, f"{hd}/surplus_hugepages", "0")
    for size, (tot, free, resv) in {2048: (768, 756, 4), 1048576: (2, 1, 0)}.items():
        hd = f"/sys/kernel/mm/hugepages/hugepages-{size}kB"
        w(r, f"{hd}/nr_hugepages", str(tot))
        w(r, f"{hd}/free_hugepages", str(free))
        w(r, f"{hd}/resv_hugepages", str(resv))
        w(r, f"{hd}/surplus_hugepages", "0")
        w(r, f"{hd}/nr_overcommit_hugepages", "0")
    w(r, "/sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never")
    w(r, "/sys/kernel/mm/transparent_hugepage/defrag", "always defer defer+madvise [madvise] never")
    w(r, "/sys/kernel/mm/ksm/run", "1")
    w(r, "/sys/kernel/mm/ksm/pages_sharing", "1234")
    w(r, "/sys/kernel/mm/ksm/merge_across_nodes", "0")
    w(r, "/proc/cpuinfo", cpuinfo_x86(16, "fpu vme de pse tsc msr pae mce cx8 apic sep vmx ept vpid ht"))
    w(r, "/proc/meminfo", MEMINFO)
    w(r, "/proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/sda2\tpartition\t2097148\t\t0\t\t-2\n")
    w(r, "/proc/sys/vm/swappiness", "10")
    w(r, "/proc/sys/vm/nr_hugepages", "768")
    w(r, "/proc/sys/kernel/numa_balancing", "0")
    w(r, "/proc/sys/net/ipv4/tcp_congestion_control", "cubic")
    w(r, "/proc/sys/net/ipv4/ip_local_port_range", "32768\t60999")
    w(r, "/proc/cmdline", "BOOT_IMAGE=/vmlinuz isolcpus=2-3,10-11 nohz_full=2-3,10-11 intel_iommu=on iommu=pt")
    w(r, "/proc/mounts", "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n")
    # Steal 678 ticks, iowait 345 (USER_HZ 100: 6.78 s, 3.45 s); PSI totals in µs.
    w(r, "/proc/stat", "cpu  1000 20 500 90000 345 0 10 678 0 0\ncpu0 1000 20 500 90000 345 0 10 678 0 0\nctxt 99\nbtime 1700000000\n")
    for res, some, full in [("cpu", 1500000, 0), ("io", 2250000, 1250000), ("memory", 12345, 6789)]:
        w(r, f"/proc/pressure/{res}", f"some avg10=0.00 avg60=0.00 avg300=0.00 total={some}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total={full}\n")
    w(r, "/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc")
    for m, params in [("kvm", {"halt_poll_ns": "200000"}), ("kvm_intel", {"nested": "Y", "ept": "Y"})]:
        for k, v in params.items():
            w(r, f"/sys/module/{m}/parameters/{k}", v)
    w(r, "/dev/kvm", "")
    w(r, "/dev/net/tun", "")


def offline_cpus():
    """8 CPUs, 4/5/7 offline (no topology, as the kernel removes it), no NUMA in sysfs."""
    r = fresh("offline-nonuma")
    d = "/sys/devices/system/cpu"
    w(r, f"{d}/possible", "0-7")
    w(r, f"{d}/present", "0-7")
    w(r, f"{d}/online", "0-3,6")
    w(r, f"{d}/offline", "4-5,7")
    for c in range(8):
        online = c in (0, 1, 2, 3, 6)
        if c:
            w(r, f"{d}/cpu{c}/online", "1" if online else "0")
        if online:
            t = f"{d}/cpu{c}/topology"
            w(r, f"{t}/physical_package_id", "0")
            w(r, f"{t}/core_id", str(c % 4))
            w(r, f"{t}/thread_siblings_list", str(c))
            w(r, f"{t}/core_siblings_list", "0-3,6")
    w(r, "/proc/cpuinfo", cpuinfo_x86(5, "fpu vme de pse tsc msr pae hypervisor"))
    w(r, "/proc/meminfo", "MemTotal:        8000000 kB\nMemFree:         4000000 kB\nHugepagesize:       2048 kB\n")
    w(r, "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "16")
    w(r, "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "16")
    w(r, "/sys/kernel/mm/transparent_hugepage/enabled", "always madvise [never]")


def iommu_sriov():
    """An Intel NIC PF with 2 VFs bound to vfio-pci, IOMMU groups, DMAR, a bridge, NVMe."""
    r = fresh("iommu-sriov")
    pf, vfs = "0000:3b:00.0", ["0000:3b:02.0", "0000:3b:02.1"]
    bridge = "0000:3a:00.0"
    dev = f"/sys/devices/pci0000:3a/{bridge}"
    groups = {bridge: 11, pf: 12, vfs[0]: 40, vfs[1]: 41}

    def pci(addr, cls, vendor, device, driver, node, extra=None):
        p = dev if addr == bridge else f"{dev}/{addr}"
        w(r, f"{p}/class", cls)
        w(r, f"{p}/vendor", vendor)
        w(r, f"{p}/device", device)
        w(r, f"{p}/numa_node", str(node))
        depth = p.count("/") - 1
        up = "../" * depth
        if driver:
            ln(r, f"{p}/driver", f"{up}bus/pci/drivers/{driver}")
            os.makedirs(os.path.join(r, f"sys/bus/pci/drivers/{driver}"), exist_ok=True)
        ln(r, f"{p}/iommu_group", f"{up}kernel/iommu_groups/{groups[addr]}")
        ln(r, f"/sys/kernel/iommu_groups/{groups[addr]}/devices/{addr}", f"../../../..{p[4:]}")
        ln(r, f"/sys/bus/pci/devices/{addr}", f"../../..{p[4:]}")
        for k, v in (extra or {}).items():
            w(r, f"{p}/{k}", v)
        return p

    pci(bridge, "0x060400", "0x8086", "0x2030", "pcieport", 1,
        {"current_link_speed": "8.0 GT/s PCIe", "current_link_width": "16"})
    pfp = pci(pf, "0x020000", "0x8086", "0x1572", "i40e", 1,
              {"sriov_totalvfs": "64", "sriov_numvfs": "2", "current_link_speed": "8.0 GT/s PCIe",
               "current_link_width": "8", "max_link_speed": "8.0 GT/s PCIe", "max_link_width": "8"})
    for vf in vfs:
        vp = pci(vf, "0x020000", "0x8086", "0x154c", "vfio-pci", 1)
        ln(r, f"{vp}/physfn", f"../{pf}")
    # The PF's netdev, enslaved to a bridge; the bridge is virtual.
    net = f"{pfp}/net/ens1f0"
    w(r, f"{net}/mtu", "9000")
    w(r, f"{net}/speed", "10000")
    w(r, f"{net}/operstate", "up")
    w(r, f"{net}/address", "3c:fd:fe:00:00:01")
    ln(r, f"{net}/device", "../../../" + pf)
    for q in ["rx-0", "rx-1", "rx-2", "rx-3", "tx-0", "tx-1", "tx-2", "tx-3"]:
        os.makedirs(os.path.join(r, net.lstrip("/"), "queues", q))
    ln(r, f"{net}/master", "../../../../../virtual/net/br0")
    ln(r, "/sys/class/net/ens1f0", "../../devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0/net/ens1f0")
    br = "/sys/devices/virtual/net/br0"
    w(r, f"{br}/mtu", "9000")
    w(r, f"{br}/operstate", "up")
    w(r, f"{br}/bridge/stp_state", "0")
    ln(r, f"{br}/brif/ens1f0", "../../../../pci0000:3a/0000:3a:00.0/0000:3b:00.0/net/ens1f0/brport")
    os.makedirs(os.path.join(r, net.lstrip("/"), "brport"))
    os.makedirs(os.path.join(r, f"{br.lstrip('/')}/queues/rx-0"))
    os.makedirs(os.path.join(r, f"{br.lstrip('/')}/queues/tx-0"))
    ln(r, "/sys/class/net/br0", "../../devices/virtual/net/br0")
    # An NVMe namespace with 4 hardware queues.
    nv = "/sys/devices/pci0000:00/0000:00:1d.0/nvme/nvme0/nvme0n1"
    for k, v in [("size", "1953525168"), ("removable", "0"), ("queue/scheduler", "[none] mq-deadline kyber"),
                 ("queue/nr_requests", "1023"), ("queue/rotational", "0"), ("queue/nomerges", "0"),
                 ("queue/read_ahead_kb", "128"), ("queue/logical_block_size", "512")]:
        w(r, f"{nv}/{k}", v)
    for q in range(4):
        w(r, f"{nv}/mq/{q}/cpu_list", str(q))
    ln(r, "/sys/block/nvme0n1", "../devices/pci0000:00/0000:00:1d.0/nvme/nvme0/nvme0n1")
    w(r, "/sys/firmware/acpi/tables/DMAR", "DMAR")
    ln(r, "/sys/class/iommu/dmar0", "../../devices/virtual/iommu/dmar0")
    os.makedirs(os.path.join(r, "sys/devices/virtual/iommu/dmar0"))
    w(r, "/proc/cmdline", "BOOT_IMAGE=/vmlinuz intel_iommu=on iommu=pt")
    # Links that try to leave the root must stay inside it.
    w(r, "/etc/hostname", "fixture-inside-root")
    ln(r, "/sys/class/net/escape", "../../../../../../../../../etc")
    ln(r, "/sys/devices/absolute", "/etc")


def broken():
    """Garbled, missing and looping sources: each must give a typed diagnostic."""
    r = fresh("broken")
    d = "/sys/devices/system/cpu"
    w(r, f"{d}/online", "0-1,zz")
    w(r, f"{d}/cpu0/topology/physical_package_id", "0")
    w(r, f"{d}/cpu0/topology/core_id", "abc")
    w(r, f"{d}/cpu0/topology/thread_siblings_list", "0")
    ln(r, f"{d}/cpu1/topology", "topology")  # a link to itself: a loop
    n = "/sys/devices/system/node"
    w(r, f"{n}/node0/cpulist", "0-1")
    w(r, f"{n}/node0/distance", "10 x")
    w(r, f"{n}/node0/meminfo", "Node 0 MemTotal:  1000 kB\n")
    w(r, f"{n}/node1/cpulist", "")
    # node1/meminfo and /proc/meminfo are missing on purpose.
    w(r, f"{n}/node1/distance", "20 10")
    os.makedirs(os.path.join(r, "proc/cpuinfo"))  # a directory where a file belongs: EISDIR
    w(r, "/proc/stat", "cpu  1 2 three 4\n")


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 3 and sys.argv[1] == "--links-to-manifest":
        # After `virtkit probe capture --out Fixtures/NAME`: python3 make-handmade.py --links-to-manifest NAME
        links_to_manifest(os.path.join(HERE, sys.argv[2]))
        write_empty_dirs(os.path.join(HERE, sys.argv[2]))
        sys.exit(0)
    two_socket_smt()
    offline_cpus()
    iommu_sriov()
    broken()
    write_links()
    for root in MADE:
        write_empty_dirs(root)
