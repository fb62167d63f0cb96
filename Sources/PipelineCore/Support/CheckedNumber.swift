/// Numbers that come from outside (a pipeline file, a stage's output, a server's header, a state
/// file) turned into integers without ever trapping: out of range or not a number is nil, and the
/// caller says what is wrong.
public enum CheckedNumber {
    /// `value` rounded to an `Int64`, or nil when it is not finite or outside Int64's range.
    public static func int64(_ value: Double) -> Int64? {
        let rounded = value.rounded()
        // 2^63 is exactly representable; every Double below it converts.
        guard rounded.isFinite, rounded >= -9_223_372_036_854_775_808.0, rounded < 9_223_372_036_854_775_808.0 else { return nil }
        return Int64(rounded)
    }
}
