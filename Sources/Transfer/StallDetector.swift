import Foundation

/// Tells a stalled transfer from a slow one: stalled when fewer than `bytesPerSecond × window`
/// bytes arrived in the last `window` seconds.
///
/// libcurl has LOW_SPEED_LIMIT/TIME, but its speed is an average that still includes a burst from
/// before the stall, so it noticed a 2 s stall only after 8 s. This looks at the last window only,
/// and is fed from the progress callback, which libcurl calls at least once a second.
struct StallDetector {
    let window: Double
    let bytesPerSecond: Double
    /// Positions seen, oldest first, at most one per tenth of a second.
    private var samples: [(time: Double, position: Int64)] = []

    init(window: Int, bytesPerSecond: Int) {
        self.window = Double(window)
        self.bytesPerSecond = Double(bytesPerSecond)
    }

    /// Records the position now; true when the transfer has stalled.
    mutating func isStalled(at position: Int64, now: Double = Date().timeIntervalSinceReferenceDate) -> Bool {
        if let last = samples.last, now - last.time < 0.1 {
            samples[samples.count - 1].position = position
        } else {
            samples.append((now, position))
        }
        // Keep one sample at or before the window's start, as the baseline.
        while samples.count > 1, samples[1].time <= now - window { samples.removeFirst() }
        guard let baseline = samples.first, now - baseline.time >= window else { return false }
        return Double(position - baseline.position) < bytesPerSecond * window
    }
}
