/// Bytes moved per run, as vertical bars; in a long history each bar is a group of consecutive
/// runs at its average per run, so a last, smaller group is not drawn as a slow one.
struct BytesChart {
    let series: RunSeries

    /// What a group's bar shows: its bytes per run.
    static func height(_ group: RunSeries.Group) -> Int64 { group.bytesCompleted / Int64(max(1, group.runs)) }

    var svg: String {
        let groups = series.groups
        let frame = ChartFrame(slots: groups.count, largest: Double(groups.map(Self.height).max() ?? 0))
        var svg = frame.open(label: "Bytes completed in each run")
        svg += frame.axes(value: { ReadableNumber.bytes(CheckedNumber.int64($0) ?? .max) }, columnLabel: { ReadableNumber.count(groups[$0].lastRun) })
        let width = min(56, frame.slotWidth * 0.72)
        for (index, group) in groups.enumerated() {
            let value = Self.height(group)
            let top = frame.y(Double(value))
            let height = max(value > 0 ? 1 : 0, frame.y(0) - top)
            let amount = group.runs == 1 ? ReadableNumber.bytes(value)
                : "\(ReadableNumber.bytes(value)) a run on average (\(ReadableNumber.bytes(group.bytesCompleted)) in all)"
            let tip = "\(group.label): \(amount), \(ReadableNumber.count(group.completed)) items completed"
                + (group.failed > 0 ? ", \(ReadableNumber.count(group.failed)) failed" : "")
            svg += "<rect class=\"bar\" x=\"\(ChartFrame.number(frame.x(index) - width / 2))\" y=\"\(ChartFrame.number(frame.y(0) - height))\" width=\"\(ChartFrame.number(width))\" height=\"\(ChartFrame.number(height))\" rx=\"2\"><title>\(HTMLText.escape(tip))</title></rect>"
        }
        return svg + "</svg>"
    }
}
