// swift-tools-version: 6.0
import PackageDescription

// Linux only: the code reads /proc, preallocates with fallocate and installs signal handlers through
// glibc's sigaction; Sources/PipelineCore/Support/LinuxOnly.swift stops a build elsewhere at once.

let package = Package(
    name: "pipeline",
    products: [
        .executable(name: "pipeline", targets: ["pipeline"]),
        .library(name: "PipelineCore", targets: ["PipelineCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // System libraries from Debian's -dev packages; the shims only expose headers.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl"),
        .systemLibrary(name: "CFileSystem", path: "Sources/CFileSystem"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CArchive", path: "Sources/CArchive"),
        .systemLibrary(name: "CPostgreSQL", path: "Sources/CPostgreSQL", pkgConfig: "libpq"),

        // The engine: pipeline files, state, stages, orchestration, reporting. Knows no protocol.
        .target(
            name: "PipelineCore",
            dependencies: ["CSQLite", "CPostgreSQL", .product(name: "Yams", package: "Yams")]
        ),
        // A safe Swift face over libcurl: FTP/FTPS/SFTP listing and resumable download.
        .target(
            name: "Transfer",
            dependencies: ["CCurl", "CFileSystem"]
        ),
        // The built-in stages (`uses:`), one file per stage.
        .target(
            name: "BuiltinStages",
            dependencies: ["PipelineCore", "Transfer", "COpenSSL", "CZlib", "CArchive"]
        ),
        // The command line: argument parsing only.
        .executableTarget(
            name: "pipeline",
            dependencies: [
                "PipelineCore", "BuiltinStages",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            plugins: ["VersionStampPlugin"]
        ),
        // `pipeline --version` from the git tag or commit at build time (see Sources/VersionStamp).
        .executableTarget(name: "VersionStamp", dependencies: ["CZlib"]),
        .plugin(name: "VersionStampPlugin", capability: .buildTool(), dependencies: ["VersionStamp"]),
        // Fuzz targets (Scripts/fuzz builds them with libFuzzer); built plainly they replay findings.
        .executableTarget(name: "FuzzPipelineFile", dependencies: ["PipelineCore", "BuiltinStages"]),
        .executableTarget(name: "FuzzListing", dependencies: ["Transfer"]),
        // Measures state and orchestration cost per item (Scripts/bench-state).
        .executableTarget(
            name: "StateBenchmark",
            dependencies: ["PipelineCore"]
        ),
        // A private PostgreSQL cluster for the tests of both test targets (Scripts/postgres-server).
        .target(name: "PostgresTestServer", path: "Tests/PostgresTestServer"),
        .testTarget(
            name: "PipelineCoreTests",
            dependencies: ["PipelineCore", "BuiltinStages", "Transfer", "PostgresTestServer", .product(name: "Yams", package: "Yams")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["PipelineCore", "PostgresTestServer"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
