/// Whether `pipeline state push` may copy a state into a target that may already hold one.
///
/// Into an empty target, always. A target that holds a state is refused, unless `--replace` is
/// given and it belongs to the same pipeline as the copy (both record the pipeline's name): a push
/// then empties it first. A target that runners are working on (live leases) is always refused:
/// replacing the state under them would lose their work.
public struct StatePushDecision: Sendable, Equatable {
    /// Empty the target before copying.
    public var replaces: Bool

    /// What the target holds and who asks.
    public struct Target: Sendable, Equatable {
        public var holdsNothing: Bool
        /// The pipeline that owns the target's state (metadata `pipeline`), if recorded.
        public var owner: String?
        /// Items runners hold live leases on.
        public var liveLeases: Int
        /// The target as it may be shown (no password).
        public var description: String

        public init(holdsNothing: Bool, owner: String?, liveLeases: Int, description: String) {
            self.holdsNothing = holdsNothing
            self.owner = owner
            self.liveLeases = liveLeases
            self.description = description
        }
    }

    /// Decides, or throws an error that says why not and what to do.
    public static func decide(target: Target, sourceOwner: String?, replace: Bool) throws -> StatePushDecision {
        if target.liveLeases > 0 {
            throw PipelineError(.stateLocked, "runners are working on the state in \(target.description) (\(target.liveLeases) items under lease); nothing was copied",
                                hint: "stop those runners (or let their leases end) before pushing into it")
        }
        if target.holdsNothing { return StatePushDecision(replaces: false) }
        let whose = target.owner.map { " of the pipeline '\($0)'" } ?? ""
        guard replace else {
            throw PipelineError(.usage, "\(target.description) already holds a state\(whose); nothing was copied",
                                hint: "push into an empty database, or pass --replace to replace that state of the same pipeline with this one")
        }
        guard let owner = target.owner, owner == sourceOwner else {
            let source = sourceOwner.map { "the pipeline '\($0)'" } ?? "no recorded pipeline"
            throw PipelineError(.usage, "\(target.description) holds a state\(whose.isEmpty ? " of no recorded pipeline" : whose), and the state pushed is of \(source); --replace replaces a state of the same pipeline only, so nothing was copied",
                                hint: "push into an empty database of its own for this pipeline")
        }
        return StatePushDecision(replaces: true)
    }
}
