/// A value bound to a statement's `$n` or read from a result, in PostgreSQL's text format.
///
/// Parameters travel apart from the SQL (libpq's `PQexecParams`), so a value is always data, never
/// part of a statement. Reading maps the column's type: bool, the integer types, float4/float8 and
/// bytea to their cases, everything else (numeric, timestamps, json, …) to `.text` as the server wrote it.
enum PostgresValue: Sendable, Hashable {
    case null
    case text(String)
    case int64(Int64)
    case double(Double)
    case bool(Bool)
    case bytea([UInt8])

    /// Type OIDs from PostgreSQL's pg_type.dat (stable across versions).
    enum TypeOID {
        static let bool: UInt32 = 16
        static let bytea: UInt32 = 17
        static let int8: UInt32 = 20
        static let int2: UInt32 = 21
        static let int4: UInt32 = 23
        static let oid: UInt32 = 26
        static let float4: UInt32 = 700
        static let float8: UInt32 = 701
        /// Lets the server infer the type from the context, as for a quoted literal.
        static let unspecified: UInt32 = 0
    }

    /// The parameter's type as sent: text and NULL are left to the server to infer (so a text value
    /// can fill a varchar, a timestamp or a jsonb column), the others are exact.
    var parameterType: UInt32 {
        switch self {
        case .null, .text: return TypeOID.unspecified
        case .int64: return TypeOID.int8
        case .double: return TypeOID.float8
        case .bool: return TypeOID.bool
        case .bytea: return TypeOID.bytea
        }
    }

    /// The parameter in text format, or nil for NULL. Text holding a NUL byte cannot be sent (libpq
    /// takes C strings, PostgreSQL text has no NUL): it is refused rather than silently cut short.
    func parameterText() throws(PostgresError) -> String? {
        switch self {
        case .null: return nil
        case .text(let text):
            guard !text.utf8.contains(0) else {
                throw PostgresError(.statement, "a text parameter contains a NUL byte, which PostgreSQL text cannot hold",
                                    hint: "send such a value as bytea")
            }
            return text
        case .int64(let number): return String(number)
        case .double(let number):
            if number.isNaN { return "NaN" }
            if number.isInfinite { return number < 0 ? "-Infinity" : "Infinity" }
            return "\(number)"
        case .bool(let flag): return flag ? "t" : "f"
        case .bytea(let bytes):
            let digits = Array("0123456789abcdef".utf8)
            var hex = [UInt8](repeating: 0, count: 2 + bytes.count * 2)
            hex[0] = UInt8(ascii: "\\")
            hex[1] = UInt8(ascii: "x")
            for (index, byte) in bytes.enumerated() {
                hex[2 + index * 2] = digits[Int(byte >> 4)]
                hex[3 + index * 2] = digits[Int(byte & 0x0f)]
            }
            return String(decoding: hex, as: UTF8.self)
        }
    }

    /// A column value the server wrote in text format, read by its type. Bytea arrives already
    /// unescaped (`bytes`); a value that does not parse as its type is a protocol defect and throws.
    static func decode(text: String, type: UInt32) throws(PostgresError) -> PostgresValue {
        func malformed() -> PostgresError {
            PostgresError(.statement, "the server sent '\(text.prefix(40))' for a column of type \(type), which does not parse",
                          hint: "this is a defect in pipeline's PostgreSQL binding: report it")
        }
        switch type {
        case TypeOID.bool:
            switch text {
            case "t": return .bool(true)
            case "f": return .bool(false)
            default: throw malformed()
            }
        case TypeOID.int2, TypeOID.int4, TypeOID.int8, TypeOID.oid:
            guard let number = Int64(text) else { throw malformed() }
            return .int64(number)
        case TypeOID.float4, TypeOID.float8:
            switch text {
            case "NaN": return .double(.nan)
            case "Infinity": return .double(.infinity)
            case "-Infinity": return .double(-.infinity)
            default:
                guard let number = Double(text) else { throw malformed() }
                return .double(number)
            }
        default:
            return .text(text)
        }
    }

    var isNull: Bool { self == .null }

    var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    var int64: Int64? {
        if case .int64(let value) = self { return value }
        return nil
    }

    var double: Double? {
        if case .double(let value) = self { return value }
        return nil
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var bytes: [UInt8]? {
        if case .bytea(let value) = self { return value }
        return nil
    }

    init(_ text: String?) { self = text.map { .text($0) } ?? .null }
    init(_ number: Int64?) { self = number.map { .int64($0) } ?? .null }
}
