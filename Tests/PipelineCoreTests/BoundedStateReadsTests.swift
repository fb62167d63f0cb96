import Foundation
import Testing
@testable import PipelineCore

/// The reads a run makes at its end without loading every item: the sizes of what is left, page by
/// page, and the first given-up items; alike on every driver.
@Suite("A state names what is left in bounded reads")
struct BoundedStateReadsTests {
    typealias Driver = StateStoreConformanceDriver

    /// Nine items: sizes 1…9; /1 /2 completed, /3 skipped, /4 in progress, /5 failed once,
    /// /6 failed twice (given up at 2), /7 /8 /9 pending.
    func mixedStore(_ driver: Driver) async throws -> any StateStore {
        let store = try driver.open(Driver.place())
        _ = try store.recordListing((1...9).map { SourceItem(path: "/\($0)", size: Int64($0)) })
        try await store.commit([.itemCompleted(path: "/1", stage: nil), .itemCompleted(path: "/2", stage: nil),
                                .itemSkipped(path: "/3", reason: "big"), .stageStarted(path: "/4", stage: "fetch", attempt: 1),
                                .stageStarted(path: "/5", stage: "fetch", attempt: 1), .stageStarted(path: "/6", stage: "fetch", attempt: 1)])
        try await store.commit([.itemFailed(path: "/5", stage: "fetch", error: "e"), .itemFailed(path: "/6", stage: "fetch", error: "e")])
        try await store.commit([.itemFailed(path: "/6", stage: "fetch", error: "e")])
        return store
    }

    @Test(arguments: Driver.all)
    func theSizesLeftComePageByPageEachOnce(driver: Driver) async throws {
        let store = try await mixedStore(driver)
        defer { try? store.close() }
        var sizes: [Int64] = []
        var cursor: SizePage.Cursor?
        var pages = 0
        repeat {
            let page = try store.unfinishedSizes(maxFailures: 2, after: cursor, limit: 2)
            #expect(page.sizes.count <= 2 || driver.name == "memory", "a page holds at most its limit")
            sizes += page.sizes
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 20
        #expect(sizes.sorted() == [4, 5, 7, 8, 9])
        let plan = try TransferPlan(store: store, maxFailures: 2, quotas: [])
        #expect(plan.items == 5 && plan.bytes == 33)
    }

    @Test(arguments: Driver.all)
    func givenUpItemsAreNamedUpToTheLimit(driver: Driver) async throws {
        let store = try await mixedStore(driver)
        defer { try? store.close() }
        #expect(try store.givenUpItems(maxFailures: 2, limit: 10).map(\.path) == ["/6"])
        #expect(try store.givenUpItems(maxFailures: 1, limit: 10).map(\.path) == ["/5", "/6"])
        #expect(try store.givenUpItems(maxFailures: 1, limit: 1).map(\.path) == ["/5"])
    }
}
