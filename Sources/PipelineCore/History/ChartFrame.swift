/// The geometry every chart of the history page shares: a 960×280 SVG drawing (about the size it is shown at, so its text reads at the page's size) with room for the
/// axis labels, `slots` columns along x (one per run group) and a "nice" top value on y.
struct ChartFrame {
    static let width = 960.0
    let height: Double
    let left = 74.0, right = 14.0, top = 14.0, bottom = 30.0
    let slots: Int
    /// The value at the top of the plot: the largest value rounded up to 1, 2 or 5 × a power of ten.
    let maximum: Double

    init(slots: Int, largest: Double, height: Double = 280) {
        self.slots = max(1, slots)
        self.height = height
        maximum = Self.niceCeiling(largest)
    }

    var plotWidth: Double { Self.width - left - right }
    var plotHeight: Double { height - top - bottom }
    var slotWidth: Double { plotWidth / Double(slots) }

    /// The middle of column `slot`.
    func x(_ slot: Int) -> Double { left + (Double(slot) + 0.5) * slotWidth }

    func y(_ value: Double) -> Double { top + plotHeight * (1 - min(max(value, 0), maximum) / maximum) }

    /// The opening tag, with what the chart shows for screen readers.
    func open(label: String) -> String {
        "<svg class=\"chart\" viewBox=\"0 0 \(Self.number(Self.width)) \(Self.number(height))\" role=\"img\" aria-label=\"\(HTMLText.escape(label))\">"
    }

    /// Horizontal grid lines with their values at 0, ½ and the top, the baseline, and up to six
    /// x labels spread over the columns.
    func axes(value: (Double) -> String, columnLabel: (Int) -> String) -> String {
        var svg = "<g class=\"axis\">"
        for fraction in [0.0, 0.5, 1.0] {
            let level = y(maximum * fraction)
            svg += "<line class=\"\(fraction == 0 ? "base" : "grid")\" x1=\"\(Self.number(left))\" y1=\"\(Self.number(level))\" x2=\"\(Self.number(Self.width - right))\" y2=\"\(Self.number(level))\"/>"
            svg += "<text x=\"\(Self.number(left - 8))\" y=\"\(Self.number(level + 4))\" text-anchor=\"end\">\(HTMLText.escape(value(maximum * fraction)))</text>"
        }
        for slot in Self.labelledSlots(slots) {
            svg += "<text x=\"\(Self.number(x(slot)))\" y=\"\(Self.number(height - 10))\" text-anchor=\"middle\">\(HTMLText.escape(columnLabel(slot)))</text>"
        }
        return svg + "</g>"
    }

    /// At most six columns, the first and the last among them, evenly spread.
    static func labelledSlots(_ count: Int) -> [Int] {
        guard count > 6 else { return Array(0..<count) }
        var slots: [Int] = []
        for step in 0..<6 {
            let slot = Int((Double(step) * Double(count - 1) / 5).rounded())
            if slots.last != slot { slots.append(slot) }
        }
        return slots
    }

    /// 1, 2 or 5 × 10ⁿ at or above `value` (1 for nothing at all).
    static func niceCeiling(_ value: Double) -> Double {
        guard value.isFinite, value > 1 else { return 1 }
        var power = 1.0
        while power * 10 <= value { power *= 10 }
        for step in [1.0, 2.0, 5.0, 10.0] where step * power >= value { return step * power }
        return 10 * power
    }

    /// A coordinate with one decimal at most: `12.5`, `240`.
    static func number(_ value: Double) -> String {
        let tenths = Int((abs(value) * 10).rounded())
        let sign = value < 0 && tenths > 0 ? "-" : ""
        return sign + (tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(tenths % 10)")
    }
}
