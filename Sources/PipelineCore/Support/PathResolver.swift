import Foundation

/// Makes user-written paths absolute and tidy.
public enum PathResolver {
    /// `path` with `~` expanded, made absolute against `base` when relative, standardised.
    public static func absolute(_ path: String, relativeTo base: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        let joined = expanded.hasPrefix("/") ? expanded : (base as NSString).appendingPathComponent(expanded)
        return (joined as NSString).standardizingPath
    }

    public static var currentDirectory: String { FileManager.default.currentDirectoryPath }
}
