import Testing
@testable import PipelineCore

/// Every number from outside is range-checked: out of range is an error, never a trap.
@Suite("Numbers from outside never trap")
struct OutsideNumberTests {
    @Test(arguments: ["99999999999999999d", "1e30s", "3651d", "9223372036854775807ms99999d"])
    func anAbsurdDurationIsRefused(text: String) {
        #expect(TimeSpan(parsing: text) == nil)
    }

    @Test func theLongestDurationIsTenYears() {
        #expect(TimeSpan(parsing: "3650d") == TimeSpan.longest)
        #expect(TimeSpan(seconds: 1e300) == TimeSpan.longest)
        #expect(TimeSpan(seconds: -5) == TimeSpan(milliseconds: 0))
        #expect(TimeSpan(seconds: .nan) == TimeSpan.longest)
    }

    @Test func jsonNumbersBeyondInt64AreNotIntegers() throws {
        #expect(try JSONValue.parse("1e19").int64Value == nil)
        #expect(try JSONValue.parse("-1e19").int64Value == nil)
        #expect(try JSONValue.parse("9223372036854775807").int64Value == nil, "2^63 as a Double is out of range")
        #expect(try JSONValue.parse("9007199254740992").int64Value == 9_007_199_254_740_992)
        #expect(try JSONValue.parse("1e19").stringValue == "1e+19")
    }

    @Test func aStageMessageWithAnAbsurdNumberIsMalformedNotATrap() {
        if case .malformed = ExternalStageMessage.parse(#"{"type":"progress","bytes":1e19}"#) {} else { Issue.record("progress 1e19 accepted") }
        if case .malformed = ExternalStageMessage.parse(#"{"type":"progress","bytes":5,"total":-1}"#) {} else { Issue.record("negative total accepted") }
        if case .malformed = ExternalStageMessage.parse(#"{"path":"/a","size":1e19}"#) {} else { Issue.record("size 1e19 accepted") }
        if case .progress(5, 10) = ExternalStageMessage.parse(#"{"type":"progress","bytes":5,"total":10}"#) {} else { Issue.record("a good progress refused") }
    }

    @Test func aBackoffThatWouldOverflowWaitsItsMaximum() {
        var random = SystemRandomNumberGenerator()
        let policy = RetryPolicy(attempts: 40, backoff: .exponential(initial: TimeSpan.longest, maximum: TimeSpan.longest, jitter: true))
        for attempt in [1, 20, 35, 39] {
            let wait = policy.delay(afterAttempt: attempt, using: &random)
            #expect(wait.milliseconds >= 0 && wait <= TimeSpan.longest)
        }
    }
}
