/// What one claim may take and in which order: the schedule's order, the windows closed at the
/// time of the claim, and the quota preference's size limit. Every state driver claims by it, and
/// `precedes` is the order they all follow (the memory driver and the dry run use it directly).
public struct ClaimPlan: Sendable, Equatable {
    public var order: ScheduleOrder
    /// How many windows the schedule has (window classes 1…windowCount).
    public var windowCount: Int
    /// Window classes whose items may not start now.
    public var closedWindows: Set<Int>
    /// Only items of at most this many bytes start (nil: any size).
    public var sizeLimit: Int64?

    public init(order: ScheduleOrder = .listed, windowCount: Int = 0, closedWindows: Set<Int> = [], sizeLimit: Int64? = nil) {
        self.order = order
        self.windowCount = max(0, windowCount)
        self.closedWindows = closedWindows
        self.sizeLimit = sizeLimit
    }

    /// No schedule: every item in listing order (fresh before failed).
    public static let listed = ClaimPlan()

    /// The window classes whose items may start now (0, no window, always may), ascending.
    public var openClasses: [Int] { (0...windowCount).filter { !closedWindows.contains($0) } }

    /// Whether an item not in progress, of window class `window` and `size` bytes, may start now.
    /// (An item in progress continues whatever its window: it started inside it and holds work.)
    public func mayStart(window: Int, size: Int64?) -> Bool {
        guard openClasses.contains(window) else { return false }
        if let sizeLimit, (size ?? 0) > sizeLimit { return false }
        return true
    }

    /// What a claim compares items by.
    public struct Candidate: Sendable, Equatable {
        public var inProgress: Bool
        public var schedule: ScheduleClass
        public var failures: Int
        public var size: Int64?
        public var modified: String?
        public var listedOrder: Int64

        public init(inProgress: Bool, schedule: ScheduleClass, failures: Int, size: Int64?, modified: String?, listedOrder: Int64) {
            self.inProgress = inProgress
            self.schedule = schedule
            self.failures = failures
            self.size = size
            self.modified = modified
            self.listedOrder = listedOrder
        }
    }

    /// The claim order: in progress first (in listing order), then priority rank, fewer failures,
    /// `order`, listing order.
    public func precedes(_ a: Candidate, _ b: Candidate) -> Bool {
        if a.inProgress != b.inProgress { return a.inProgress }
        if a.inProgress { return a.listedOrder < b.listedOrder }
        if a.schedule.rank != b.schedule.rank { return a.schedule.rank < b.schedule.rank }
        if a.failures != b.failures { return a.failures < b.failures }
        if order.precedes(size: a.size, modified: a.modified, b.size, modified: b.modified) { return true }
        if order.precedes(size: b.size, modified: b.modified, a.size, modified: a.modified) { return false }
        return a.listedOrder < b.listedOrder
    }
}
