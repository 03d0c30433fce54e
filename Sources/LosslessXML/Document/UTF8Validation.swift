// One pass over the whole input before tokenizing: the tokenizer then works on bytes and
// never has to reason about multi-byte sequences (every byte >= 0x80 is a name/text byte).

enum UTF8Problem {
    case invalid
    case character(UInt32)
}

/// Returns the offset and kind of the first problem, or nil when `p[0..<n]` is well-formed
/// UTF-8 without the non-characters U+FFFE/U+FFFF (not XML Chars). C0 controls are checked
/// by the tokenizer, where it already looks at each byte.
func validateUTF8(_ p: UnsafePointer<UInt8>, _ n: Int) -> (offset: Int, problem: UTF8Problem)? {
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i < n {
        // ASCII fast path, 8 bytes at a time.
        while i + 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if w & 0x8080_8080_8080_8080 != 0 { break }
            i += 8
        }
        guard i < n else { break }
        let b0 = p[i]
        if b0 < 0x80 { i += 1; continue }
        if b0 < 0xC2 { return (i, .invalid) }
        if b0 < 0xE0 {
            guard i + 1 < n, p[i + 1] & 0xC0 == 0x80 else { return (i, .invalid) }
            i += 2
            continue
        }
        if b0 < 0xF0 {
            guard i + 2 < n else { return (i, .invalid) }
            let b1 = p[i + 1], b2 = p[i + 2]
            guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80 else { return (i, .invalid) }
            if b0 == 0xE0 && b1 < 0xA0 { return (i, .invalid) } // overlong
            if b0 == 0xED && b1 >= 0xA0 { return (i, .invalid) } // surrogate
            if b0 == 0xEF && b1 == 0xBF && b2 >= 0xBE { return (i, .character(b2 == 0xBE ? 0xFFFE : 0xFFFF)) }
            i += 3
            continue
        }
        if b0 < 0xF5 {
            guard i + 3 < n else { return (i, .invalid) }
            let b1 = p[i + 1]
            guard b1 & 0xC0 == 0x80, p[i + 2] & 0xC0 == 0x80, p[i + 3] & 0xC0 == 0x80 else { return (i, .invalid) }
            if b0 == 0xF0 && b1 < 0x90 { return (i, .invalid) } // overlong
            if b0 == 0xF4 && b1 >= 0x90 { return (i, .invalid) } // > U+10FFFF
            i += 4
            continue
        }
        return (i, .invalid)
    }
    return nil
}
