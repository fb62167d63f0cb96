import Foundation
import Testing
@testable import BuiltinStages
@testable import PipelineCore

/// The quota preference reads what is left of Google's day from the very counter the stage spends
/// from: the same name (per OAuth client) and the same day (Pacific time).
@Suite("The Google Photos quota names its counter")
struct GooglePhotosQuotaCounterTests {
    @Test func theQuotaModelNamesTheCounterAndDayTheStageSpendsFrom() throws {
        let model = GooglePhotosSettings.quota(["client_id": .string("client-1.apps.googleusercontent.com"), "daily_requests": .number(500)])
        let counter = try #require(model.counter)
        #expect(counter.name == RequestBudget.counterName(clientID: "client-1.apps.googleusercontent.com"))
        let lateEvening = ISO8601DateFormatter().date(from: "2026-01-15T07:30:00Z")!
        #expect(counter.period(lateEvening) == QuotaDay(containing: lateEvening).label)
        #expect(counter.period(lateEvening) == "2026-01-14")
        #expect(model.dailyRequests == 500)
        // With 3 requests left: one for the batchCreate, two for a session start and one 64 MiB chunk.
        #expect(QuotaPreference.sizeLimit(remaining: 3, model: model) == 64 << 20)
    }

    @Test func withoutAClientIDThereIsNoCounterAndNoPreference() {
        #expect(GooglePhotosSettings.quota([:]).counter == nil)
    }
}
