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
    /// Folder list files already read: "folder/SHA256SUMS" → name → hex (nil: not there).
    private let lists = Mutex<[String: [String: String]?]>([:])

    static let listNames: [DigestAlgorithm: String] = [.sha256: "SHA256SUMS", .sha1: "SHA1SUMS", .md5: "MD5SUMS", .sha512: "SHA512SUMS"]

    init(location: Location) { self.location = location }

    /// The first digest published for `item`, preferring `preferred` algorithms in order.
    func expectation(for item: SourceItem, preferring preferred: [DigestAlgorithm]) throws(StageFailure) -> ExpectedDigest? {
        let order = preferred + [.sha256, .sha1, .md5, .sha512].filter { !preferred.contains($0) }
        let folder = String(item.path[..<(item.path.lastIndex(of: "/") ?? item.path.startIndex)])
        let name = item.name
        var reader = Reader(location: location)
        for algorithm in order where Self.listNames[algorithm] != nil {
            if let text = try reader.read(item.path + "." + algorithm.rawValue),
               let hex = Self.firstHex(in: text, length: algorithm.hexLength) {
                return ExpectedDigest(algorithm: algorithm, hex: hex, origin: "the sidecar \(name).\(algorithm.rawValue)")
            }
        }
        for algorithm in order {
            guard let listName = Self.listNames[algorithm] else { continue }
            if let hex = try list(folder + "/" + listName, hexLength: algorithm.hexLength, reader: &reader)[name] {
                return ExpectedDigest(algorithm: algorithm, hex: hex, origin: listName)
            }
        }
        return nil
    }

    private func list(_ path: String, hexLength: Int, reader: inout Reader) throws(StageFailure) -> [String: String] {
        if let known = lists.withLock({ $0[path] }) { return known ?? [:] }
        let parsed = try reader.read(path).map { Self.parseList($0, hexLength: hexLength) }
        lists.withLock { $0[path] = .some(parsed) }
        return parsed ?? [:]
    }

    /// `HEX  name` or `HEX *name` lines (text and binary mode); other lines are ignored.
    static func parseList(_ text: String, hexLength: Int) -> [String: String] {
        var entries: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let hex = line.prefix(hexLength)
            guard hex.count == hexLength, hex.allSatisfy(\.isHexDigit) else { continue }
            var rest = line.dropFirst(hexLength)
            guard rest.first == " " else { continue }
            rest = rest.dropFirst()
            if rest.first == " " || rest.first == "*" { rest = rest.dropFirst() }
            let name = rest.hasPrefix("./") ? rest.dropFirst(2) : rest
            entries[String(name)] = hex.lowercased()
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

        mutating func read(_ path: String) throws(StageFailure) -> String? {
            switch location {
            case .local(let root):
                guard !path.split(separator: "/").contains("..") else { return nil }
                return try? String(contentsOfFile: root + path, encoding: .utf8)
            case .remote(let endpoint):
                do {
                    if remote == nil { remote = try RemoteTextReader(endpoint: endpoint) }
                    return try remote?.read(path)
                } catch {
                    throw .retryable("cannot read '\(path)' from \(endpoint.displayName): \(error.message)")
                }
            }
        }
    }
}
