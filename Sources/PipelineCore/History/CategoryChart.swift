/// The failed items by the category of their last failure, as horizontal bars with the
/// categories' titles, the largest first.
struct CategoryChart {
    /// (title, count), drawn in this order.
    let rows: [(title: String, count: Int)]

    /// The rows of `failures`, largest first; `failedNow` items beyond those counted (failed before
    /// categories were recorded) are one more row.
    init(failures: [FailureCategory: Int], failedNow: Int) {
        var rows = failures.filter { $0.value > 0 }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.rawValue < $1.key.rawValue }
            .map { (title: $0.key.title, count: $0.value) }
        let uncounted = failedNow - RunSeries.total(Array(failures.values))
        if uncounted > 0 { rows.append((title: "not categorised", count: uncounted)) }
        self.rows = rows
    }

    var svg: String {
        let rowHeight = 32.0, labelWidth = 250.0, countWidth = 80.0
        let height = Double(rows.count) * rowHeight + 12
        let largest = Double(rows.map(\.count).max() ?? 1)
        let room = ChartFrame.width - labelWidth - countWidth
        var svg = "<svg class=\"chart\" viewBox=\"0 0 \(ChartFrame.number(ChartFrame.width)) \(ChartFrame.number(height))\" role=\"img\" aria-label=\"Failed items by category\">"
        for (index, row) in rows.enumerated() {
            let y = 6 + Double(index) * rowHeight
            let width = max(2, room * Double(row.count) / largest)
            svg += "<g class=\"category\"><text class=\"label\" x=\"\(ChartFrame.number(labelWidth - 10))\" y=\"\(ChartFrame.number(y + 19))\" text-anchor=\"end\">\(HTMLText.escape(row.title))</text>"
            svg += "<rect class=\"fail-bar\" x=\"\(ChartFrame.number(labelWidth))\" y=\"\(ChartFrame.number(y + 4))\" width=\"\(ChartFrame.number(width))\" height=\"\(ChartFrame.number(rowHeight - 10))\" rx=\"3\"/>"
            svg += "<text class=\"value\" x=\"\(ChartFrame.number(labelWidth + width + 8))\" y=\"\(ChartFrame.number(y + 19))\">\(ReadableNumber.count(row.count))</text></g>"
        }
        return svg + "</svg>"
    }
}
