import PipelineCore

/// The stages `uses:` can name in this build.
public struct BuiltinStageCatalog: StageCatalog {
    public init() {}

    public let descriptors: [StageDescriptor] = [
        LocalListStage.descriptor,
        LocalFetchStage.descriptor,
        ChecksumStage.descriptor,
        LocalUploadStage.descriptor,
        DeleteLocalStage.descriptor,
        CurlListStage.descriptor,
        CurlFetchStage.descriptor,
        GooglePhotosStage.descriptor,
        ArchiveInspectStage.descriptor,
    ]
}
