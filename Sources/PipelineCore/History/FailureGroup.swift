/// Failed items that share a cause (their category) and, for the narrower groups, a folder, an
/// extension or a server message: what `pipeline failures` shows, with the fix it suggests.
public struct FailureGroup: Sendable, Equatable {
    /// How the group's items are gathered.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case category, folder, `extension`, message
    }

    public var kind: Kind
    public var category: FailureCategory
    /// The folder (`/2024/raw`), the extension (`mts`, empty for none), the normalised message
    /// (`FailureMessage`); nil for a category's group.
    public var key: String?
    public var count: Int
    /// Of `count`, the items that failed in every run that tried them, at least twice.
    public var persistent: Int
    /// The first few items' paths.
    public var examples: [String]
    /// The stage the group's items failed in (the first item's).
    public var stage: String?
    /// The run that first failed one of them (from the evidence kept), if known.
    public var firstRun: Int64?

    /// The one fix suggested (`FailureAdvice`).
    public var suggestion: String {
        let scope: FailureAdvice.Scope = switch kind {
        case .category: .category
        case .folder: .folder(key ?? "/")
        case .extension: .fileExtension(key ?? "")
        case .message: .message(key ?? "")
        }
        return FailureAdvice.suggestion(category, scope, stage: stage)
    }

    /// How many example paths a group keeps.
    public static let exampleLimit = 3
}
