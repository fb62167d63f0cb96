import Foundation
import PipelineCore
import Transfer

/// Sends one file's bytes with Google's resumable upload protocol and returns the upload token.
///
/// The session URL is checkpointed before the first byte, so a later attempt — in this run or
/// after a `kill -9` — asks the session how much arrived (`query`) and sends only the rest. A
/// session that is over (finalised without our seeing the token, cancelled, expired) is replaced
/// by a new one; the file's bytes are streamed from disk chunk by chunk, never held in memory.
struct ResumableUpload {
    /// What the checkpoint holds about the session.
    struct Session {
        var url: String
        var granularity: Int64
    }

    let client: PhotosLibraryClient
    let file: String
    let size: Int64
    let fileName: String
    let context: StageContext

    /// Runs the upload to the end; `session` is the one an earlier attempt recorded, if any.
    func run(resuming session: Session?, save: (Session) throws -> Void) throws(StageFailure) -> String {
        var current = session
        var offset: Int64 = 0
        if let recorded = current {
            if let received = try receivedBytes(recorded) {
                offset = received
                context.log("resuming the upload session at byte \(received) of \(size)")
            } else {
                context.log("the earlier upload session is over; starting a new one")
                current = nil
            }
        }
        var failures = 0
        while true {
            let session: Session
            if let current { session = current } else {
                session = try start()
                do { try save(session) } catch { throw .retryable("cannot record the upload session: \(error)") }
                current = session
                offset = 0
            }
            let chunk = chunkLength(at: offset, granularity: session.granularity)
            let finalizing = offset + chunk == size
            let request = HTTPRequest(.post, session.url, headers: [
                ("X-Goog-Upload-Command", finalizing ? "upload, finalize" : "upload"),
                ("X-Goog-Upload-Offset", String(offset)),
                ("Content-Type", "application/octet-stream"),
            ], body: .fileRegion(path: file, offset: offset, length: chunk))
            let start = offset
            let outcome = try client.exchange(request) { sent in context.progress(bytes: start + sent, total: size) }

            if case .response(let response) = outcome, response.isSuccess {
                failures = 0
                offset += chunk
                guard finalizing else { continue }
                let token = response.text.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !token.isEmpty else { throw .retryable("the upload of '\(fileName)' finished without an upload token") }
                return token
            }
            // Something went wrong with this chunk: wait as the error says, then ask the session
            // where it stands and go on from there.
            failures += 1
            let wait: TimeSpan
            switch outcome {
            case .response(let response):
                if PhotosLibraryClient.isDailyQuota(response) { throw client.failure(response, what: "the upload of '\(fileName)'") }
                if response.status == 400 || response.status == 404 || response.status == 410 {
                    context.log("the upload session answered \(response.status) (\(PhotosLibraryClient.message(response))); checking where it stands")
                    wait = TimeSpan(milliseconds: 0)
                } else if let transient = client.transientWait(response, attempt: failures) {
                    context.log("upload chunk at byte \(start): HTTP \(response.status), trying again in \(transient)")
                    wait = transient
                } else {
                    throw client.failure(response, what: "the upload of '\(fileName)'")
                }
            case .dropped(let failure):
                context.log("upload chunk at byte \(start) failed: \(failure.message); checking where the session stands")
                wait = client.backoff(from: client.settings.serverErrorWait, attempt: failures)
            }
            guard failures < client.settings.tries else {
                throw .retryable("the upload of '\(fileName)' failed \(failures) times in a row at byte \(start)")
            }
            try client.pause(wait)
            if let received = try receivedBytes(session) {
                offset = received
            } else {
                current = nil
            }
        }
    }

    /// Opens a new session; its URL and chunk granularity come back in headers.
    private func start() throws(StageFailure) -> Session {
        let request = HTTPRequest(.post, client.url("/v1/uploads"), headers: [
            ("X-Goog-Upload-Command", "start"),
            ("X-Goog-Upload-Protocol", "resumable"),
            ("X-Goog-Upload-Content-Type", MediaTypeRules.mimeType(of: fileName)),
            ("X-Goog-Upload-File-Name", UploadHeaders.fileName(fileName)),
            ("X-Goog-Upload-Raw-Size", String(size)),
        ])
        let response = try client.send(request, what: "starting the upload of '\(fileName)'")
        guard let url = response.header("x-goog-upload-url"), !url.isEmpty else {
            throw .retryable("starting the upload of '\(fileName)': the answer had no X-Goog-Upload-URL")
        }
        let granularity = response.header("x-goog-upload-chunk-granularity").flatMap(Int64.init) ?? 262_144
        return Session(url: url, granularity: max(1, granularity))
    }

    /// How many bytes the session holds, or nil when it cannot take more (finalised, cancelled,
    /// unknown): then a new session is the way on.
    private func receivedBytes(_ session: Session) throws(StageFailure) -> Int64? {
        let request = HTTPRequest(.post, session.url, headers: [("X-Goog-Upload-Command", "query")])
        let response: HTTPResponse
        do {
            response = try client.send(request, what: "asking the upload session of '\(fileName)' where it stands")
        } catch where error.kind == .permanent {
            return nil
        }
        guard response.header("x-goog-upload-status")?.lowercased() == "active",
              let received = response.header("x-goog-upload-size-received").flatMap(Int64.init), received <= size else { return nil }
        return received
    }

    /// The next request's length: the rest of the file, or `chunk_size` rounded down to the
    /// granularity (an intermediate chunk must be a multiple of it).
    private func chunkLength(at offset: Int64, granularity: Int64) -> Int64 {
        let remaining = size - offset
        let wanted = max(granularity, client.settings.chunkSize / granularity * granularity)
        return remaining <= wanted ? remaining : wanted
    }
}
