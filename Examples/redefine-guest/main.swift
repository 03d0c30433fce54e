// redefine-guest: edit a guest's persistent definition and define it again, as
// `virsh edit` does, keeping every byte VirtKit does not model.
//   swift run redefine-guest URI GUEST VCPUS MEMORY_MIB
// The change applies at the next start; the running guest is not touched.
import Foundation
import DomainXML
import Libvirt
import LibvirtJoins
import VirtCore

let args = Array(CommandLine.arguments.dropFirst())
guard args.count == 4, let vcpus = Int(args[2]), let mib = UInt64(args[3]) else {
    print("usage: redefine-guest URI GUEST VCPUS MEMORY_MIB")
    exit(2)
}
do {
    let conn = try await Connection.open(args[0])
    let guest = try await conn.domain(named: args[1])
    let edit = try await conn.editDefinition(of: guest) { d in
        d.vcpu.count.set(vcpus)
        d.memory.set(.mebibytes(mib))
        d.currentMemory.set(.mebibytes(mib))
    }
    print(edit.changed ? "redefined \(args[1]): \(vcpus) vCPUs, \(mib) MiB" : "\(args[1]) already had these values")
    await conn.close()
} catch {
    print("redefine-guest: \(error)")   // e.g. an invalid value: DomainDefinitionRejected
    exit(1)
}
