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

    public init(service: String, dailyRequests: Int, itemsPerSharedRequest: Int? = nil, requestsPerItem: @escaping @Sendable (Int64) -> Int) {
        self.service = service
        self.dailyRequests = max(1, dailyRequests)
        self.itemsPerSharedRequest = itemsPerSharedRequest
        self.requestsPerItem = requestsPerItem
    }
}
