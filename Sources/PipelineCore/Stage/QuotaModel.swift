import Foundation

/// How a stage spends a service's daily request quota, for the plan of what is left: Google's
/// Library API counts every request against 10,000 a day per project, uploads included.
public struct QuotaModel: Sendable {
    /// The service, as a user knows it ("Google Photos Library API").
    public var service: String
    /// Requests the service allows a day.
    public var dailyRequests: Int
    /// Requests one item of this many bytes needs of its own.
    public var requestsPerItem: @Sendable (Int64) -> Int
    /// Items that share one further request (a batchCreate of up to 50), or nil.
    public var itemsPerSharedRequest: Int?
    /// The state counter the stage spends the quota from (`StageContext.spend`) and the period a
    /// date counts in (the quota's day), so a run can see what is left today; nil when unknown.
    public var counter: (name: String, period: @Sendable (Date) -> String)?

    public init(service: String, dailyRequests: Int, itemsPerSharedRequest: Int? = nil, requestsPerItem: @escaping @Sendable (Int64) -> Int) {
        self.service = service
        self.dailyRequests = max(1, dailyRequests)
        self.itemsPerSharedRequest = itemsPerSharedRequest
        self.requestsPerItem = requestsPerItem
    }
}
