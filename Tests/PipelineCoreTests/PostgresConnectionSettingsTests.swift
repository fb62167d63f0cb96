import Testing
@testable import PipelineCore

@Suite("PostgreSQL connection settings: TLS off loopback, timeouts, no password shown")
struct PostgresConnectionSettingsTests {
    let none: [String: String] = [:]

    func value(_ keyword: String, _ settings: PostgresConnectionSettings) -> String? {
        settings.parameters.last { $0.keyword == keyword }?.value
    }

    @Test func requiresTLSOffLoopbackWhenTheURLSaysNothing() throws {
        for url in ["postgres://runner@db.example.com/photos", "host=203.0.113.9 dbname=photos",
                    "postgresql://runner@localhost,db.example.com/photos"] {
            let settings = try PostgresConnectionSettings(url: url, environment: none)
            #expect(!settings.isLocal, "\(url)")
            #expect(value("sslmode", settings) == "require", "\(url)")
        }
    }

    @Test func leavesTLSToAnExplicitSSLMode() throws {
        let inURL = try PostgresConnectionSettings(url: "postgres://runner@db.example.com/photos?sslmode=verify-full", environment: none)
        #expect(value("sslmode", inURL) == "verify-full")
        #expect(inURL.parameters.filter { $0.keyword == "sslmode" }.count == 1)
        let disabled = try PostgresConnectionSettings(url: "postgres://runner@db.example.com/photos", environment: ["PGSSLMODE": "disable"])
        #expect(value("sslmode", disabled) == nil, "libpq reads PGSSLMODE itself")
    }

    @Test func unixSocketsAndLoopbackMayGoWithoutTLS() throws {
        for url in ["postgres://runner@/photos?host=/tmp/pg/socket", "host=/var/run/postgresql dbname=photos",
                    "postgres://runner@localhost:5432/photos", "postgres://runner@127.0.0.1/photos",
                    "postgres://runner@[::1]/photos", "dbname=photos"] {
            let settings = try PostgresConnectionSettings(url: url, environment: none)
            #expect(settings.isLocal, "\(url)")
            #expect(value("sslmode", settings) == nil, "\(url)")
        }
        let remoteByEnvironment = try PostgresConnectionSettings(url: "dbname=photos", environment: ["PGHOST": "db.example.com"])
        #expect(value("sslmode", remoteByEnvironment) == "require")
    }

    @Test func theTargetNeverShowsThePassword() throws {
        let inURL = try PostgresConnectionSettings(url: "postgres://runner:hunter2-secret@db.example.com:6543/photos", environment: none)
        #expect(inURL.target == "postgres://runner@db.example.com:6543/photos")
        #expect(inURL.password == "hunter2-secret")
        let apart = try PostgresConnectionSettings(url: "postgres://runner:old-password@/photos?host=/tmp/s",
                                                   password: "given-apart-secret", environment: none)
        #expect(apart.password == "given-apart-secret")
        #expect(apart.parameters.filter { $0.keyword == "password" }.map(\.value) == ["given-apart-secret"])
        #expect(!apart.target.contains("secret") && !apart.target.contains("old-password"))
    }

    @Test func anUnparsableURLIsRefusedWithoutThePassword() {
        for url in ["postgres://runner:hunter2-secret@db.example.com/photos?no_such_option=1",
                    "host=db.example.com password=hunter2-secret no_such_option=1",
                    "postgres://runner:hunter2-secret@db.example.com/photos?sslmode"] {
            do {
                _ = try PostgresConnectionSettings(url: url, environment: none)
                Issue.record("accepted \(url)")
            } catch {
                #expect(error.kind == .configuration)
                #expect(!"\(error)".contains("hunter2"), "\(error)")
                #expect("\(error)".contains("hint:"))
            }
        }
    }

    @Test func timeoutsOutOfRangeAreRefused() {
        #expect(throws: PostgresError.self) { _ = try PostgresConnectionSettings(url: "dbname=x", connectTimeout: 0, environment: none) }
        #expect(throws: PostgresError.self) { _ = try PostgresConnectionSettings(url: "dbname=x", connectTimeout: 3601, environment: none) }
        #expect(throws: PostgresError.self) { _ = try PostgresConnectionSettings(url: "dbname=x connect_timeout=soon", environment: none) }
        #expect(throws: PostgresError.self) { _ = try PostgresConnectionSettings(url: "dbname=x connect_timeout=0", environment: none) }
        #expect(throws: PostgresError.self) {
            _ = try PostgresConnectionSettings(url: "dbname=x", statementTimeout: TimeSpan(milliseconds: 0), environment: none)
        }
        #expect(throws: PostgresError.self) {
            _ = try PostgresConnectionSettings(url: "dbname=x", statementTimeout: TimeSpan(milliseconds: 86_400_001), environment: none)
        }
    }

    @Test func theConnectTimeoutDefaultsAndTheURLsOwnWins() throws {
        #expect(value("connect_timeout", try PostgresConnectionSettings(url: "dbname=x", environment: none)) == "10")
        #expect(value("connect_timeout", try PostgresConnectionSettings(url: "dbname=x", connectTimeout: 3, environment: none)) == "3")
        #expect(value("connect_timeout", try PostgresConnectionSettings(url: "dbname=x connect_timeout=7", environment: none)) == "7")
    }
}
