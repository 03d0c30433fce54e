/// A host's CPU and memory summary as libvirt reports it (`virNodeInfo`, `virsh nodeinfo`):
/// from a live connection (`Connection.nodeInfo()`, every field) or computed from a HostProbe
/// snapshot the way libvirt's `virHostCPUGetInfoPopulateLinux` does (no model or memory).
///
/// Sockets per node, cores per socket and threads per core are maxima; when their product does
/// not match the CPU count libvirt reports 1 node, 1 socket, N cores, 1 thread.
public struct HostNodeInfo: Sendable, Hashable, Codable, CustomStringConvertible {
    /// CPU model string (e.g. `x86_64`); nil when not known (computed from sysfs).
    public var model: String?
    /// Host memory; nil when not known (computed from sysfs).
    public var memory: MemorySize?
    /// Active CPUs.
    public var cpus: Int
    /// Expected CPU frequency in MHz (0 if unknown, as libvirt reports it).
    public var mhz: Int
    /// NUMA nodes (1 for uniform memory access or when libvirt can't tell).
    public var nodes: Int
    /// Sockets per node.
    public var sockets: Int
    /// Cores per socket.
    public var cores: Int
    /// Threads per core.
    public var threads: Int

    public init(model: String? = nil, memory: MemorySize? = nil, cpus: Int, mhz: Int, nodes: Int, sockets: Int, cores: Int, threads: Int) {
        self.model = model
        self.memory = memory
        self.cpus = cpus
        self.mhz = mhz
        self.nodes = nodes
        self.sockets = sockets
        self.cores = cores
        self.threads = threads
    }

    /// `VIR_NODEINFO_MAXCPUS`: nodes × sockets × cores × threads.
    public var maxCPUs: Int { nodes * sockets * cores * threads }

    /// The line libvirt's `virhostcputest` writes to its `.expected` files.
    public var description: String {
        "CPUs: \(cpus)/\(maxCPUs), MHz: \(mhz), Nodes: \(nodes), Sockets: \(sockets), Cores: \(cores), Threads: \(threads)"
    }
}
