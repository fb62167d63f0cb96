/// What a remote walk found: the files to list, and the entries left out, each with the reason.
public struct RemoteListing: Sendable, Equatable {
    /// An entry that is not in `files`, and why; the stage reports each one.
    public struct Skipped: Sendable, Equatable {
        /// The full remote path, as `FileNameBytes` text.
        public var path: String
        public var reason: String
    }

    public var files: [RemoteFile] = []
    public var skipped: [Skipped] = []
}
