/// A digest the copy must match, and where that truth came from (for the messages).
struct ExpectedDigest: Sendable, Equatable {
    var algorithm: DigestAlgorithm
    var hex: String
    /// `sidecar photo.jpg.sha256`, `SHA256SUMS`, `the server (XSHA256)`, `the source listing`.
    var origin: String
}
