import Testing
@testable import BuiltinStages
@testable import PipelineCore

@Suite("The album ledger and the rules around Google's answers")
struct AlbumLedgerTests {
    typealias Item = AlbumLedger.AlbumItem
    typealias Entry = AlbumLedger.Entry

    static func album(_ names: String...) -> [Item] {
        names.enumerated().map { Item(id: "id\($0.offset)", fileName: $0.element, productURL: nil) }
    }

    @Test func aLostBatchIsFoundBeyondItsPositionEvenWhenOlderItemsShareItsNames() {
        // Positions 0–2 are earlier batches (one of them named like an item of this one).
        let album = Self.album("IMG_0001.JPG", "a.jpg", "b.jpg", "IMG_0001.JPG", "c.jpg")
        let batch = [Entry(token: "t1", name: "IMG_0001.JPG"), Entry(token: "t2", name: "c.jpg")]
        let found = AlbumLedger.match(batch, in: album, from: 3)
        #expect(found["t1"]?.id == "id3" && found["t2"]?.id == "id4")
    }

    @Test func itemsTheBatchDidNotCreateAreNotFoundAndNothingBeforeThePositionIsTaken() {
        let album = Self.album("x.jpg", "a.jpg", "c.jpg")
        let batch = [Entry(token: "t1", name: "a.jpg"), Entry(token: "t2", name: "b.jpg"), Entry(token: "t3", name: "c.jpg"),
                     Entry(token: "t4", name: "x.jpg")]
        let found = AlbumLedger.match(batch, in: album, from: 1)
        #expect(found.keys.sorted() == ["t1", "t3"], "\(found)")
    }

    @Test func aPositionPastTheEndFindsNothing() {
        #expect(AlbumLedger.match([Entry(token: "t", name: "a.jpg")], in: Self.album("a.jpg"), from: 5).isEmpty)
    }

    @Test func googleSendsAnAlbumsLengthAsAStringAndLeavesItOutWhenEmpty() throws {
        #expect(AlbumLedger.itemCount(try JSONValue.parse(#"{"mediaItemsCount": "20000"}"#)) == 20_000)
        #expect(AlbumLedger.itemCount(try JSONValue.parse(#"{"id": "a"}"#)) == 0)
        #expect(AlbumLedger.itemCount(try JSONValue.parse(#"{"mediaItemsCount": "-5"}"#)) == 0)
    }

    @Test func onlyHTTPSOrLoopbackMayCarryTheTokenAndSessionsMustBeOnTheAPIHost() {
        #expect(TrustedEndpoint.problem(with: "https://photoslibrary.googleapis.com") == nil)
        #expect(TrustedEndpoint.problem(with: "http://127.0.0.1:8080") == nil)
        #expect(TrustedEndpoint.problem(with: "http://[::1]:8080/v1") == nil)
        #expect(TrustedEndpoint.problem(with: "http://photos.example.com") != nil)
        #expect(TrustedEndpoint.problem(with: "http://127.0.0.1.example.com") != nil)
        #expect(TrustedEndpoint.problem(with: "https://user:pw@photoslibrary.googleapis.com") != nil)
        #expect(TrustedEndpoint.problem(with: "file:///etc/passwd") != nil)
        let api = "https://photoslibrary.googleapis.com"
        #expect(TrustedEndpoint.isSession("https://photoslibrary.googleapis.com/v1/uploads?upload_id=1", on: api))
        #expect(!TrustedEndpoint.isSession("https://evil.example/v1/uploads?upload_id=1", on: api))
        #expect(!TrustedEndpoint.isSession("http://photoslibrary.googleapis.com/v1/uploads", on: api))
        #expect(!TrustedEndpoint.isSession("http://127.0.0.1:9/v1/uploads", on: "http://127.0.0.1:8/"))
    }

    @Test func onlyGivenUpItemsLeftIsNotASuccess() {
        var outcome = RunOutcome()
        outcome.completed = 3
        #expect(outcome.exitStatus == .success)
        outcome.givenUp = 1
        #expect(outcome.exitStatus == .itemsFailed)
        outcome.stoppedBy = .timeBudget
        outcome.notStarted = 2
        #expect(outcome.exitStatus == .stoppedEarly, "with other work left, a budget stop is still 'run again'")
        outcome.stoppedBy = .destinationFull
        #expect(outcome.exitStatus == .unavailable)
        outcome.stoppedBy = .destinationHasUploads
        #expect(outcome.exitStatus == .configuration)
    }
}
