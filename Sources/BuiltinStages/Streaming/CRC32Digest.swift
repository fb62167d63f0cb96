import CZlib

/// CRC-32 (the zip/gzip/`.sfv` one) with zlib's `crc32`, fed in pieces of at most 1 GiB (its
/// length parameter is 32-bit).
final class CRC32Digest: Digest {
    private var value: UInt = crc32(0, nil, 0)

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let piece = min(remaining, 1 << 30)
            value = crc32(value, base, uInt(piece))
            base += piece
            remaining -= piece
        }
    }

    func finalizeHex() -> String {
        let hex = String(UInt32(truncatingIfNeeded: value), radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
