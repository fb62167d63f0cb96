import CPostgreSQL
import Foundation

/// What `PostgresConnection` connects with: the URL or conninfo parsed into libpq's keywords, the
/// TLS rule applied, the timeouts range-checked; and how to name the target without its password.
///
/// Accepts `postgres://user[:password]@host[:port]/db?sslmode=…` and `key=value` conninfo, with a
/// unix socket folder as `host=/path` (or `?host=/path` in a URL). TLS: off loopback, without an
/// explicit `sslmode` (in the URL or `PGSSLMODE`), `sslmode=require` is added, so the password never
/// crosses a network in clear; loopback addresses and unix sockets may go without.
struct PostgresConnectionSettings: Sendable {
    /// Keyword/value pairs for `PQconnectdbParams`, in order (no URL expansion is asked for).
    private(set) var parameters: [(keyword: String, value: String)]
    /// The password (from the URL or given apart), for masking messages; never printed.
    let password: String?
    /// `postgres://user@host:port/db`: the target as errors and logs may show it.
    let target: String
    /// Whether every host is a unix socket folder or a loopback address.
    let isLocal: Bool
    /// Cancels a statement that runs longer, when set (`statement_timeout` on the session).
    let statementTimeout: TimeSpan?

    static let connectTimeoutRange = 1...3600
    static let statementTimeoutRange = TimeSpan(milliseconds: 1)...TimeSpan(milliseconds: 86_400_000)

    /// - Parameters:
    ///   - url: a `postgres://`/`postgresql://` URL or a `key=value` conninfo string.
    ///   - password: overrides any password in `url` (read from an environment variable by the caller).
    ///   - connectTimeout: seconds to reach the server and log in, 1…3600; the URL's own wins if given.
    ///   - statementTimeout: 1 ms…24 h, or nil for none.
    ///   - environment: libpq's `PGHOST`/`PGHOSTADDR`/`PGSSLMODE` fill what the URL leaves out.
    init(url: String, password: String? = nil, connectTimeout: Int = 10, statementTimeout: TimeSpan? = nil,
         environment: [String: String] = ProcessInfo.processInfo.environment) throws(PostgresError) {
        let parsed = try Self.parse(url)
        var parameters = parsed.filter { $0.keyword != "password" || password == nil }
        if let password { parameters.append(("password", password)) }
        let explicitPassword = parameters.last { $0.keyword == "password" }?.value
        self.password = explicitPassword
        let redactor = SecretRedactor(secrets: explicitPassword.map { [$0] } ?? [])
        func value(_ keyword: String) -> String? { parameters.last { $0.keyword == keyword }?.value }

        guard Self.connectTimeoutRange.contains(connectTimeout) else {
            throw PostgresError(.configuration, "a connect timeout of \(connectTimeout) s is out of range",
                                hint: "give \(Self.connectTimeoutRange.lowerBound)…\(Self.connectTimeoutRange.upperBound) seconds")
        }
        if let given = value("connect_timeout") {
            guard let seconds = Int(given), Self.connectTimeoutRange.contains(seconds) else {
                throw PostgresError(.configuration, "connect_timeout=\(redactor.redact(given)) in the state URL is not 1…3600 seconds",
                                    hint: "write connect_timeout as whole seconds, e.g. connect_timeout=10")
            }
        } else {
            parameters.append(("connect_timeout", String(connectTimeout)))
        }
        if let statementTimeout, !Self.statementTimeoutRange.contains(statementTimeout) {
            throw PostgresError(.configuration, "a statement timeout of \(statementTimeout) is out of range",
                                hint: "give 1ms…24h")
        }
        self.statementTimeout = statementTimeout
        if value("application_name") == nil { parameters.append(("application_name", "pipeline")) }

        let hosts = (value("host") ?? environment["PGHOST"] ?? "").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let addresses = (value("hostaddr") ?? environment["PGHOSTADDR"] ?? "").split(separator: ",").map(String.init)
        isLocal = hosts.allSatisfy(Self.isLocal) && addresses.allSatisfy(Self.isLocal)
        let sslMode = value("sslmode") ?? environment["PGSSLMODE"]
        if sslMode == nil, !isLocal { parameters.append(("sslmode", "require")) }

        let user = value("user") ?? environment["PGUSER"]
        let port = value("port").map { ":\($0)" } ?? ""
        let host = hosts == [""] ? "" : hosts.joined(separator: ",")
        let database = value("dbname") ?? ""
        target = redactor.redact("postgres://\(user.map { $0 + "@" } ?? "")\(host)\(port)/\(database)")
        self.parameters = parameters
    }

    /// A unix socket folder (or libpq's default socket, an empty host) or a loopback address.
    static func isLocal(_ host: String) -> Bool {
        let host = host.trimmingCharacters(in: .whitespaces)
        if host.isEmpty || host.hasPrefix("/") || host.hasPrefix("@") { return true }
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// libpq's own parser (`PQconninfoParse`): the keywords it knows, in its order, set ones only.
    /// Its message on failure is masked of anything that may be the password.
    private static func parse(_ url: String) throws(PostgresError) -> [(keyword: String, value: String)] {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(url, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "out of memory"
            if let errorMessage { PQfreemem(errorMessage) }
            let redactor = SecretRedactor(secrets: passwordCandidates(in: url))
            throw PostgresError(.configuration,
                                "the state URL is not a PostgreSQL URL or conninfo: \(redactor.redact(message.trimmingCharacters(in: .whitespacesAndNewlines)))",
                                hint: "write it as postgres://user@host:5432/database?sslmode=require (the password through an environment variable)")
        }
        defer { PQconninfoFree(options) }
        var parameters: [(keyword: String, value: String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { parameters.append((String(cString: keyword), String(cString: value))) }
            option += 1
        }
        return parameters
    }

    /// What may be a password in text libpq could not parse: a URL's user info, a `password=` value.
    static func passwordCandidates(in url: String) -> [String] {
        var candidates: [String] = []
        if let scheme = url.range(of: "://") {
            let rest = url[scheme.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            if let at = authority.lastIndex(of: "@") {
                let userInfo = authority[..<at]
                candidates.append(String(userInfo))
                if let colon = userInfo.firstIndex(of: ":") { candidates.append(String(userInfo[userInfo.index(after: colon)...])) }
            }
        }
        for part in url.split(whereSeparator: { $0 == " " || $0 == "&" || $0 == "?" }) where part.hasPrefix("password=") {
            candidates.append(String(part.dropFirst("password=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "'")))
        }
        return candidates.filter { !$0.isEmpty }
    }
}
