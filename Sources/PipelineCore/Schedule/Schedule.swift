import Foundation

/// The pipeline file's `schedule:`: which items a run takes first and which wait for a time window.
///
/// A claim takes items in this order: items in progress (they hold partial work), then by priority
/// rank (the first `priority:` rule an item matches; items matching none after all rules), then
/// fewer failed runs first (an item that failed before is less likely to succeed than a fresh one),
/// then by `order:`, then in listing order. An item a `windows:` entry matches starts only while
/// that window is open; it stays pending, untouched, meanwhile. Pure: the time is an argument.
public struct Schedule: Sendable {
    public var order: ScheduleOrder
    public var priority: [ScheduleRule]
    public var windows: [ScheduleWindow]

    public init(order: ScheduleOrder = .listed, priority: [ScheduleRule] = [], windows: [ScheduleWindow] = []) {
        self.order = order
        self.priority = priority
        self.windows = windows
    }

    /// No `schedule:` key: listing order, no priorities, no windows.
    public static let listed = Schedule()

    /// The item's priority rank and window.
    public func classify(path: String, size: Int64) -> ScheduleClass {
        ScheduleClass(rank: priority.firstIndex { $0.matches(path: path, size: size) } ?? priority.count,
                      window: windows.firstIndex { $0.rule.matches(path: path, size: size) }.map { $0 + 1 } ?? 0)
    }

    /// What the classes depend on (the rules, not the order or the times): kept in the state's
    /// metadata, so a state listed under other rules has its classes computed again.
    public var classDigest: String {
        let text = "priority:" + priority.map(\.description).joined(separator: ";")
            + "|windows:" + windows.map(\.rule.description).joined(separator: ";")
        // FNV-1a, 64 bits: short, stable across runs and platforms (unlike `hashValue`).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return "1:" + String(hash, radix: 16)
    }

    /// The metadata key the class digest is kept under.
    public static let digestKey = "schedule:classes"

    /// Whether every item's class is `.unscheduled` (nothing to compute when listing).
    public var classifiesNothing: Bool { priority.isEmpty && windows.isEmpty }

    /// The windows (by class, 1…) that are closed at `date`.
    public func closedWindows(at date: Date) -> Set<Int> {
        Set(windows.indices.filter { !windows[$0].window.isOpen(at: date) }.map { $0 + 1 })
    }

    /// What a claim at `date` may take, and in which order; `sizeLimit` from the quota preference.
    public func claimPlan(at date: Date, sizeLimit: Int64? = nil) -> ClaimPlan {
        ClaimPlan(order: order, windowCount: windows.count, closedWindows: closedWindows(at: date), sizeLimit: sizeLimit)
    }

    /// What a run says about items waiting for their closed window (`counts`: items by window class):
    /// "12 items wait for their window 01:00–06:00 Europe/Berlin, which opens in 3 h 12 min".
    public func waitingNotices(counts: [Int: Int], at date: Date) -> [String] {
        counts.keys.sorted().compactMap { window in
            guard let count = counts[window], count > 0, window >= 1, window <= windows.count else { return nil }
            let daily = windows[window - 1].window
            guard !daily.isOpen(at: date) else { return nil }
            let opens = daily.nextOpening(after: date).timeIntervalSince(date)
            return "\(count) \(count == 1 ? "item waits" : "items wait") for \(count == 1 ? "its" : "their") window \(daily), which opens in \(DailyWindow.spoken(opens))"
        }
    }
}
