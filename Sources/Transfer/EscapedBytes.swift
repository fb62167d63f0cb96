/// Bytes shown as text: valid UTF-8 as it is, every byte that is not as `\xNN`, so a name from a
/// Latin-1 server (`caf\xE9.jpg`) can be named in a message without losing which byte it was.
public enum EscapedBytes {
    public static func text(_ bytes: some Collection<UInt8>) -> (text: String, isUTF8: Bool) {
        let bytes = Array(bytes)
        var text = ""
        var isUTF8 = true
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var position = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                text.unicodeScalars.append(Unicode.UTF8.decode(encoded))
                position += encoded.count
            case .error(let length):
                isUTF8 = false
                for byte in bytes[position..<(position + length)] {
                    let hex = String(byte, radix: 16, uppercase: true)
                    text += "\\x" + (hex.count == 1 ? "0" : "") + hex
                }
                position += length
            case .emptyInput:
                return (text, isUTF8)
            }
        }
    }
}
