@testable import HostProbe
import Testing
import VirtCore
import VirtKitTestSupport

@Suite("Parsers", .offCooperativePool)
struct ParsingTests {
    @Test func threadStatWithParenthesesInName() throws {
        let line = "4242 (qemu (vcpu) 0) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 8 0 100 1000 10 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 3 0 0 0 0 0"
        let t = try #require(ThreadCounters.parseStat(line, tid: 4242))
        #expect(t.name == "qemu (vcpu) 0")
        #expect(t.state == "S")
        #expect(t.userTicks == 1234 && t.systemTicks == 567)
        #expect(t.processor == 3)
        #expect(ThreadCounters.parseStat("garbage", tid: 1) == nil)
    }

    @Test func sysfsChoice() {
        let c = SysfsChoice(parsing: "always defer defer+madvise [madvise] never\n")
        #expect(c.active == "madvise" && c.available.count == 5)
        #expect(SysfsChoice(parsing: "none").active == nil)
    }

    @Test func meminfo() {
        let m = parseMeminfo("Node 1 MemTotal:  123 kB\nNode 1 HugePages_Total:   7\nbogus\n")
        #expect(m == ["MemTotal": 123, "HugePages_Total": 7])
    }

    @Test func cpuinfoArchitectures() {
        #expect(HostProber.parseCPUInfo("processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t: fpu svm hypervisor\ncpu MHz\t: 2994.3\n").hardwareVirtualization == "svm")
        #expect(HostProber.parseCPUInfo("processor\t: 0\nCPU implementer\t: 0x41\nFeatures\t: fp asimd\n").architecture == "arm")
        #expect(HostProber.parseCPUInfo("processor\t: 0\ncpu\t\t: POWER8E (raw), altivec supported\nclock\t\t: 3690.000000MHz\n").mhz == 3690)
        #expect(HostProber.parseCPUInfo("vendor_id       : IBM/S390\n").architecture == "s390")
    }

    @Test func cpuinfoEdgeCases() {
        #expect(HostProber.parseCPUInfo("").processorCount == 0)
        let empty = HostProber.parseCPUInfo("processor\t: 0\nflags\t:\n\nprocessor\t: 1\nflags\t:\n")
        #expect(empty.processorCount == 2 && empty.flags.isEmpty)
        let mixed = HostProber.parseCPUInfo("processor: 0\nflags: a b\n\nprocessor: 1\nflags: a c\n\nprocessor: 2\nflags: a c\n")
        #expect(mixed.flags == ["a", "b", "c"])
        #expect(HostProber.parseCPUInfo(":::\n\u{FF}garbage: x\n").architecture == "unknown")
    }

    @Test func hexMasks() {
        #expect(parseHexMask("00000001,0000000f") == CPUSet([0, 1, 2, 3, 32]))
        #expect(parseHexMask("0x3") == [0, 1])
        #expect(parseHexMask("") == nil)
        #expect(parseHexMask("zz") == nil)
        #expect(parseHexMask("0") == [])
    }

    @Test func procStatAndPressure() throws {
        let s = try ProcStat.parse("cpu  10 1 5 100 2 0 1 3 0 0\ncpu0 10 1 5 100 2 0 1 3 0 0\nctxt 99\nintr 1234 1 2\nprocs_running 3\nprocs_blocked 1\n").get()
        #expect(s.total.total == 122)
        #expect(s.cpus[0]?.steal == 3)
        #expect(s.contextSwitches == 99 && s.interrupts == 1234 && s.procsRunning == 3 && s.procsBlocked == 1)
        let p = PressureCounters.parse("some avg10=1.50 avg60=0.00 avg300=0.00 total=2000\nfull avg10=0.25 avg60=0.00 avg300=0.00 total=500\n")
        #expect(p.someAvg10 == 1.5 && p.someTotalMicroseconds == 2000 && p.fullTotalMicroseconds == 500)
    }

    @Test func mountEscapes() {
        #expect("/mnt/my\\040dir".replacingOctalEscapes() == "/mnt/my dir")
        #expect("/plain".replacingOctalEscapes() == "/plain")
        #expect("/trailing\\04".replacingOctalEscapes() == "/trailing\\04")
    }
}
