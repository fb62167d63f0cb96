import Foundation

/// Where the bearer token and a file's bytes may be sent: `https`, or plain `http` to a loopback
/// address (the emulator). A session URL — from Google's answer or read back from the state —
/// must also be on the API's own host: a state file is not trusted to name one.
enum TrustedEndpoint {
    struct Parts: Equatable {
        var scheme: String
        var host: String
        var port: Int?
    }

    static func parts(of url: String) -> Parts? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host?.lowercased(), !host.isEmpty, components.user == nil, components.password == nil else { return nil }
        return Parts(scheme: scheme, host: host, port: components.port)
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.") && bare.split(separator: ".").count == 4
    }

    /// Nil when `url` may carry credentials; otherwise why not.
    static func problem(with url: String) -> String? {
        guard let parts = parts(of: url) else { return "is not an absolute URL with a host (and no user name or password)" }
        switch parts.scheme {
        case "https": return nil
        case "http" where isLoopback(parts.host): return nil
        case "http": return "must be https (plain http only to a loopback address such as the emulator)"
        default: return "must be an https URL"
        }
    }

    /// Whether an upload session URL belongs to the API at `apiBase` (same scheme, host and port).
    static func isSession(_ url: String, on apiBase: String) -> Bool {
        guard problem(with: url) == nil, let session = parts(of: url), let api = parts(of: apiBase) else { return false }
        return session == api
    }
}
