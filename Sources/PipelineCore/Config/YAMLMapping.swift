import Yams

/// A YAML mapping being read key by key; remembers which keys were read so the rest can be
/// reported as unknown, with a suggestion.
struct YAMLMapping {
    let node: Node
    let mapping: Node.Mapping
    let file: String
    let context: String
    private let entries: [(key: String, keyNode: Node, value: Node)]

    init(_ node: Node, file: String, context: String) throws {
        guard case .mapping(let mapping) = node else {
            throw YAMLMapping.location(of: node, file: file).error("\(context) must be a mapping of keys to values")
        }
        self.node = node
        self.mapping = mapping
        self.file = file
        self.context = context
        self.entries = mapping.map { pair in (pair.key.string ?? "", pair.key, pair.value) }
    }

    static func location(of node: Node, file: String) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    var location: SourceLocation { Self.location(of: node, file: file) }
    var keys: [String] { entries.map(\.key) }

    func location(of node: Node) -> SourceLocation { Self.location(of: node, file: file) }

    subscript(key: String) -> Node? { entries.first { $0.key == key }?.value }

    /// Refuses keys not in `known`, pointing at the first unknown one.
    func rejectUnknownKeys(_ known: [String]) throws {
        for entry in entries where !known.contains(entry.key) {
            throw location(of: entry.keyNode).error(NameSuggester.unknown("key", entry.key, valid: known) + " in \(context)")
        }
    }

    func required(_ key: String) throws -> Node {
        guard let value = self[key] else {
            throw location.error("\(context) is missing the required key '\(key)'")
        }
        return value
    }
}
