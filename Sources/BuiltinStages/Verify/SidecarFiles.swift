import Foundation
import PipelineCore
import Synchronization
import Transfer

/// Finds the digest a source publishes for a file: a sidecar beside it (`NAME.sha256`,
/// `NAME.sha1`, `NAME.md5`, `NAME.sha512`) or a list in its folder (`SHA256SUMS`, `SHA1SUMS`,
/// `MD5SUMS`, `SHA512SUMS`, as `sha256sum` writes them). Read from the source itself, over the
/// same connection settings; a folder's list is read once per run.
final class SidecarFiles: Sendable {
    /// Where sidecars are read from.
    enum Location: Sendable {
        case local(root: String)
        case remote(RemoteEndpoint)
    }

    private let location: Location
    /// Folder list files already read: "folder/SHA256SUMS" → name (bytes) → hex (nil: not there).
    private let lists = Mutex<[String: [[UInt8]: String]?]>([:])

    static let listNames: [DigestAlgorithm: String] = [.sha256: "SHA256SUMS", .sha1: "SHA1SUMS", .md5: "MD5SUMS", .sha512: "SHA512SUMS"]

    init(location: Location) { self.location = location }

    /// The first digest published for `item`, preferring `preferred` algorithms in order.
    func expectation(for item: SourceItem, preferring preferred: [DigestAlgorithm]) throws(StageFailure) -> ExpectedDigest? {
        let order = preferred + [.sha256, .sha1, .md5, .sha512].filter { !preferred.contains($0) }
        let folder = String(item.path[..<(item.path.lastIndex(of: "/") ?? item.path.startIndex)])
        let name = item.name
        let nameBytes = FileNameBytes.bytes(name)
        var reader = Reader(location: location)
        for algorithm in order where Self.listNames[algorithm] != nil {
            if let bytes = try reader.read(item.path + "." + algorithm.rawValue),
               let hex = Self.firstHex(in: String(decoding: bytes, as: UTF8.self), length: algorithm.hexLength) {
                return ExpectedDigest(algorithm: algorithm, hex: hex, origin: "the sidecar \(name).\(algorithm.rawValue)")
            }
        }
        for algorithm in order {
            guard let listName = Self.listNames[algorithm] else { continue }
            if let hex = try list(folder + "/" + listName, hexLength: algorithm.hexLength, reader: &reader)[nameBytes] {
                return ExpectedDigest(algorithm: algorithm, hex: hex, origin: listName)
            }
        }
        return nil
    }

    private func list(_ path: String, hexLength: Int, reader: inout Reader) throws(StageFailure) -> [[UInt8]: String] {
        if let known = lists.withLock({ $0[path] }) { return known ?? [:] }
        let parsed = try reader.read(path).map { Self.parseList($0, hexLength: hexLength) }
        lists.withLock { $0[path] = .some(parsed) }
        return parsed ?? [:]
    }

    /// `HEX  name` or `HEX *name` lines (text and binary mode), read byte-wise: names are bytes
    /// (a Latin-1 name must not hide the whole list), digests ASCII hex. Other lines are ignored.
    static func parseList(_ bytes: [UInt8], hexLength: Int) -> [[UInt8]: String] {
        var entries: [[UInt8]: String] = [:]
        for var line in bytes.split(whereSeparator: { $0 == 0x0A || $0 == 0x0D }) {
            let hex = line.prefix(hexLength)
            guard hex.count == hexLength, hex.allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }) else { continue }
            line = line.dropFirst(hexLength)
            guard line.first == 0x20 else { continue }
            line = line.dropFirst()
            if line.first == 0x20 || line.first == 0x2A { line = line.dropFirst() }
            if line.starts(with: [0x2E, 0x2F]) { line = line.dropFirst(2) }
            entries[Array(line)] = String(decoding: hex, as: UTF8.self).lowercased()
        }
        return entries
    }

    static func firstHex(in text: String, length: Int) -> String? {
        text.split(whereSeparator: { $0.isWhitespace }).first { $0.count == length && $0.allSatisfy(\.isHexDigit) }.map { $0.lowercased() }
    }

    /// Reads the sidecars of one item: local files, or one connection for all its tries.
    private struct Reader {
        let location: Location
        var remote: RemoteTextReader?

        init(location: Location) { self.location = location }

        /// The file's bytes, or nil when there is none.
        mutating func read(_ path: String) throws(StageFailure) -> [UInt8]? {
            switch location {
            case .local(let root):
                guard !path.split(separator: "/").contains("..") else { return nil }
                return Self.readLocal(RawPath(bytes: Array(root.utf8) + FileNameBytes.bytes(path)))
            case .remote(let endpoint):
                do {
                    if remote == nil { remote = try RemoteTextReader(endpoint: endpoint) }
                    return try remote?.read(path).map { Array($0.utf8) }
                } catch {
                    throw .retryable("cannot read '\(path)' from \(endpoint.displayName): \(error.message)")
                }
            }
        }

        /// A small local file's bytes (a sidecar is never large: at most 4 MiB are read).
        static func readLocal(_ path: RawPath) -> [UInt8]? {
            guard let file = try? FileStream(raw: path, mode: .read) else { return nil }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 16)
            defer { buffer.deallocate() }
            var bytes: [UInt8] = []
            while bytes.count < buffer.count, let count = try? file.read(into: buffer, at: Int64(bytes.count)), count > 0 {
                bytes += UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            }
            return bytes
        }
    }
}
