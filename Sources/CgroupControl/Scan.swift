/// Byte-level parsing of kernel text files. Cgroup files are ASCII; working on UTF-8 bytes
/// avoids `Character` (grapheme) processing, which dominated the cost of reading stats.
enum Scan {
    /// Calls `body` with each non-empty line's byte range.
    @inline(__always)
    static func lines(_ buf: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Bool) {
        var i = 0
        let n = buf.count
        while i < n {
            var e = i
            while e < n && buf[e] != 0x0A { e += 1 }
            if e > i, !body(i..<e) { return }
            i = e + 1
        }
    }

    /// Calls `body` with each non-empty run of bytes in `r` between `separators` (at most
    /// a few); false from `body` stops. Returns false when stopped.
    @inline(__always)
    static func fields(_ buf: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, separators: [UInt8], _ body: (Range<Int>) -> Bool) -> Bool {
        var start = r.lowerBound
        for j in r.lowerBound...r.upperBound where j == r.upperBound || separators.contains(buf[j]) {
            if j > start, !body(start..<j) { return false }
            start = j + 1
        }
        return true
    }

    /// `r` without leading and trailing ASCII whitespace (space, tab, CR, LF).
    @inline(__always)
    static func trimmed(_ buf: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Range<Int> {
        func blank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D }
        var s = r.lowerBound, e = r.upperBound
        while s < e, blank(buf[s]) { s += 1 }
        while e > s, blank(buf[e - 1]) { e -= 1 }
        return s..<e
    }

    /// A non-negative decimal integer spanning exactly `r`.
    @inline(__always)
    static func uint(_ buf: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> UInt64? {
        if r.isEmpty { return nil }
        var v: UInt64 = 0
        for j in r {
            let c = buf[j]
            guard c >= 0x30, c <= 0x39 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c &- 0x30))
            if o1 || o2 { return nil }
            v = a
        }
        return v
    }

    /// A decimal with an optional fraction (`12.34`), as PSI averages are printed.
    @inline(__always)
    static func decimal(_ buf: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Double? {
        guard let dot = r.first(where: { buf[$0] == 0x2E }) else { return uint(buf, r).map(Double.init) }
        guard let whole = uint(buf, r.lowerBound..<dot) else { return nil }
        let fracRange = (dot + 1)..<r.upperBound
        if fracRange.isEmpty { return Double(whole) }
        guard let frac = uint(buf, fracRange), fracRange.count <= 18 else { return nil }
        var scale = 1.0
        for _ in 0..<fracRange.count { scale *= 10 }
        return Double(whole) + Double(frac) / scale
    }

    /// True when the bytes in `r` spell the ASCII `literal`.
    @inline(__always)
    static func equals(_ buf: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ literal: StaticString) -> Bool {
        guard r.count == literal.utf8CodeUnitCount else { return false }
        let lit = literal.utf8Start
        for (k, j) in r.enumerated() where buf[j] != lit[k] { return false }
        return true
    }

    static func string(_ buf: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: buf[r]), as: UTF8.self)
    }

    /// Runs `body` over the text's UTF-8 bytes (contiguous for native strings).
    @inline(__always)
    static func withBytes<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var t = text
        return t.withUTF8(body)
    }
}
