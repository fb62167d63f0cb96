import Foundation
import Testing
@testable import BuiltinStages
@testable import PipelineCore

@Suite("The plan of what is left under the daily quota")
struct TransferPlanTests {
    let google = GooglePhotosSettings.quota([:])

    @Test func photosCostOneRequestAndAFiftiethVideosTheirChunks() {
        #expect(google.requestsPerItem(3_000_000) == 1)
        #expect(google.requestsPerItem(16 << 20) == 1, "up to raw_upload_limit: one raw upload")
        #expect(google.requestsPerItem((16 << 20) + 1) == 2, "a session start and one chunk")
        #expect(google.requestsPerItem(200 << 20) == 5, "start + 4 chunks of 64 MiB")
        let tuned = GooglePhotosSettings.quota(["raw_upload_limit": "0", "chunk_size": "8MiB", "daily_requests": 20_000])
        #expect(tuned.requestsPerItem(20 << 20) == 4 && tuned.dailyRequests == 20_000)
    }

    @Test func fiftyThousandPhotosTakeSixDaysAtTenThousandADay() {
        let plan = TransferPlan(sizes: Array(repeating: 3_000_000, count: 50_000), quotas: [google])
        #expect(plan.items == 50_000 && plan.bytes == 150_000_000_000)
        #expect(plan.quotas.first?.requests == 51_000, "50,000 uploads + 1,000 batchCreate")
        #expect(plan.days == 6, "51,000 requests at 10,000 a day: six days (a quota resets daily)")
        let now = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-30
        #expect(plan.line(from: now) == "50,000 items (150.00GB) left: 51,000 Google Photos Library API requests, 6 days at 10,000 a day (quota allowing, done around 2026-12-05)",
                "\(plan.line(from: now))")
    }

    @Test func nothingLeftAndNoQuota() {
        #expect(TransferPlan(sizes: [], quotas: [google]).line() == "nothing left to do")
        #expect(TransferPlan(sizes: [5, 5], quotas: []).line() == "2 items (10B) left")
    }

    @Test func theStatesLeftItemsAreThoseThatWillStillRun() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteStateStore(path: directory + "/plan.state")
        defer { try? store.close() }
        _ = try store.recordListing(["/done.jpg", "/new.jpg", "/failing.jpg", "/gave-up.jpg"].map { SourceItem(path: $0, size: 1_000) })
        try store.commitSynchronously([.itemCompleted(path: "/done.jpg", stage: "upload"),
                                       .itemFailed(path: "/failing.jpg", stage: "upload", error: "x")])
        for _ in 0..<3 { try store.commitSynchronously([.itemFailed(path: "/gave-up.jpg", stage: "upload", error: "x")]) }
        let plan = try TransferPlan(store: store, maxFailures: 3, quotas: [google])
        #expect(plan.items == 2, "the new one and the one that failed once; not the done or the given-up one")
        #expect(plan.quotas.first?.requests == 3)
    }
}
