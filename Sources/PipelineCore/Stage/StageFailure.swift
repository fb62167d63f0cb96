/// Why a stage did not finish, and so what the orchestrator does next.
public struct StageFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A retry may help (dropped connection, 503, exit status 75): retried with backoff.
        case retryable
        /// A retry will not help in this run (wrong password, missing file): the item fails this run.
        case permanent
        /// The input this stage got is bad (a checksum mismatch): the stage that produced it runs again.
        case badInput
        /// The run is stopping (signal or time budget); the item stays where it is for the next run.
        case interrupted
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func retryable(_ message: String) -> StageFailure { StageFailure(.retryable, message) }
    public static func permanent(_ message: String) -> StageFailure { StageFailure(.permanent, message) }
    public static let interrupted = StageFailure(.interrupted, "interrupted")

    public var description: String { message }
}
