import Yams

/// How many values a YAML tree stands for with its aliases expanded, counted only up to a limit:
/// the count stops as soon as it passes, so a tree of billions costs no more than the limit.
enum YAMLSize {
    static func exceeds(_ root: Node, limit: Int) -> Bool {
        var remaining = limit
        return !visit(root, &remaining)
    }

    /// False once `remaining` runs out.
    private static func visit(_ node: Node, _ remaining: inout Int) -> Bool {
        remaining -= 1
        guard remaining >= 0 else { return false }
        switch node {
        case .scalar, .alias: return true
        case .sequence(let sequence):
            for child in sequence where !visit(child, &remaining) { return false }
            return true
        case .mapping(let mapping):
            for (key, value) in mapping where !visit(key, &remaining) || !visit(value, &remaining) { return false }
            return true
        }
    }
}
