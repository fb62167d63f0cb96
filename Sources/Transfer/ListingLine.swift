/// What one line of a directory listing (LIST or MLSD) turned out to be.
public enum ListingLine: Sendable, Equatable {
    /// A file, folder, link or other entry.
    case entry(RemoteEntry)
    /// Not an entry, and nothing is lost by passing over it: `total 12`, a blank line, `.` or `..`.
    case ignored
    /// A line the parser cannot read. Passing over it could drop a file, so the listing fails.
    case unrecognized
}
