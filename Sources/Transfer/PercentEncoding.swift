/// Percent-encoding that keeps only RFC 3986's unreserved characters (`A–Z a–z 0–9 - . _ ~`) and
/// writes every other byte as `%XX`: safe in a URL path segment, a query and a form body alike.
public enum PercentEncoding {
    public static func unreserved(_ bytes: some Sequence<UInt8>) -> String {
        var output = ""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                output += "%" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return output
    }
}
