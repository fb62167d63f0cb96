/// Progress over runs: the items done after each run (a filled area) and the items left (a dashed
/// line), so a person sees the library fill up and the rest shrink.
struct ProgressChart {
    let series: RunSeries

    var svg: String {
        let groups = series.groups
        let largest = groups.map { Double(max($0.doneAfter, $0.leftAfter ?? 0)) }.max() ?? 0
        let frame = ChartFrame(slots: groups.count, largest: largest)
        var svg = frame.open(label: "Items done and items left after each run")
        svg += frame.axes(value: { ReadableNumber.count(CheckedNumber.int64($0) ?? .max) }, columnLabel: { ReadableNumber.count(groups[$0].lastRun) })
        let done = groups.indices.map { (frame.x($0), frame.y(Double(groups[$0].doneAfter))) }
        if done.count > 1 {
            let base = ChartFrame.number(frame.y(0))
            svg += "<path class=\"done-area\" d=\"M\(ChartFrame.number(done[0].0)),\(base) "
                + done.map { "L\(ChartFrame.number($0.0)),\(ChartFrame.number($0.1))" }.joined(separator: " ")
                + " L\(ChartFrame.number(done[done.count - 1].0)),\(base) Z\"/>"
            svg += polyline(done, class: "done-line")
        }
        let left = groups.indices.compactMap { index in groups[index].leftAfter.map { (frame.x(index), frame.y(Double($0))) } }
        if left.count > 1 { svg += polyline(left, class: "left-line") }
        for (index, group) in groups.enumerated() {
            let tip = "<title>\(HTMLText.escape("\(group.label): \(ReadableNumber.count(group.doneAfter)) done" + (group.leftAfter.map { ", \(ReadableNumber.count($0)) left" } ?? "")))</title>"
            svg += "<circle class=\"done-dot\" cx=\"\(ChartFrame.number(frame.x(index)))\" cy=\"\(ChartFrame.number(frame.y(Double(group.doneAfter))))\" r=\"3.5\">\(tip)</circle>"
            if let leftAfter = group.leftAfter {
                svg += "<circle class=\"left-dot\" cx=\"\(ChartFrame.number(frame.x(index)))\" cy=\"\(ChartFrame.number(frame.y(Double(leftAfter))))\" r=\"3.5\">\(tip)</circle>"
            }
        }
        return svg + "</svg>"
    }

    private func polyline(_ points: [(Double, Double)], class name: String) -> String {
        "<polyline class=\"\(name)\" points=\"" + points.map { "\(ChartFrame.number($0.0)),\(ChartFrame.number($0.1))" }.joined(separator: " ") + "\"/>"
    }
}
