import Foundation
import Testing

extension EndToEnd {
/// Google counts every request against 10,000 a day, so a photo should cost one upload and a
/// fiftieth of a batchCreate. Items waiting for their batch give their place to the next upload, so
/// batches fill from the whole run, not only from the items in flight.
@Suite("Batches that fill")
struct BatchFillingTests {
    let photos = GooglePhotosTests()

    @Test func sixtyPhotosAtConcurrencyThreeTakeTwoBatches() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        let files = (0..<60).map { "/p\($0).jpg" }
        for file in files { try photos.randomFile(sandbox, file, size: 3_000) }
        try photos.writePipeline(sandbox, emulator, extra: ", batch_wait: 30s", settings: "concurrency: 3")
        let run = try photos.run(sandbox)
        #expect(run.status == 0, "\(run.output.suffix(800))")
        photos.expectEveryFileOnce(sandbox, emulator, files)
        let batches = emulator.requests("batchCreate"), uploads = emulator.requests("uploads.raw")
        #expect(uploads == 60)
        #expect(batches == 2, "60 photos in batches of at most 50: \(batches) batchCreate calls")
        let perPhoto = Double(uploads + batches) / 60
        #expect(perPhoto <= 1.05, "\(perPhoto) upload and batchCreate requests a photo")
    }

    @Test func moreWaitingItemsThanTheWaitingRoomAllArriveAtConcurrencyOne() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        let files = (0..<130).map { "/r\($0).jpg" }
        for file in files { try photos.randomFile(sandbox, file, size: 2_000) }
        try photos.writePipeline(sandbox, emulator, extra: ", batch_wait: 30s", settings: "concurrency: 1")
        let run = try photos.run(sandbox)
        #expect(run.status == 0, "\(run.output.suffix(800))")
        photos.expectEveryFileOnce(sandbox, emulator, files)
        #expect(emulator.requests("batchCreate") == 3, "50 + 50 + 30")
    }

    @Test func aBatchDoesNotWaitForItemsTheDiskBudgetKeepsOut() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        let files = (0..<12).map { "/d\($0).jpg" }
        for file in files { try photos.randomFile(sandbox, file, size: 3_000) }
        // Room for two items: the two waiting in their batch hold it, so no other item can start
        // until the batch goes. A batch_wait of an hour would hang the run (the hang guard is 300 s).
        try photos.writePipeline(sandbox, emulator, extra: ", batch_wait: 1h", settings: "concurrency: 2\ndisk_budget: 7KB")
        let run = try photos.run(sandbox)
        #expect(run.status == 0, "\(run.output.suffix(800))")
        photos.expectEveryFileOnce(sandbox, emulator, files)
    }

    @Test func theLastBatchGoesWithoutWaitingWhenNoOtherItemCanCome() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        let files = (0..<5).map { "/q\($0).jpg" }
        for file in files { try photos.randomFile(sandbox, file, size: 3_000) }
        // A batch_wait far longer than the test's patience: the batch must go as soon as the
        // last item waits in it, since no other item of the run can join.
        try photos.writePipeline(sandbox, emulator, extra: ", batch_wait: 1h", settings: "concurrency: 2")
        let began = Date()
        let run = try photos.run(sandbox)
        #expect(run.status == 0, "\(run.output.suffix(800))")
        #expect(Date().timeIntervalSince(began) < 600, "hang guard")
        photos.expectEveryFileOnce(sandbox, emulator, files)
        #expect(emulator.requests("batchCreate") == 1)
    }
}
}
