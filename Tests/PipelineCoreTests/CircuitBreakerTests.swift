import Testing
@testable import PipelineCore

@Suite("The circuit breaker tells an outage from failing items")
struct CircuitBreakerTests {
    @Test func threeDifferentItemsFailingInARowOpenTheCircuit() {
        var breaker = CircuitBreaker(items: 10)
        #expect(breaker.failedToReach(stage: "upload", item: "/a", error: "refused") == nil)
        #expect(breaker.failedToReach(stage: "upload", item: "/a", error: "refused") == nil, "one item's retries are one item")
        #expect(breaker.failedToReach(stage: "upload", item: "/b", error: "refused") == nil)
        let trip = breaker.failedToReach(stage: "upload", item: "/c", error: "503")
        #expect(trip?.items == ["/a", "/b", "/c"] && trip?.error == "503" && trip?.stage == "upload")
    }

    @Test func anAnswerInBetweenMeansTheServiceIsUp() {
        var breaker = CircuitBreaker(items: 10)
        _ = breaker.failedToReach(stage: "upload", item: "/a", error: "x")
        _ = breaker.failedToReach(stage: "upload", item: "/b", error: "x")
        breaker.answered(stage: "upload")
        #expect(breaker.failedToReach(stage: "upload", item: "/c", error: "x") == nil)
        #expect(breaker.failedToReach(stage: "fetch", item: "/d", error: "x") == nil, "streaks are per stage")
    }

    @Test func aRunOfOneItemNeverTellsAnOutageAndTwoItemsNeedBoth() {
        var single = CircuitBreaker(items: 1)
        for _ in 0..<5 { #expect(single.failedToReach(stage: "s", item: "/a", error: "x") == nil) }
        var pair = CircuitBreaker(items: 2)
        #expect(pair.failedToReach(stage: "s", item: "/a", error: "x") == nil)
        #expect(pair.failedToReach(stage: "s", item: "/b", error: "x") != nil)
    }
}
