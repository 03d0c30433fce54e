import CLibvirt
import Foundation

/// One value of a libvirt typed parameter (`virTypedParameter`): the C union tagged by
/// `virTypedParameterType`. A type newer than libvirt 9 is kept as `.unknownType(raw)`.
public enum TypedValue: Hashable, Sendable, CustomStringConvertible, Codable {
    /// `VIR_TYPED_PARAM_INT`
    case int(Int32)
    /// `VIR_TYPED_PARAM_UINT`
    case uint(UInt32)
    /// `VIR_TYPED_PARAM_LLONG`
    case llong(Int64)
    /// `VIR_TYPED_PARAM_ULLONG`
    case ullong(UInt64)
    /// `VIR_TYPED_PARAM_DOUBLE`
    case double(Double)
    /// `VIR_TYPED_PARAM_BOOLEAN`
    case boolean(Bool)
    /// `VIR_TYPED_PARAM_STRING`
    case string(String)
    /// A parameter type this VirtKit doesn't know; its value can't be read.
    case unknownType(Int32)

    /// The value as an unsigned integer when it is a non-negative integer of any width.
    public var uint64: UInt64? {
        switch self {
        case .int(let v): v >= 0 ? UInt64(v) : nil
        case .uint(let v): UInt64(v)
        case .llong(let v): v >= 0 ? UInt64(v) : nil
        case .ullong(let v): v
        default: nil
        }
    }

    /// The value as a signed integer when it is an integer that fits.
    public var int64: Int64? {
        switch self {
        case .int(let v): Int64(v)
        case .uint(let v): Int64(v)
        case .llong(let v): v
        case .ullong(let v): v <= UInt64(Int64.max) ? Int64(v) : nil
        default: nil
        }
    }

    public var double: Double? {
        if case .double(let v) = self { return v }
        return nil
    }

    public var bool: Bool? {
        if case .boolean(let v) = self { return v }
        return nil
    }

    public var string: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case .int(let v): "\(v)"
        case .uint(let v): "\(v)"
        case .llong(let v): "\(v)"
        case .ullong(let v): "\(v)"
        case .double(let v): "\(v)"
        case .boolean(let v): "\(v)"
        case .string(let v): v
        case .unknownType(let t): "<type \(t)>"
        }
    }
}

extension TypedValue {
    /// The `virTypedParamsAdd*` function that encodes this type (named in its error).
    var addFunction: StaticString {
        switch self {
        case .int: "virTypedParamsAddInt"
        case .uint: "virTypedParamsAddUInt"
        case .llong: "virTypedParamsAddLLong"
        case .ullong: "virTypedParamsAddULLong"
        case .double: "virTypedParamsAddDouble"
        case .boolean: "virTypedParamsAddBoolean"
        case .string, .unknownType: "virTypedParamsAddString"
        }
    }
}

/// Typed parameters by name: the raw escape hatch every typed struct keeps.
public typealias TypedParameters = [String: TypedValue]

/// The one decoder/encoder for `virTypedParameter` arrays (the bulk-stats decoder and its
/// compact field storage, `DomainStatsDecoder`/`StatsFields`, are the measured hot path that
/// reads the same C parameters in place with the scalar readers below).
package enum TypedParameterCoding {
    /// Decodes one parameter's value (strings are copied; the C array keeps ownership).
    static func value(_ p: UnsafePointer<virTypedParameter>) -> TypedValue {
        let v = p.pointee.value
        switch p.pointee.type {
        case Int32(VIR_TYPED_PARAM_INT.rawValue): return .int(v.i)
        case Int32(VIR_TYPED_PARAM_UINT.rawValue): return .uint(v.ui)
        case Int32(VIR_TYPED_PARAM_LLONG.rawValue): return .llong(v.l)
        case Int32(VIR_TYPED_PARAM_ULLONG.rawValue): return .ullong(v.ul)
        case Int32(VIR_TYPED_PARAM_DOUBLE.rawValue): return .double(v.d)
        case Int32(VIR_TYPED_PARAM_BOOLEAN.rawValue): return .boolean(v.b != 0)
        case Int32(VIR_TYPED_PARAM_STRING.rawValue): return .string(v.s.map { String(cString: $0) } ?? "")
        case let t: return .unknownType(t)
        }
    }

    /// The parameter's field name (at most `VIR_TYPED_PARAM_FIELD_LENGTH` bytes, NUL-terminated).
    static func name(_ p: UnsafePointer<virTypedParameter>) -> String {
        withUnsafeBytes(of: p.pointee.field) { fixedString($0) }
    }

    /// Decodes `count` parameters into a dictionary (later duplicates win).
    package static func decode(_ params: UnsafePointer<virTypedParameter>?, count: Int) -> TypedParameters {
        guard let params, count > 0 else { return [:] }
        var out = TypedParameters(minimumCapacity: count)
        for i in 0..<count {
            out[name(params + i)] = value(params + i)
        }
        return out
    }

    /// Decodes in order, keeping duplicates (some APIs repeat names; the stats tests compare
    /// the hot-path decoder against this field by field).
    static func decodeList(_ params: UnsafePointer<virTypedParameter>?, count: Int) -> [(name: String, value: TypedValue)] {
        guard let params, count > 0 else { return [] }
        return (0..<count).map { (name(params + $0), value(params + $0)) }
    }

    /// Builds a libvirt-allocated parameter array (`virTypedParamsAdd*`), passes it to
    /// `body`, and frees it (`virTypedParamsFree`) whatever happens. Names are sorted so
    /// the order is deterministic.
    package static func withEncoded<T>(
        _ parameters: TypedParameters, _ body: (UnsafeMutablePointer<virTypedParameter>?, Int32) throws(LibvirtError) -> T
    ) throws(LibvirtError) -> T {
        // virTypedParamsAdd* touch libvirt's thread-local error: never before virInitialize.
        try LibvirtLibrary.initialize()
        var params: UnsafeMutablePointer<virTypedParameter>?
        var n: Int32 = 0
        var max: Int32 = 0
        defer { virTypedParamsFree(params, n) }
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) {
            let rc: Int32
            switch value {
            case .int(let v): rc = virTypedParamsAddInt(&params, &n, &max, name, v)
            case .uint(let v): rc = virTypedParamsAddUInt(&params, &n, &max, name, v)
            case .llong(let v): rc = virTypedParamsAddLLong(&params, &n, &max, name, v)
            case .ullong(let v): rc = virTypedParamsAddULLong(&params, &n, &max, name, v)
            case .double(let v): rc = virTypedParamsAddDouble(&params, &n, &max, name, v)
            case .boolean(let v): rc = virTypedParamsAddBoolean(&params, &n, &max, name, v ? 1 : 0)
            case .string(let v): rc = virTypedParamsAddString(&params, &n, &max, name, v)
            case .unknownType(let t):
                throw LibvirtError(code: .invalidArg, message: "parameter \(name) has unknown type \(t) and can't be encoded")
            }
            try cCall(value.addFunction, rc)
        }
        return try body(params, n)
    }

    /// The calls that allocate the array themselves (`virDomainGetPerfEvents`,
    /// `virNodeGetSEVInfo`, …): decodes it and frees it (`virTypedParamsFree`).
    package static func fetchAllocated(
        _ call: StaticString, _ get: (UnsafeMutablePointer<UnsafeMutablePointer<virTypedParameter>?>, UnsafeMutablePointer<Int32>) -> Int32
    ) throws(LibvirtError) -> TypedParameters {
        var params: UnsafeMutablePointer<virTypedParameter>?
        var n: Int32 = 0
        try cCall(call, get(&params, &n))
        defer { virTypedParamsFree(params, n) }
        return decode(params, count: Int(n))
    }

    /// The get-count-then-fill pattern of `virDomainGet*Parameters`: calls `get` once with
    /// no array to learn the count, then with a caller-owned array, decodes it and clears
    /// its strings (`virTypedParamsClear`).
    static func fetch(
        _ call: StaticString, _ get: (UnsafeMutablePointer<virTypedParameter>?, UnsafeMutablePointer<Int32>) -> Int32
    ) throws(LibvirtError) -> TypedParameters {
        var n: Int32 = 0
        try cCall(call, get(nil, &n))
        if n <= 0 { return [:] }
        var params = [virTypedParameter](repeating: virTypedParameter(), count: Int(n))
        return try params.withUnsafeMutableBufferPointer { (buf) throws(LibvirtError) -> TypedParameters in
            try cCall(call, get(buf.baseAddress, &n))
            defer { virTypedParamsClear(buf.baseAddress, n) }
            return decode(buf.baseAddress, count: Int(n))
        }
    }

    // Scalar readers straight from the C parameter (nil when libvirt used a type that doesn't
    // fit): the same conversions as `TypedValue.uint64`/`int64`, without making a TypedValue.
    @inline(__always) static func uint64(_ p: UnsafePointer<virTypedParameter>) -> UInt64? {
        switch p.pointee.type {
        case Int32(VIR_TYPED_PARAM_ULLONG.rawValue): return p.pointee.value.ul
        case Int32(VIR_TYPED_PARAM_UINT.rawValue): return UInt64(p.pointee.value.ui)
        case Int32(VIR_TYPED_PARAM_LLONG.rawValue): return p.pointee.value.l >= 0 ? UInt64(p.pointee.value.l) : nil
        case Int32(VIR_TYPED_PARAM_INT.rawValue): return p.pointee.value.i >= 0 ? UInt64(p.pointee.value.i) : nil
        default: return nil
        }
    }
    @inline(__always) static func int32(_ p: UnsafePointer<virTypedParameter>) -> Int32? {
        switch p.pointee.type {
        case Int32(VIR_TYPED_PARAM_INT.rawValue): return p.pointee.value.i
        case Int32(VIR_TYPED_PARAM_UINT.rawValue): return Int32(exactly: p.pointee.value.ui)
        case Int32(VIR_TYPED_PARAM_LLONG.rawValue): return Int32(exactly: p.pointee.value.l)
        case Int32(VIR_TYPED_PARAM_ULLONG.rawValue): return Int32(exactly: p.pointee.value.ul)
        default: return nil
        }
    }
    @inline(__always) static func int(_ p: UnsafePointer<virTypedParameter>) -> Int? { uint64(p).flatMap { Int(exactly: $0) } }
    @inline(__always) static func bool(_ p: UnsafePointer<virTypedParameter>) -> Bool? {
        p.pointee.type == Int32(VIR_TYPED_PARAM_BOOLEAN.rawValue) ? p.pointee.value.b != 0 : nil
    }
    @inline(__always) static func string(_ p: UnsafePointer<virTypedParameter>) -> String? {
        guard p.pointee.type == Int32(VIR_TYPED_PARAM_STRING.rawValue), let s = p.pointee.value.s else { return nil }
        return String(cString: s)
    }
}
