/// Groups failed items by category, folder, extension and repeated server message, counting the
/// persistent ones: `pipeline failures` feeds it the state's failed items page by page.
///
/// Memory is bounded whatever the state's size: a group keeps its counts and a few example paths,
/// and each kind keeps at most `groupLimit` groups (the items of any further ones are counted in
/// `ungrouped`).
public struct FailureAnalysis: Sendable {
    public private(set) var failed = 0
    public private(set) var persistent = 0
    /// Failed items the pipeline's source no longer selects (its `include`/`exclude` changed since):
    /// runs leave them alone, so they are counted apart, not grouped.
    public private(set) var deselected = 0
    /// Items of a folder, extension or message group beyond `groupLimit` distinct ones, by kind.
    public private(set) var ungrouped: [FailureGroup.Kind: Int] = [:]
    private var groups: [FailureGroup.Kind: [GroupKey: FailureGroup]] = [:]
    /// The order groups were first seen in, so that ties sort the same way every time.
    private var seen: [FailureGroup.Kind: [GroupKey: Int]] = [:]
    let groupLimit: Int

    struct GroupKey: Hashable, Sendable {
        var category: FailureCategory
        var key: String?
    }

    public init(groupLimit: Int = 10_000) {
        self.groupLimit = max(1, groupLimit)
    }

    /// Counts in a failed item the source no longer selects.
    public mutating func addDeselected(_ item: StoredItem) {
        if item.record.status == .failed { deselected += 1 }
    }

    /// The category of an item's last failure: its newest evidence's, else the one recorded on the
    /// item, else told from its last error (an item that failed before categories were kept).
    static func category(of item: StoredItem) -> FailureCategory {
        item.failures.last?.category ?? item.record.lastCategory
            ?? FailureClassifier.category(of: item.failures.last?.error ?? item.record.lastError ?? "")
    }

    /// Counts one failed item in: its last failure (the newest evidence, else the item's last
    /// error) decides its category, stage and message.
    public mutating func add(_ item: StoredItem) {
        let record = item.record
        guard record.status == .failed else { return }
        let last = item.failures.last
        let error = last?.error ?? record.lastError ?? ""
        let category = Self.category(of: item)
        let stage = last?.stage ?? record.stage
        let firstRun = item.failures.compactMap(\.run).min()
        failed += 1
        if record.isPersistentFailure { persistent += 1 }
        var keys: [(FailureGroup.Kind, String?)] = [(.category, nil), (.folder, Self.folder(of: record.path)), (.message, FailureMessage.normalized(error))]
        // A network failure of a .jpg says nothing of .jpg files.
        if FailureAdvice.kindMatters.contains(category) { keys.append((.extension, Self.fileExtension(of: record.path))) }
        for (kind, key) in keys {
            let groupKey = GroupKey(category: category, key: key)
            var group = groups[kind]?[groupKey]
            if group == nil {
                guard kind == .category || (groups[kind]?.count ?? 0) < groupLimit else {
                    ungrouped[kind, default: 0] += 1
                    continue
                }
                seen[kind, default: [:]][groupKey] = seen[kind]?.count ?? 0
                group = FailureGroup(kind: kind, category: category, key: key, count: 0, persistent: 0, examples: [], stage: stage, firstRun: nil)
            }
            group!.count += 1
            if record.isPersistentFailure { group!.persistent += 1 }
            if group!.examples.count < FailureGroup.exampleLimit { group!.examples.append(record.path) }
            if let firstRun { group!.firstRun = min(group!.firstRun ?? firstRun, firstRun) }
            groups[kind, default: [:]][groupKey] = group
        }
    }

    /// The groups of `kind`, largest first (ties in the order first seen); a narrower group of one
    /// item says nothing a category's group does not, so folder, extension and message groups
    /// need at least `minimumCount` items.
    public func groups(_ kind: FailureGroup.Kind, limit: Int = .max, minimumCount: Int = 2) -> [FailureGroup] {
        let order = seen[kind] ?? [:]
        let all = (groups[kind] ?? [:]).filter { kind == .category || $0.value.count >= minimumCount }
        return all.sorted { ($1.value.count, order[$0.key] ?? 0) < ($0.value.count, order[$1.key] ?? 0) }.prefix(max(0, limit)).map(\.value)
    }

    /// The folder an item is in (`/` for the top).
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// The extension of an item's name, lower case, without the dot; empty when it has none.
    static func fileExtension(of path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return String(name[name.index(after: dot)...]).lowercased()
    }
}
