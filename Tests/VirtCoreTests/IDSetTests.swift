import Testing
import VirtCore

@Suite struct IDSetTests {
    @Test func parsesLibvirtListSyntax() throws {
        let s = try CPUSet(parsing: "0-7,^2,10, 12 - 13")
        #expect(s.ids == [0, 1, 3, 4, 5, 6, 7, 10, 12, 13])
        #expect(s.listString == "0-1,3-7,10,12-13")
        #expect(s.count == 10)
        #expect(s.min == 0 && s.max == 13)
    }

    @Test func roundTripsThroughListString() throws {
        for text in ["0", "0-3,8", "1,3,5,7", "64-127", "0-65535"] {
            #expect(try CPUSet(parsing: text).listString == text)
        }
    }

    @Test func rejectsBadLists() throws {
        #expect(throws: IDSetParseError.self) { try CPUSet(parsing: "") }
        #expect(throws: IDSetParseError.self) { try CPUSet(parsing: "3-1") }
        #expect(throws: IDSetParseError.self) { try CPUSet(parsing: "1,x") }
        #expect(throws: IDSetParseError.self) { try CPUSet(parsing: "0-4000000000") }
        #expect(throws: IDSetParseError.self) { try CPUSet(parsing: "1,,2") }
        #expect(try CPUSet(parsing: "\n", allowEmpty: true).isEmpty)
        // libvirt's virBitmapParse excludes single IDs only.
        #expect(throws: IDSetParseError.self) { try CPUSet(parsing: "0-7,^2-3") }
    }

    @Test func errorCarriesOffsetAndReason() {
        do {
            _ = try CPUSet(parsing: "0-3,5-2")
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 4)
            #expect(error.reason == .reversedRange(5, 2))
        }
    }

    @Test func nonASCIIIsNamedInTheError() {
        do {
            _ = try CPUSet(parsing: "1,é")
            Issue.record("expected an error")
        } catch {
            #expect(error.reason == .invalidCharacter("é"))
            #expect(error.offset == 2)
        }
    }

    @Test func hexMasks() throws {
        let s = try CPUSet(hexMask: "00000001,0000000f")
        #expect(s.ids == [0, 1, 2, 3, 32])
        #expect(s.hexMask == "00000001,0000000f")
        #expect(try CPUSet(hexMask: "0xff").listString == "0-7")
        #expect(CPUSet().hexMask == "0")
        #expect(throws: IDSetParseError.self) { try CPUSet(hexMask: "zz") }
    }

    @Test func libvirtBitmaps() {
        let s: CPUSet = [0, 9, 15]
        let map = s.bitmap(length: 2)
        #expect(map == [0b0000_0001, 0b1000_0010])
        #expect(CPUSet(bitmap: map) == s)
        #expect(CPUSet([1, 20]).bitmap(length: 1) == [0b10])
    }

    @Test func setAlgebraAndEquality() {
        var a: CPUSet = [1, 2, 3, 100]
        let b: CPUSet = [3, 4]
        #expect(a.union(b).ids == [1, 2, 3, 4, 100])
        #expect(a.intersection(b).ids == [3])
        #expect(a.subtracting(b).ids == [1, 2, 100])
        a.remove(100)
        #expect(a == [1, 2, 3] as CPUSet)
        #expect(a.hashValue == ([1, 2, 3] as CPUSet).hashValue)
        #expect(NodeSet([0, 1]).description == "0-1")
    }
}

@Suite struct MemorySizeTests {
    @Test func libvirtUnits() throws {
        #expect(try MemorySize(value: "4", unit: "GiB").bytes == 4 << 30)
        #expect(try MemorySize(value: "4", unit: "G").bytes == 4 << 30)
        #expect(try MemorySize(value: "4", unit: "GB").bytes == 4_000_000_000)
        #expect(try MemorySize(value: "1", unit: "KB").bytes == 1000)
        #expect(try MemorySize(value: "1", unit: "k").bytes == 1024)
        #expect(try MemorySize(value: "1", unit: "KiB").bytes == 1024)
        #expect(try MemorySize(value: "7", unit: "b").bytes == 7)
        #expect(try MemorySize(value: "7", unit: "bytes").bytes == 7)
        #expect(try MemorySize(value: "2", unit: "T").bytes == 2 << 40)
        #expect(try MemorySize(value: "524288", unit: nil).bytes == 524_288 * 1024)
    }

    @Test func rejectsBadValues() {
        #expect(throws: MemorySize.ParseError.self) { try MemorySize(value: "x", unit: "KiB") }
        #expect(throws: MemorySize.ParseError.self) { try MemorySize(value: "1", unit: "furlongs") }
        #expect(throws: MemorySize.ParseError.self) { try MemorySize(value: "-1", unit: nil) }
        #expect(throws: MemorySize.ParseError.self) { try MemorySize(value: "99999999", unit: "EiB") }
    }

    @Test func arithmeticSaturatesInsteadOfTrapping() {
        #expect(MemorySize.kibibytes(.max).bytes == .max)
        #expect(MemorySize.gibibytes(1 << 40).bytes == .max)
        #expect((MemorySize(bytes: .max) + .kibibytes(1)).bytes == .max)
        #expect(MemorySize.mebibytes(3).bytes == 3 << 20)
    }

    @Test func commandLineFormAndDescription() throws {
        #expect(try MemorySize(parsing: "512M").bytes == 512 << 20)
        #expect(try MemorySize(parsing: "2 GiB").description == "2 GiB")
        #expect(MemorySize(bytes: 1536 << 20).description == "1536 MiB")
        #expect(MemorySize.gibibytes(1).exactly(in: .MiB) == 1024)
        #expect(MemorySize(bytes: 100).exactly(in: .KiB) == nil)
    }
}
