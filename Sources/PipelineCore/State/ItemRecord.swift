import Foundation

/// Where an item stands across runs.
public enum ItemStatus: String, Sendable, Codable, CaseIterable {
    /// Listed, no stage done yet.
    case pending
    /// Some stages done or one running; the next run continues it.
    case inProgress = "in_progress"
    /// Every stage done. Never processed again unless forgotten.
    case completed
    /// The last run that tried it failed; `failures` counts such runs.
    case failed
    /// Not for this pipeline (too large, excluded by a stage); never processed unless retried.
    case skipped
}

/// The state of one item, as stored.
public struct ItemRecord: Sendable, Equatable, Codable {
    public var path: String
    public var size: Int64?
    public var modified: String?
    public var status: ItemStatus
    /// The stage it is in (in progress), failed in, or finished last.
    public var stage: String?
    /// Runs in which the item failed; at `max_failures` it is skipped until retried.
    public var failures: Int
    public var lastError: String?
    public var firstFailed: Double?
    public var lastFailed: Double?
    public var skipReason: String?
    public var updatedAt: Double?
    public var completedAt: Double?
    /// The category of the last failure (`FailureEvidence`); nil before the item failed, or once retried.
    public var lastCategory: FailureCategory?
    /// Runs that started a stage of the item since it was listed or last retried: with `failures`,
    /// what tells a persistent failure (`isPersistentFailure`).
    public var triedRuns: Int
    /// The last run that started one of its stages (`StateStore.beginRun`'s number).
    public var lastTriedRun: Int64?

    public init(path: String, size: Int64? = nil, modified: String? = nil, status: ItemStatus = .pending) {
        self.path = path
        self.size = size
        self.modified = modified
        self.status = status
        self.failures = 0
        self.triedRuns = 0
    }

    /// Failed in every run that tried it, at least twice: `failures` (runs that failed it) is at
    /// least 2 and at least `triedRuns` (runs that started one of its stages). Both count since the
    /// item was last retried; a run before the state kept `triedRuns` counts as having failed it.
    public var isPersistentFailure: Bool {
        status == .failed && failures >= 2 && failures >= triedRuns
    }

    /// Whether the item has failed too many runs to be tried again without `pipeline retry`.
    public func hasGivenUp(maxFailures: Int) -> Bool {
        status == .failed && failures >= maxFailures
    }
}

/// The recorded state of one stage of one item.
public struct StageRecord: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        /// `skipped`: this stage said the item is not for the pipeline (the item is skipped).
        case running, done, failed, skipped
    }

    public var stage: String
    public var status: Status
    /// The attempt within the run that last touched it.
    public var attempt: Int
    public var outputs: [String: JSONValue]
    /// Resumption data saved while running (kept when a run is cut off).
    public var checkpoint: [String: JSONValue]?
    public var error: String?
    /// The external stage's process, so a later run can stop an orphan left by a killed run.
    public var processID: Int32?
    public var processStart: String?
    public var updatedAt: Double?

    public init(stage: String, status: Status, attempt: Int = 1, outputs: [String: JSONValue] = [:]) {
        self.stage = stage
        self.status = status
        self.attempt = attempt
        self.outputs = outputs
    }

    /// The outputs as stored: JSON text, none for a stage not done that has none.
    var storedOutputs: String? { outputs.isEmpty && status != .done ? nil : JSONValue.object(outputs).jsonText() }
    /// The checkpoint as stored: JSON text.
    var storedCheckpoint: String? { checkpoint.map { JSONValue.object($0).jsonText() } }
}

/// One durable change. Several may be committed together, atomically.
public enum StateTransition: Sendable, Equatable {
    case stageStarted(path: String, stage: String, attempt: Int)
    case stageProcess(path: String, stage: String, processID: Int32?, processStart: String?)
    case stageCheckpoint(path: String, stage: String, values: [String: JSONValue])
    case stageDone(path: String, stage: String, outputs: [String: JSONValue])
    case stageAttemptFailed(path: String, stage: String, attempt: Int, error: String)
    /// Forgets these stages' records (the item goes back to the first of them).
    case stagesReset(path: String, stages: [String])
    case itemCompleted(path: String, stage: String?)
    /// The item failed this run in `stage`, at try `attempt`; `category` nil: told from `error` (`FailureClassifier`).
    case itemFailed(path: String, stage: String, error: String, category: FailureCategory? = nil, attempt: Int = 1)
    case itemSkipped(path: String, reason: String)
    /// Takes back a failure this run counted (it was an outage, not the item): one failed run
    /// less, and the item is unfinished again.
    case itemFailureForgiven(path: String)
}

/// What recording a listing changed.
public struct ListingChanges: Sendable, Equatable {
    /// Paths seen for the first time.
    public var added: Int = 0
    /// Unfinished items whose size or modification time differ from what was recorded: their stage
    /// records were discarded, so no stale partial work is reused.
    public var changed: [String] = []
    public init() {}
}

/// Counts and totals for summaries.
public struct StateSummary: Sendable, Equatable, Codable {
    public var total = 0
    public var pending = 0
    public var inProgress = 0
    public var completed = 0
    public var failed = 0
    public var skipped = 0
    /// Items that failed `max_failures` runs and wait for `pipeline retry`.
    public var givenUp = 0
    public var completedBytes: Int64 = 0
    public var totalBytes: Int64 = 0
    public init() {}

    /// Items a run would still work on: pending, in progress, or failed and not given up.
    public var unfinished: Int { pending + inProgress + failed - givenUp }

    /// Counts one item in (the rule `status` and the stores' aggregate queries follow).
    public mutating func count(_ item: ItemRecord, maxFailures: Int) {
        total += 1
        totalBytes += item.size ?? 0
        switch item.status {
        case .pending: pending += 1
        case .inProgress: inProgress += 1
        case .completed:
            completed += 1
            completedBytes += item.size ?? 0
        case .failed:
            failed += 1
            if item.hasGivenUp(maxFailures: maxFailures) { givenUp += 1 }
        case .skipped: skipped += 1
        }
    }
}
