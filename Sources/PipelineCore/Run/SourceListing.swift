/// One listing of a pipeline's source outside a run (a dry run, a plan, a rebuild): the items the
/// pipeline takes, include and exclude applied, each path once. A listing that fails is an error
/// that names why, with the pipeline's secrets masked.
public enum SourceListing {
    public static func selected(_ pipeline: PipelineFile, catalog: any StageCatalog, stop: StopSignal = StopSignal(),
                                log: @escaping @Sendable (String) -> Void = { _ in }) async throws -> [SourceItem] {
        let source = try StageFactory(catalog: catalog).source(for: pipeline)
        do {
            let listed = try await source.list(ListContext(parameters: pipeline.source.parameters, workdir: pipeline.workdir, stop: stop,
                                                           selection: pipeline.source.selection, log: log))
            return pipeline.source.selection.select(listed)
        } catch let failure as StageFailure {
            throw PipelineError(.sourceUnavailable, "cannot list the source: \(SecretRedactor(secrets: pipeline.secrets).redact(failure.message))")
        }
    }
}
