/// Where the pipeline file's schedule puts one item, as the state keeps it beside the item (computed
/// when the item is listed, so a claim orders and filters by columns, not by rules).
public struct ScheduleClass: Sendable, Hashable {
    /// The index of the first `priority:` rule the item matches; the number of rules when none does.
    public var rank: Int
    /// 1 + the index of the first `windows:` entry the item matches; 0 when none does (any time).
    public var window: Int

    public init(rank: Int, window: Int) {
        self.rank = rank
        self.window = window
    }

    /// Every item's class when the pipeline file has no schedule.
    public static let unscheduled = ScheduleClass(rank: 0, window: 0)

    /// The most priority rules and windows a schedule may have (the classes are small numbers).
    public static let ruleLimit = 100
}
