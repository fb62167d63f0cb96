/// Makes the stage instances a pipeline file describes: built-in ones from the catalog, external
/// ones as `ExternalStage`.
public struct StageFactory: Sendable {
    public var catalog: any StageCatalog

    public init(catalog: any StageCatalog) { self.catalog = catalog }

    public func source(for pipeline: PipelineFile) throws -> any SourceStage {
        let definition = pipeline.source
        switch definition.reference {
        case .executable(let path):
            return ExternalStage(name: "source", executable: path, parameters: definition.parameters,
                                 stopGrace: pipeline.stopGrace, redactor: SecretRedactor(secrets: pipeline.secrets))
        case .builtin(let name):
            guard case .source(let make)? = catalog.descriptor(named: name)?.factory else {
                throw definition.location.error("'\(name)' is not a source stage")
            }
            return try make(setup(for: "source", parameters: definition.parameters, location: definition.location, in: pipeline))
        }
    }

    public func stage(_ definition: StageDefinition, in pipeline: PipelineFile) throws -> any Stage {
        switch definition.reference {
        case .executable(let path):
            return ExternalStage(name: definition.name, executable: path, parameters: definition.parameters,
                                 sourceParameters: pipeline.source.parameters, stopGrace: pipeline.stopGrace,
                                 redactor: SecretRedactor(secrets: pipeline.secrets),
                                 irreversible: definition.irreversible ?? false)
        case .builtin(let name):
            guard case .item(let make)? = catalog.descriptor(named: name)?.factory else {
                throw definition.location.error("'\(name)' is not an item stage")
            }
            return try make(setup(for: definition.name, parameters: definition.parameters, location: definition.location, in: pipeline))
        }
    }

    /// Builds every stage once, so bad parameter values are reported before anything runs.
    public func checkAll(in pipeline: PipelineFile) throws {
        _ = try source(for: pipeline)
        for definition in pipeline.stages { _ = try stage(definition, in: pipeline) }
    }

    private func setup(for name: String, parameters: [String: JSONValue], location: SourceLocation, in pipeline: PipelineFile) -> StageSetup {
        StageSetup(stageName: name, parameters: parameters, workdir: pipeline.workdir,
                   baseDirectory: (pipeline.path as NSString).deletingLastPathComponent, location: location,
                   sourceParameters: pipeline.source.parameters, pipelineName: pipeline.name, fresh: pipeline.fresh)
    }
}

import Foundation
