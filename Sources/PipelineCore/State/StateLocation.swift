import Foundation

/// Where a pipeline's state lives: a SQLite file (the default, for one runner), or a PostgreSQL
/// database that several runners share (`postgres://user@host/db`).
public enum StateLocation: Sendable, Equatable, CustomStringConvertible {
    /// An absolute path.
    case file(String)
    /// A `postgres://` or `postgresql://` URL (it may hold a password: print `description`).
    case database(url: String)

    /// A database URL as given, or a path made absolute against `base`.
    public init(_ text: String, relativeTo base: String) {
        self = Self.isDatabaseURL(text) ? .database(url: text) : .file(PathResolver.absolute(text, relativeTo: base))
    }

    public static func isDatabaseURL(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://")
    }

    /// What the location is stored as in `PipelineFile.statePath`.
    public var rawValue: String {
        switch self {
        case .file(let path): return path
        case .database(let url): return url
        }
    }

    /// The password a database URL holds, to be masked wherever text is shown.
    public var password: String? {
        guard case .database(let url) = self, let components = URLComponents(string: url) else { return nil }
        return components.percentEncodedPassword.map { $0.removingPercentEncoding ?? $0 }
    }

    /// The path, or the URL without its password: safe to show.
    public var description: String {
        switch self {
        case .file(let path): return path
        case .database(let url):
            guard var components = URLComponents(string: url) else { return "a PostgreSQL database (its URL could not be read)" }
            if components.password != nil { components.password = "…" }
            return components.string ?? "a PostgreSQL database"
        }
    }
}
