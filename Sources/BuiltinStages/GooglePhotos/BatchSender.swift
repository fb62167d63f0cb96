import Foundation
import PipelineCore
import Transfer

/// Sends one batch to Google and sorts out what came of it, blocking: the album ledger first
/// settles any earlier batch whose answer was lost, then the batch goes out with its record
/// written first; a lost answer is reconciled before anything goes again, a batch refused for
/// one bad token is split until the bad one is found. Call it inside the album's section
/// (`AlbumLedger.withSection`).
struct BatchSender {
    typealias Request = MediaItemCreator.Request
    typealias Result = MediaItemCreator.Result

    let client: PhotosLibraryClient
    let ledger: AlbumLedger
    /// Right before each batchCreate: makes sure its items are still this runner's (renews their
    /// leases); returns, by upload token, why those that are not may not go.
    var clearance: ([Request]) throws -> [String: StageFailure] = { _ in [:] }

    func send(_ requests: [Request]) throws -> [Result] {
        // An earlier batch to this album whose answer was lost (this run or a killed one) is
        // settled first: the album's positions are only known after that.
        try ledger.reconcile(using: client)
        var results = [Result?](repeating: nil, count: requests.count)
        for (index, request) in requests.enumerated() {
            if let item = try ledger.created(request.uploadToken) { results[index] = .created(id: item.id, productURL: item.productURL) }
        }
        let open = results.indices.filter { results[$0] == nil }
        for (index, result) in try sendGroup(open.map { requests[$0] }).enumerated() { results[open[index]] = result }
        return results.map { $0 ?? .notCreated("no result") }
    }

    /// Sends `requests`, resending after a lost answer (once reconciled) and splitting a batch
    /// Google refused whole for a bad token; results in the order of `requests`.
    private func sendGroup(_ requests: [Request]) throws -> [Result] {
        guard !requests.isEmpty else { return [] }
        var results = [Result?](repeating: nil, count: requests.count)
        var lost = 0
        while true {
            let open = results.indices.filter { results[$0] == nil }
            guard !open.isEmpty else { return results.map { $0! } }
            let group = open.map { requests[$0] }
            switch try sendOnce(group) {
            case .answered(let answers):
                for (index, answer) in zip(open, answers) { results[index] = answer }
            case .refusedForToken(let message):
                guard group.count > 1 else {
                    results[open[0]] = try ledger.isInDoubt(group[0].uploadToken) ? .usedByLostBatch(message) : .tokenRejected(message)
                    continue
                }
                // One bad token refuses them all: halve until it is alone; the others go through.
                let half = group.count / 2
                let answers = try sendGroup(Array(group[..<half])) + sendGroup(Array(group[half...]))
                for (index, answer) in zip(open, answers) { results[index] = answer }
            case .lost(let reason):
                lost += 1
                try ledger.reconcile(using: client)
                for index in open {
                    if let item = try ledger.created(requests[index].uploadToken) { results[index] = .created(id: item.id, productURL: item.productURL) }
                }
                // Resending is safe now: a token Google used cannot make a second item.
                guard lost < client.settings.tries else {
                    throw StageFailure.retryable("creating media items: the answer was lost \(lost) times (\(reason)); what was created is recorded")
                }
                let wait = client.backoff(from: client.settings.serverErrorWait, attempt: lost)
                client.log("creating \(group.count) media item\(group.count == 1 ? "" : "s"): \(reason); the album shows what was created; sending the rest again in \(wait)")
                try client.pause(wait)
            }
        }
    }

    private enum Outcome {
        case answered([Result])
        /// HTTP 400 "Request must contain a valid upload token.": nothing was created.
        case refusedForToken(String)
        case lost(String)
    }

    /// One batchCreate call, recorded in the ledger before it goes, with the items that are still
    /// this runner's and only while the album's section is (the others get `.withheld`).
    private func sendOnce(_ group: [Request]) throws -> Outcome {
        let position = try ledger.position(using: client)
        let withheld = try clearance(group)
        let requests = group.filter { withheld[$0.uploadToken] == nil }
        // The answers for `requests`, and the withheld ones, in the order of `group`.
        func inGroupOrder(_ answers: [Result]) -> [Result] {
            var byToken = withheld.mapValues(Result.withheld)
            for (request, answer) in zip(requests, answers) { byToken[request.uploadToken] = answer }
            return group.map { byToken[$0.uploadToken] ?? .notCreated("no result") }
        }
        guard !requests.isEmpty else { return .answered(inGroupOrder([])) }
        try ledger.confirmSection()
        try ledger.begin(AlbumLedger.BatchRecord(position: position, entries: requests.map { .init(token: $0.uploadToken, name: $0.fileName) }))
        let what = "creating \(requests.count) media item\(requests.count == 1 ? "" : "s")"
        let outcome: PhotosLibraryClient.CreateOutcome
        do {
            outcome = try client.sendCreating(request(for: requests), what: what)
        } catch {
            // A definite refusal of the whole call (storage full, a scope): nothing was created.
            // Stopped mid-call, it may have gone: the record stays for the next run.
            if error.kind != .interrupted { try ledger.abandon() }
            throw error
        }
        switch outcome {
        case .inDoubt(let reason):
            return .lost(reason)
        case .answered(let response) where response.isSuccess:
            let answers = try results(of: response, for: requests)
            var created: [String: AlbumLedger.AlbumItem] = [:]
            for (request, answer) in zip(requests, answers) {
                if case .created(let id, let url) = answer { created[request.uploadToken] = .init(id: id, fileName: request.fileName, productURL: url) }
            }
            try ledger.settle(created: created, position: position)
            return .answered(inGroupOrder(answers))
        case .answered(let response):
            try ledger.abandon()
            let message = PhotosLibraryClient.message(response)
            if response.status == 400, message.lowercased().contains("valid upload token") { return .refusedForToken(message) }
            if response.status == 400 || response.status == 403, message.lowercased().contains("permission to add media items to this album") {
                return .answered(inGroupOrder(requests.map { _ in .albumRefused(message) }))
            }
            throw client.failure(response, what: what)
        }
    }

    private func request(for requests: [Request]) -> HTTPRequest {
        var body: [String: JSONValue] = [
            "newMediaItems": .array(requests.map { request in
                var item: [String: JSONValue] = ["simpleMediaItem": ["uploadToken": .string(request.uploadToken), "fileName": .string(request.fileName)]]
                if let description = request.description { item["description"] = .string(description) }
                return .object(item)
            }),
        ]
        if let albumID = ledger.albumID { body["albumId"] = .string(albumID) }
        return HTTPRequest(.post, client.url("/v1/mediaItems:batchCreate"), headers: [("Content-Type", "application/json")],
                           body: .bytes(Array(JSONValue.object(body).jsonText().utf8)))
    }

    /// Each request's result from a 200 answer (per-item failures come inside it).
    private func results(of response: HTTPResponse, for requests: [Request]) throws -> [Result] {
        guard let results = (try? JSONValue.parse(response.text))?["newMediaItemResults"], case .array(let entries) = results else {
            throw StageFailure.retryable("batchCreate answered without newMediaItemResults")
        }
        var byToken: [String: JSONValue] = [:]
        for entry in entries {
            if let token = entry["uploadToken"]?.stringValue { byToken[token] = entry }
        }
        return try requests.enumerated().map { index, request in
            let entry = byToken[request.uploadToken] ?? (index < entries.count && entries[index]["uploadToken"] == nil ? entries[index] : nil)
            guard let entry else { return .missingMediaItem(status: "no result for this item") }
            let status = entry["status"]
            let code = status?["code"]?.int64Value ?? 0
            let message = status?["message"]?.stringValue ?? ""
            switch code {
            case 0:
                guard let id = entry["mediaItem"]?["id"]?.stringValue, !id.isEmpty else { return .missingMediaItem(status: message) }
                return .created(id: id, productURL: entry["mediaItem"]?["productUrl"]?.stringValue)
            case 13:
                return .notCreated(message)
            case 3 where message.lowercased().contains("token"):
                return try ledger.isInDoubt(request.uploadToken) ? .usedByLostBatch(message) : .tokenRejected(message)
            default:
                return .refused(code: Int(code), message: message)
            }
        }
    }
}
