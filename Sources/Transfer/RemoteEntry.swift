/// One name in a remote directory listing.
public struct RemoteEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case file, directory, link, other
    }

    public var name: String
    public var kind: Kind
    public var size: Int64?
    /// ISO 8601 UTC, to the second, when the listing gives an exact time (MLSD).
    public var modified: String?
    /// MLSD's `unique` fact, for telling a directory seen twice (a loop) apart.
    public var unique: String?

    public init(name: String, kind: Kind, size: Int64? = nil, modified: String? = nil, unique: String? = nil) {
        self.name = name
        self.kind = kind
        self.size = size
        self.modified = modified
        self.unique = unique
    }
}
