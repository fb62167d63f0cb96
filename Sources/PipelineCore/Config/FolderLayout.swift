import Foundation

/// The places a pipeline reads from and writes to — the source's folder, the work directory, a
/// destination folder, the state file — must be apart. Overlapping, cleanup deletes backups
/// (work directory = destination) or the sources themselves (all three the same), and a listing
/// picks up the pipeline's own files. Checked after symbolic links are resolved.
public enum FolderLayout {
    /// What a folder is to the pipeline; folders of the same role may coincide (the source's and
    /// the fetch stage's root).
    public enum Role: String, Sendable {
        case source = "source folder"
        case work = "work directory"
        case destination = "destination folder"
        case state = "state file"
    }

    struct Place {
        var role: Role
        var name: String
        var path: String
        var location: SourceLocation
    }

    /// Throws a configuration error at the later of two places that overlap.
    public static func check(_ pipeline: PipelineFile, catalog: any StageCatalog) throws {
        let fileStart = SourceLocation(file: pipeline.path, line: 1, column: 1)
        var places = [
            Place(role: .work, name: "workdir", path: resolved(pipeline.workdir), location: pipeline.keyLocations["workdir"] ?? fileStart),
        ]
        if case .file(let statePath) = pipeline.state {
            places.append(Place(role: .state, name: "state", path: resolved(statePath), location: pipeline.keyLocations["state"] ?? fileStart))
        }
        let base = (pipeline.path as NSString).deletingLastPathComponent
        func add(_ reference: StageReference, _ parameters: [String: JSONValue], stage: String, location: SourceLocation) {
            guard case .builtin(let name) = reference, let descriptor = catalog.descriptor(named: name) else { return }
            for parameter in descriptor.parameters {
                guard let role = parameter.folder, let value = parameters[parameter.name]?.stringValue, !value.isEmpty else { continue }
                places.append(Place(role: role, name: "stage '\(stage)' \(parameter.name)",
                                    path: resolved(PathResolver.absolute(value, relativeTo: base)), location: location))
            }
        }
        add(pipeline.source.reference, pipeline.source.parameters, stage: "source", location: pipeline.source.location)
        for stage in pipeline.stages { add(stage.reference, stage.parameters, stage: stage.name, location: stage.location) }

        for (index, later) in places.enumerated() {
            for earlier in places[..<index] where earlier.role != later.role {
                guard let relation = relation(of: later.path, to: earlier.path) else { continue }
                throw later.location.error("""
                    the \(later.role.rawValue) (\(later.name): \(later.path)) \(relation) the \(earlier.role.rawValue) \
                    (\(earlier.name): \(earlier.path)): \(consequence(later.role, earlier.role)). Put them in folders apart from one another
                    """)
            }
        }
    }

    /// "is", "is inside" or "contains", or nil when apart.
    static func relation(of path: String, to other: String) -> String? {
        if path == other { return "is" }
        if path.hasPrefix(other.hasSuffix("/") ? other : other + "/") { return "is inside" }
        if other.hasPrefix(path.hasSuffix("/") ? path : path + "/") { return "contains" }
        return nil
    }

    static func consequence(_ one: Role, _ other: Role) -> String {
        switch Set([one, other]) {
        case [.work, .destination]: return "cleanup would delete what was backed up"
        case [.work, .source]: return "cleanup would delete source files, and the listing would pick up work files"
        case [.source, .destination]: return "every run would list its own backups as new files"
        default: return "the pipeline would read or delete its own files"
        }
    }

    /// `path` with symbolic links resolved as far as it exists (the rest appended as written).
    static func resolved(_ path: String) -> String {
        var existing = (path as NSString).standardizingPath
        var rest: [String] = []
        while !FileManager.default.fileExists(atPath: existing), existing != "/", !existing.isEmpty {
            rest.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
        }
        let real = realpath(existing, nil).map { pointer -> String in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? existing
        return rest.reduce(real) { ($0 as NSString).appendingPathComponent($1) }
    }
}
