/// A file found by walking a remote tree: its full remote path (the item's identity), exact size
/// and modification time.
public struct RemoteFile: Sendable, Equatable {
    public var path: String
    public var size: Int64
    /// ISO 8601 UTC, to the second; nil when the server cannot say.
    public var modified: String?

    public init(path: String, size: Int64, modified: String?) {
        self.path = path
        self.size = size
        self.modified = modified
    }
}
