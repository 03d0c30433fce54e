import Foundation
import Testing
import VirtCore

@Suite struct DeviceNumberTests {
    @Test func parsesMajorMinor() {
        #expect(DeviceNumber("8:0") == DeviceNumber(major: 8, minor: 0))
        #expect(DeviceNumber("259:65535") == DeviceNumber(major: 259, minor: 65535))
        #expect(DeviceNumber("4095:1048575")?.description == "4095:1048575")
    }

    @Test(arguments: ["", "8", "8:", ":0", "8:0:1", " 8:0", "8:0\n", "-1:0", "8:x", "4294967296:0", "8::0"])
    func rejectsEverythingElse(_ text: String) {
        #expect(DeviceNumber(text) == nil)
    }

    /// glibc's `makedev` layout, including numbers past 12/8 bits.
    @Test func splitsARawDevT() {
        #expect(DeviceNumber(rawDeviceNumber: 0x0803) == DeviceNumber(major: 8, minor: 3))
        #expect(DeviceNumber(rawDeviceNumber: 0x0ae8) == DeviceNumber(major: 10, minor: 232))  // /dev/kvm
        let major: UInt64 = 0x1234, minor: UInt64 = 0x56789
        let dev = (major & 0xfff) << 8 | (major & ~0xfff) << 32 | (minor & 0xff) | (minor & ~0xff) << 12
        #expect(DeviceNumber(rawDeviceNumber: dev) == DeviceNumber(major: 0x1234, minor: 0x56789))
    }

    @Test func ordersByMajorThenMinor() {
        let sorted = ["8:16", "7:1", "8:0", "253:0"].compactMap { DeviceNumber($0) }.sorted().map(\.description)
        #expect(sorted == ["7:1", "8:0", "8:16", "253:0"])
    }

    @Test func codableAsItsString() throws {
        let data = try JSONEncoder().encode([DeviceNumber(major: 8, minor: 0)])
        #expect(String(decoding: data, as: UTF8.self) == #"["8:0"]"#)
        #expect(try JSONDecoder().decode([DeviceNumber].self, from: data) == [DeviceNumber(major: 8, minor: 0)])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([DeviceNumber].self, from: Data(#"["8-0"]"#.utf8)) }
    }
}
