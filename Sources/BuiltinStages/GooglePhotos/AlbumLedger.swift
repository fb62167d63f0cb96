import Foundation
import PipelineCore
import Transfer

/// The album as a ledger: how the stage learns, exactly, what a batchCreate whose answer was lost
/// created.
///
/// Google appends the items of a batchCreate to its album in the order of the batch, and one
/// batch goes at a time. So before a batch is sent, the album's current length (its *position*)
/// and the batch's (token, file name) pairs are recorded; if the answer is lost — a dropped
/// connection, a 5xx, a `kill -9` — the items the album holds beyond that position are exactly
/// the ones the batch created, in order. No file name is ever looked up in the whole library
/// (names repeat), and the search costs one request per 100 items of the album, once.
///
/// What it keeps, in the stage's memory in the state:
/// - `ledger:ALBUM`: the album's length as of the last definite answer or reconciliation;
/// - `batch:ALBUM`: the batch in flight (position and entries), written before it is sent;
/// - `created:TOKEN`: the media item an upload token became (`{"id","url"}`);
/// - `doubt:TOKEN`: a token that went out in a batch whose answer was lost and that the album
///   does not show: Google may still have used it, so it is never replaced by a new upload
///   while it is valid.
///
/// - `holder:ALBUM`: which entry into the album's section is the current one (below).
///
/// Several runners of a shared state: "one batch at a time" holds across them because every use
/// of the ledger happens inside the album's section (`StageContext.exclusively`), entered with
/// `withSection`. The section's hold is a lease: a runner frozen inside it may lose it to another,
/// which first settles the frozen one's open batch. So each entry writes a fresh `holder:` mark,
/// and a batch goes — and moves the ledger — only while the mark is still its own.
///
/// Without an album (`album: ""`) there is no ledger: a lost answer leaves its tokens in doubt.
struct AlbumLedger {
    /// One item of a batch, as recorded before sending.
    struct Entry: Equatable, Sendable {
        var token: String
        var name: String
    }

    /// A media item as the album lists it.
    struct AlbumItem: Equatable, Sendable {
        var id: String
        var fileName: String
        var productURL: String?
    }

    /// The batch in flight: where in the album its items begin, and what it holds.
    struct BatchRecord: Equatable, Sendable {
        var position: Int?
        var entries: [Entry]
    }

    let albumID: String?
    let context: StageContext
    /// This entry's mark in `holder:ALBUM`; nil outside a section (reading only).
    var holder: String? = nil

    private var albumKey: String { albumID ?? "-" }

    // MARK: The section

    /// Runs `body` with the album's ledger as the only user of it: in this process (`lock`) and
    /// among every runner of a shared state (the section `album:ALBUM`), marked as the current entry.
    static func withSection<T>(albumID: String?, context: StageContext, lock: NSLock, _ body: (AlbumLedger) throws -> T) throws -> T {
        // A runner enters a section it holds already, so the lock comes first.
        try lock.withLock {
            try context.exclusively("album:\(albumID ?? "-")") {
                let ledger = AlbumLedger(albumID: albumID, context: context, holder: UUID().uuidString)
                try context.remember(["holder:\(ledger.albumKey)": ledger.holder])
                return try body(ledger)
            }
        }
    }

    /// Whether this entry still holds the album's section (no other runner entered it since).
    func holdsSection() throws(StageFailure) -> Bool {
        guard let holder else { return true }
        do { return try context.recall("holder:\(albumKey)") == holder } catch { throw .retryable("cannot read the state: \(error)") }
    }

    /// Throws unless this entry still holds the section: right before a batch goes.
    func confirmSection() throws(StageFailure) {
        guard try holdsSection() else {
            throw .retryable("""
                another runner took over this album's batches while this one was held up (frozen or cut off longer than \
                its lease); the batch was not sent and goes again later
                """)
        }
    }

    // MARK: The pure part

    /// Which entries of a batch the album shows, given the album's items in order and the
    /// position where the batch began: each entry is matched to the first later item of its name
    /// (names within a batch are distinct, so the match is exact).
    static func match(_ entries: [Entry], in album: [AlbumItem], from position: Int) -> [String: AlbumItem] {
        var found: [String: AlbumItem] = [:]
        var next = max(0, position)
        for entry in entries {
            guard next < album.count, let index = album[next...].firstIndex(where: { $0.fileName == entry.name }) else { continue }
            found[entry.token] = album[index]
            next = index + 1
        }
        return found
    }

    // MARK: Memory

    func created(_ token: String) throws -> AlbumItem? {
        guard let text = try context.recall("created:\(token)"), let value = try? JSONValue.parse(text),
              let id = value["id"]?.stringValue else { return nil }
        return AlbumItem(id: id, fileName: "", productURL: value["url"]?.stringValue)
    }

    func isInDoubt(_ token: String) throws -> Bool { try context.recall("doubt:\(token)") != nil }

    func batchInFlight() throws -> BatchRecord? {
        guard let text = try context.recall("batch:\(albumKey)"), let value = try? JSONValue.parse(text),
              case .array(let pairs)? = value["entries"] else { return nil }
        let entries = pairs.compactMap { pair -> Entry? in
            guard let token = pair["token"]?.stringValue, let name = pair["name"]?.stringValue else { return nil }
            return Entry(token: token, name: name)
        }
        return BatchRecord(position: value["position"]?.int64Value.map { Int(clamping: $0) }, entries: entries)
    }

    /// Records the batch before it is sent (durably: a crash right after sending must find it).
    func begin(_ batch: BatchRecord) throws {
        let entries = JSONValue.array(batch.entries.map { ["token": .string($0.token), "name": .string($0.name)] })
        let record = JSONValue.object(["position": batch.position.map { .number(Double($0)) } ?? .null, "entries": entries])
        try context.remember(["batch:\(albumKey)": record.jsonText()])
    }

    /// A definite answer: what it created is recorded, the album grows by that much, and the
    /// batch is no longer in flight — all in one transaction.
    /// If another runner took the section meanwhile, it has settled the batch as lost: only
    /// what was created is recorded, and the album's length is left to be asked anew.
    func settle(created: [String: AlbumItem], position: Int?) throws {
        var changes: [String: String?] = [:]
        for (token, item) in created {
            changes["created:\(token)"] = Self.createdRecord(item)
            changes["doubt:\(token)"] = .some(nil)
        }
        if try holdsSection() {
            changes["batch:\(albumKey)"] = .some(nil)
            if let albumID, let position { changes["ledger:\(albumID)"] = String(position + created.count) }
        } else if let albumID {
            changes["ledger:\(albumID)"] = .some(nil)
        }
        try context.remember(changes)
    }

    /// The batch was refused whole: nothing was created, nothing is in flight (the record is
    /// left alone once another runner holds the section: it is that runner's now).
    func abandon() throws {
        guard try holdsSection() else { return }
        try context.remember(["batch:\(albumKey)": nil])
    }

    /// The album's length: recorded, or asked of Google once (a state from before the ledger).
    func position(using client: PhotosLibraryClient) throws -> Int? {
        guard let albumID else { return nil }
        if let text = try context.recall("ledger:\(albumID)"), let count = Int(text), count >= 0 { return count }
        let response = try client.send(HTTPRequest(.get, client.url("/v1/albums/\(HTTPRequest.formEncoded(albumID))")),
                                       what: "reading the album's size", scope: .readAppCreated)
        let count = Self.itemCount(try? JSONValue.parse(response.text))
        try context.remember(["ledger:\(albumID)": String(count)])
        return count
    }

    static func itemCount(_ album: JSONValue?) -> Int {
        // Google sends int64 as a string and leaves the field out when the album is empty.
        let text = album?["mediaItemsCount"]?.stringValue ?? album?["mediaItemsCount"]?.int64Value.map(String.init) ?? "0"
        return max(0, Int(text) ?? 0)
    }

    static func createdRecord(_ item: AlbumItem) -> String {
        JSONValue.object(["id": .string(item.id), "url": item.productURL.map(JSONValue.string) ?? .null]).jsonText()
    }

    // MARK: Reconciliation

    /// Settles a batch whose answer was lost: the album's items beyond the recorded position are
    /// the ones it created; the rest of its tokens stay in doubt. Returns how many were found.
    @discardableResult
    func reconcile(using client: PhotosLibraryClient) throws(StageFailure) -> Int {
        let batch: BatchRecord?
        do { batch = try batchInFlight() } catch { throw .retryable("cannot read the state: \(error)") }
        // Another runner holds the section now, and settles the batch itself.
        guard let batch, try holdsSection() else { return 0 }
        var changes: [String: String?] = ["batch:\(albumKey)": nil]
        var found: [String: AlbumItem] = [:]
        if let albumID, let position = batch.position {
            let album = try Self.items(of: albumID, using: client)
            found = Self.match(batch.entries, in: album, from: position)
            changes["ledger:\(albumID)"] = String(album.count)
            client.log("a batch of \(batch.entries.count) whose answer was lost: the album shows \(found.count) of them created")
        }
        for entry in batch.entries {
            if let item = found[entry.token] {
                changes["created:\(entry.token)"] = Self.createdRecord(item)
                changes["doubt:\(entry.token)"] = .some(nil)
            } else {
                changes["doubt:\(entry.token)"] = "1"
            }
        }
        do { try context.remember(changes) } catch { throw .retryable("cannot record what the lost batch created: \(error)") }
        return found.count
    }

    /// Every item of the album in album order (`mediaItems:search`, 100 a page).
    static func items(of albumID: String, using client: PhotosLibraryClient) throws(StageFailure) -> [AlbumItem] {
        try client.allPages("mediaItems", what: "reading the album to see what a lost batch created", scope: .readAppCreated) { pageToken in
            var body: [String: JSONValue] = ["albumId": .string(albumID), "pageSize": 100]
            if let pageToken { body["pageToken"] = .string(pageToken) }
            return HTTPRequest(.post, client.url("/v1/mediaItems:search"), headers: [("Content-Type", "application/json")],
                               body: .bytes(Array(JSONValue.object(body).jsonText().utf8)))
        }.compactMap { entry in
            entry["id"]?.stringValue.map { AlbumItem(id: $0, fileName: entry["filename"]?.stringValue ?? "", productURL: entry["productUrl"]?.stringValue) }
        }
    }
}
