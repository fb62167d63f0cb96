import ArgumentParser
import Foundation
import PipelineCore

@main
struct PipelineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Moves large media libraries through declarative, resumable stages (list → fetch → verify → upload → cleanup).",
        discussion: ExitStatus.helpText,
        version: BuildVersion.text,
        subcommands: [
            RunCommand.self, ValidateCommand.self, StatusCommand.self, StateCommand.self,
            RetryCommand.self, ForgetCommand.self, FailuresCommand.self, StagesCommand.self, ChecksumCommand.self, AuthCommand.self, PlanCommand.self,
            ReportCommand.self,
        ]
    )
}
