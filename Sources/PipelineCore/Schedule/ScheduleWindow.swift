/// One `windows:` entry: the items its rule matches start only while its daily window is open.
public struct ScheduleWindow: Sendable, CustomStringConvertible {
    public var rule: ScheduleRule
    public var window: DailyWindow

    public init(rule: ScheduleRule, window: DailyWindow) {
        self.rule = rule
        self.window = window
    }

    public var description: String { window.description }
}
