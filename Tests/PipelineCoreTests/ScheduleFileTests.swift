import BuiltinStages
import Foundation
import Testing
@testable import PipelineCore

/// The `schedule:` key of a pipeline file: read whole, and every mistake named at its place.
@Suite("The schedule in a pipeline file")
struct ScheduleFileTests {
    static func file(_ schedule: String) -> String {
        """
        version: 1
        state: test.state
        source:
          uses: local-list
          with: { root: /data/photos }
        stages:
          - name: fetch
            uses: local-fetch
        schedule:
        \(schedule.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
        """
    }

    func load(_ schedule: String) throws -> PipelineFile {
        try PipelineFileLoader(environment: [:], catalog: BuiltinStageCatalog(), lenient: true)
            .parse(Self.file(schedule), path: "/pipelines/transfer.yml", displayName: "transfer.yml")
    }

    func message(_ schedule: String) -> String {
        do {
            _ = try load(schedule)
            return "no error"
        } catch let error as PipelineError {
            #expect(error.exitStatus == .configuration)
            return error.description
        } catch {
            return "\(error)"
        }
    }

    @Test func theIssueExampleIsRead() throws {
        let pipeline = try load("""
            order: smallest-first
            priority:
              - match: ["**/*.jpg", "**/*.heic"]
              - larger_than: 1GB
            windows:
              - match: ["**/*.mp4", "**/*.mov"]
                larger_than: 1GB
                between: "01:00-06:00"
                time_zone: Europe/Berlin
            """)
        let schedule = pipeline.schedule
        #expect(schedule.order == .smallestFirst)
        #expect(schedule.priority.count == 2 && schedule.priority[1].largerThan == 1_000_000_000)
        #expect(schedule.windows.count == 1)
        #expect(schedule.windows[0].window.description == "01:00–06:00 Europe/Berlin")
        #expect(schedule.classify(path: "/v/big.MOV", size: 2_000_000_000) == ScheduleClass(rank: 1, window: 1))
        #expect(schedule.classify(path: "/p/a.jpg", size: 5) == ScheduleClass(rank: 0, window: 0))
        #expect(schedule.classify(path: "/v/small.mp4", size: 5) == ScheduleClass(rank: 2, window: 0))
    }

    @Test func withoutTheKeyItemsGoInListingOrderAtAnyTime() throws {
        let pipeline = try PipelineFileLoader(environment: [:], catalog: BuiltinStageCatalog(), lenient: true)
            .parse(Self.file("").replacingOccurrences(of: "schedule:\n  ", with: ""), path: "/p/t.yml", displayName: "t.yml")
        #expect(pipeline.schedule.order == .listed && pipeline.schedule.classifiesNothing)
    }

    @Test func aWindowDefaultsToUTC() throws {
        let schedule = try load("windows:\n  - match: [\"*.mp4\"]\n    between: \"22:00-06:00\"").schedule
        #expect(schedule.windows[0].window.zoneName == "UTC" && schedule.windows[0].window.timeZone.secondsFromGMT() == 0)
    }

    @Test func mistakesAreNamedAtTheirPlaceWithTheNearestValidName() {
        // Line 10 is the first line under `schedule:`.
        #expect(message("order: smallest-frist") == "transfer.yml:10:10: unknown order 'smallest-frist' (did you mean 'smallest-first'?)")
        #expect(message("ordr: listed").hasPrefix("transfer.yml:10:3: unknown key 'ordr' (did you mean 'order'?) in 'schedule'"))
        #expect(message("windows:\n  - match: [\"*.mp4\"]\n    betwen: \"01:00-06:00\"").hasPrefix("transfer.yml:12:7: unknown key 'betwen' (did you mean 'between'?)"))
        #expect(message("windows:\n  - match: [\"*.mp4\"]").contains("is missing the required key 'between'"))
        #expect(message("windows:\n  - match: [\"*.mp4\"]\n    between: \"01:00-06:00\"\n    time_zone: Europe/Berln")
            .hasPrefix("transfer.yml:13:18: unknown time zone 'Europe/Berln' (did you mean 'Europe/Berlin'?)"))
        #expect(message("windows:\n  - match: [\"*.mp4\"]\n    between: \"06:00-06:00\"").contains("'between' must be two different times of day"))
        #expect(message("windows:\n  - match: [\"*.mp4\"]\n    between: \"1am-6am\"").contains("got '1am-6am'"))
        #expect(message("priority:\n  - {}").contains("a 'priority' rule needs 'match', 'larger_than' or 'smaller_than'"))
        #expect(message("priority: []").contains("'priority' must be a non-empty list"))
        #expect(message("priority:\n  - larger_than: 2GB\n    smaller_than: 1GB").contains("can match no item"))
        #expect(message("priority:\n  - larger_than: lots").contains("'larger_than' must be a size"))
        #expect(message("priority:\n  - match: \"[abc\"").contains("is not a valid pattern"))
        #expect(message("priority:\n  - matches: [\"*.jpg\"]").contains("unknown key 'matches' (did you mean 'match'?)"))
        #expect(message("windows: nightly").contains("'windows' must be a non-empty list"))
    }

    @Test func theNumberOfRulesIsBounded() {
        let many = (0...ScheduleClass.ruleLimit).map { "  - match: [\"*.x\($0)\"]" }.joined(separator: "\n")
        #expect(message("priority:\n" + many).contains("has 101 rules; at most 100 are allowed"))
    }
}
