/// One counter `StateStore.spend` keeps: how much of `name` was spent in `period` (a quota's day).
public struct StateCounter: Sendable, Hashable {
    public var name: String
    public var period: String
    public var value: Int

    public init(name: String, period: String, value: Int) {
        self.name = name
        self.period = period
        self.value = value
    }
}
