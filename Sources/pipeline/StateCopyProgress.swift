import Foundation
import PipelineCore

/// What `state push` and `state pull` say about a copy.
enum StateCopyProgress {
    /// Tells standard error every 100,000 items, so a long copy shows it moves.
    static func printer() -> (Int) -> Void {
        var told = 0
        return { copied in
            guard copied >= told + 100_000 else { return }
            told = copied
            FileHandle.standardError.write(Data("copied \(copied) items…\n".utf8))
        }
    }

    static func describe(_ report: StateCopier.Report) -> String {
        "\(report.items) items, \(report.stageRecords) stage records, \(report.metadataEntries) metadata entries, \(report.counters) counters and \(report.runs) runs"
    }
}
