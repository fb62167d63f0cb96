import Testing
@testable import PipelineCore

/// When `pipeline state push` may write into a target, and when it must refuse.
@Suite("A push goes into an empty state, or replaces one of the same pipeline")
struct StatePushDecisionTests {
    func target(empty: Bool, owner: String? = nil, leases: Int = 0) -> StatePushDecision.Target {
        .init(holdsNothing: empty, owner: owner, liveLeases: leases, description: "postgres://u@h/db")
    }

    @Test func anEmptyTargetIsFilledWithoutReplacing() throws {
        #expect(try StatePushDecision.decide(target: target(empty: true), sourceOwner: "a", replace: false).replaces == false)
        #expect(try StatePushDecision.decide(target: target(empty: true), sourceOwner: nil, replace: true).replaces == false)
    }

    @Test func aTargetHoldingAStateIsRefusedWithoutReplace() {
        let error = #expect(throws: PipelineError.self) { try StatePushDecision.decide(target: target(empty: false, owner: "a"), sourceOwner: "a", replace: false) }
        #expect(error?.message.contains("already holds a state of the pipeline 'a'") == true)
        #expect(error?.hint?.contains("--replace") == true)
    }

    @Test func replaceTakesAStateOfTheSamePipelineOnly() throws {
        #expect(try StatePushDecision.decide(target: target(empty: false, owner: "a"), sourceOwner: "a", replace: true).replaces)
        #expect(throws: PipelineError.self) { try StatePushDecision.decide(target: target(empty: false, owner: "b"), sourceOwner: "a", replace: true) }
        #expect(throws: PipelineError.self) { try StatePushDecision.decide(target: target(empty: false, owner: nil), sourceOwner: "a", replace: true) }
        #expect(throws: PipelineError.self) { try StatePushDecision.decide(target: target(empty: false, owner: "a"), sourceOwner: nil, replace: true) }
    }

    @Test func aTargetRunnersWorkOnIsAlwaysRefused() {
        let error = #expect(throws: PipelineError.self) { try StatePushDecision.decide(target: target(empty: false, owner: "a", leases: 2), sourceOwner: "a", replace: true) }
        #expect(error?.message.contains("2 items under lease") == true)
    }
}
