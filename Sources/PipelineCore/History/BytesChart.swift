/// Bytes moved per run (or per group of runs in a long history), as vertical bars.
struct BytesChart {
    let series: RunSeries

    var svg: String {
        let groups = series.groups
        let frame = ChartFrame(slots: groups.count, largest: Double(groups.map(\.bytesCompleted).max() ?? 0))
        var svg = frame.open(label: "Bytes completed in each run")
        svg += frame.axes(value: { ReadableNumber.bytes(CheckedNumber.int64($0) ?? .max) }, columnLabel: { ReadableNumber.count(groups[$0].lastRun) })
        let width = min(56, frame.slotWidth * 0.72)
        for (index, group) in groups.enumerated() {
            let top = frame.y(Double(group.bytesCompleted))
            let height = max(group.bytesCompleted > 0 ? 1 : 0, frame.y(0) - top)
            let tip = "\(group.label): \(ReadableNumber.bytes(group.bytesCompleted)), \(ReadableNumber.count(group.completed)) items completed"
                + (group.failed > 0 ? ", \(ReadableNumber.count(group.failed)) failed" : "")
            svg += "<rect class=\"bar\" x=\"\(ChartFrame.number(frame.x(index) - width / 2))\" y=\"\(ChartFrame.number(frame.y(0) - height))\" width=\"\(ChartFrame.number(width))\" height=\"\(ChartFrame.number(height))\" rx=\"2\"><title>\(HTMLText.escape(tip))</title></rect>"
        }
        return svg + "</svg>"
    }
}
