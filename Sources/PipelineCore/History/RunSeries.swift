/// The run history as the charts draw it: consecutive runs in at most `limit` groups (one run
/// each while they fit), with what each group did and where the library stood after it.
///
/// A long history (500 runs) is drawn as groups of neighbouring runs, so the charts stay readable
/// and the page small; the table lists the latest runs one by one.
struct RunSeries: Equatable {
    struct Group: Equatable {
        var firstRun: Int64
        var lastRun: Int64
        var runs: Int
        var completed: Int
        var failed: Int
        var bytesCompleted: Int64
        /// Items completed after the group's last run (of the whole library, not only these runs').
        var doneAfter: Int
        /// Items left after the group's last run, when it recorded them (a killed run did not).
        var leftAfter: Int?

        /// "run 7" or "runs 7–12".
        var label: String {
            firstRun == lastRun ? "run \(ReadableNumber.count(firstRun))"
                                : "runs \(ReadableNumber.count(firstRun))–\(ReadableNumber.count(lastRun))"
        }
    }

    var groups: [Group]

    /// The most groups a chart draws.
    static let defaultLimit = 60

    /// `runs` oldest first; `completedNow`: the items completed in the state now, which anchors the
    /// progress line (items done after a run = done now − what the later runs completed).
    init(runs: [RunRecord], completedNow: Int, limit: Int = Self.defaultLimit) {
        let size = max(1, (runs.count + max(1, limit) - 1) / max(1, limit))
        var completedLater = Self.total(runs.map(\.completed))
        var groups: [Group] = []
        for start in stride(from: 0, to: runs.count, by: size) {
            let slice = runs[start..<min(runs.count, start + size)]
            let completed = Self.total(slice.map(\.completed))
            completedLater -= completed
            groups.append(Group(firstRun: slice.first!.number, lastRun: slice.last!.number, runs: slice.count,
                                completed: completed, failed: Self.total(slice.map(\.failed)),
                                bytesCompleted: Self.total(slice.map(\.bytesCompleted)),
                                doneAfter: max(0, completedNow - completedLater),
                                leftAfter: slice.last!.itemsLeft.map { max(0, $0) }))
        }
        self.groups = groups
    }

    /// The sum of counts read from the state, negatives as 0 and saturating rather than trapping
    /// (a damaged record never stops the page).
    static func total<Number: FixedWidthInteger>(_ values: [Number]) -> Number {
        values.reduce(0) { sum, value in
            let (result, overflow) = sum.addingReportingOverflow(max(0, value))
            return overflow ? .max : result
        }
    }

    /// How many runs each group holds (1 when every run has its own).
    var runsPerGroup: Int { groups.map(\.runs).max() ?? 1 }
}
