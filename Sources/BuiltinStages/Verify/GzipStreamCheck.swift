import CZlib
import Foundation
import PipelineCore

/// Checks a gzip file's own CRC-32 and length trailers with zlib, member by member.
///
/// libarchive's gzip reader decompresses without checking the trailer (its source says "TODO:
/// Verify the length and CRC"), so a flipped byte in a `.tar.gz` of incompressible data reads as a
/// whole archive. This pass closes that hole; it reads the file once more, decompressing into a
/// scratch buffer that is thrown away.
enum GzipStreamCheck {
    /// True when `path` starts like a gzip stream.
    static func applies(to path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 2)) == Data([0x1f, 0x8b])
    }

    /// Nil when every member is whole; otherwise what zlib found wrong.
    static func damage(in path: String, stop: StopSignal) -> String? {
        guard let input = FileHandle(forReadingAtPath: path) else { return "cannot open the file" }
        defer { try? input.close() }
        var stream = z_stream()
        // 16 + 15: a gzip wrapper, the largest window.
        guard inflateInit2_(&stream, 16 + 15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return "zlib could not start"
        }
        defer { inflateEnd(&stream) }
        var scratch = [UInt8](repeating: 0, count: 256 << 10)
        var finishedMember = false
        while true {
            guard !stop.isStopped else { return nil }
            guard let chunk = try? input.read(upToCount: 1 << 20), !chunk.isEmpty else {
                return finishedMember ? nil : "the gzip stream ends early (the file is truncated)"
            }
            let problem: String? = chunk.withUnsafeBytes { bytes -> String? in
                stream.next_in = UnsafeMutablePointer(mutating: bytes.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(bytes.count)
                while stream.avail_in > 0 {
                    if finishedMember {
                        // Another member follows (concatenated gzip), or padding: only a new header counts.
                        guard stream.next_in[0] == 0x1f else { stream.avail_in = 0; return nil }
                        inflateReset(&stream)
                        finishedMember = false
                    }
                    let status = scratch.withUnsafeMutableBufferPointer { output -> Int32 in
                        stream.next_out = output.baseAddress
                        stream.avail_out = uInt(output.count)
                        return inflate(&stream, Z_NO_FLUSH)
                    }
                    switch status {
                    case Z_OK, Z_BUF_ERROR: continue
                    case Z_STREAM_END: finishedMember = true
                    default: return "gzip: " + (stream.msg.map { String(cString: $0) } ?? "data error \(status)")
                    }
                }
                return nil
            }
            if let problem { return problem }
        }
    }
}
