/// The one fix `pipeline failures` suggests for a group: concrete, and copy-pasteable where it can be.
public enum FailureAdvice {
    /// What a group is made of: a category alone, or with the folder, extension or message its items share.
    public enum Scope: Sendable, Equatable {
        case category
        case folder(String)
        /// Lower case, without the dot (`mts`); empty for names without one.
        case fileExtension(String)
        case message(String)
    }

    /// The suggestion for failures of `category` in `scope`; `stage` is the stage they failed in
    /// (the last one seen), where the fix names a stage's setting.
    public static func suggestion(_ category: FailureCategory, _ scope: Scope, stage: String? = nil) -> String {
        let pattern = excludePattern(scope, category)
        let retry = "then `pipeline retry --all-failed`"
        let atStage = stage.map { " of stage '\($0)'" } ?? ""
        switch category {
        case .unsupportedType:
            return pattern.map { "convert them, or exclude them: add `\($0)` to the source's `exclude:`" }
                ?? "convert them, or exclude their kinds in the source's `exclude:` (the groups by extension name the patterns)"
        case .tooLarge:
            return "skip them: set the source's `max_size:` to the destination's limit"
                + (pattern.map { ", or add `\($0)` to the source's `exclude:`" } ?? "")
        case .remoteMissing:
            return "they are gone from the source (or changed while copied): `pipeline forget --missing` forgets them, "
                + "so a file put back is copied afresh (one item: `pipeline forget PATH`)"
        case .corruptSource:
            return "copy them again at the source (they are damaged there), \(retry)"
                + (pattern.map { "; or add `\($0)` to the source's `exclude:`" } ?? "")
        case .permission:
            if case .folder(let folder) = scope {
                return "fix the permission where \(folder) is written (the error names the path: the destination must be writable), \(retry)"
            }
            return "fix the permission on the folder the error names (source readable, destination and work directory writable), \(retry)"
        case .serverError, .network:
            return "transient (a flaky server or connection): `pipeline retry --all-failed`; if it keeps happening, raise `retry: { attempts: N }`\(atStage)"
        case .timeout:
            return "raise `timeout:`\(atStage) (or find why it hangs), \(retry)"
        case .authentication:
            return "renew the credentials: `pipeline auth google` for Google Photos, or check the user and secret the stage uses; \(retry)"
        case .quota:
            return "wait until the quota resets (Google Photos: midnight Pacific time), then run again; nothing needs retrying"
        case .diskFull:
            return "free space where the work directory is, or lower `disk_budget:`, \(retry)"
        case .tls:
            return "check the server's certificate (a private CA: `ca_file:`), \(retry)"
        case .configuration:
            return "check the pipeline file with `pipeline validate FILE` and fix the stage's parameters, \(retry)"
        case .stageCrashed:
            return "run the stage\(stage.map { " '\($0)'" } ?? "") by hand on one of them and read the last lines of its stderr (the log's `STAGE |` lines), \(retry)"
        case .other:
            return "read the messages (`pipeline status` shows each item's last error), fix the cause, \(retry)"
        }
    }

    /// The categories where the kind of file matters, so that grouping by extension tells something.
    public static let kindMatters: Set<FailureCategory> = [.unsupportedType, .tooLarge, .corruptSource]

    /// The `exclude:` pattern that leaves out the group's files, if the group has one (a whole
    /// kind of file is left out only where the kind is the cause: `unsupportedType`).
    static func excludePattern(_ scope: Scope, _ category: FailureCategory) -> String? {
        switch scope {
        case .fileExtension(let name) where !name.isEmpty && category == .unsupportedType: "**/*.\(name)"
        case .folder(let folder) where folder != "/": String(folder.drop { $0 == "/" }) + "/**"
        default: nil
        }
    }
}
