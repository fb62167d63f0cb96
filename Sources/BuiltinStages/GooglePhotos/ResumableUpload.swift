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
        if let recorded = current, !TrustedEndpoint.isSession(recorded.url, on: client.settings.apiBase) {
            // Never send the token or the bytes where a state file says: only to the API's host.
            context.log("the recorded upload session is not on \(client.settings.apiBase); starting a new one")
            current = nil
        }
        if let recorded = current {
            switch try sessionState(recorded) {
            case .active(let received):
                offset = received
                context.log("resuming the upload session at byte \(received) of \(size)")
            case .final(let token):
                context.log("the upload session was already finalised; using its upload token")
                return token
            case .over:
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
            ], body: .fileRegion(path: file, offset: offset, length: chunk),
               // The finalising request issues the token: never sent twice behind our back.
               freshConnection: finalizing)
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
                if let stop = client.runLevelFailure(response, what: "the upload of '\(fileName)'", scope: .appendOnly) { throw stop }
                if let transient = client.transientWait(response, attempt: failures), response.status == 400 {
                    context.log("upload chunk at byte \(start): \(PhotosLibraryClient.message(response)); trying again in \(transient)")
                    wait = transient
                } else if response.status == 400 || response.status == 404 || response.status == 410 {
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
            switch try sessionState(session) {
            case .active(let received): offset = received
            // The finalising request went through; only its answer was lost.
            case .final(let token): return token
            case .over: current = nil
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
        guard TrustedEndpoint.isSession(url, on: client.settings.apiBase) else {
            throw .permanent("starting the upload of '\(fileName)': the session URL is not on \(client.settings.apiBase); not sending the file there")
        }
        let granularity = response.header("x-goog-upload-chunk-granularity").flatMap(Int64.init) ?? 262_144
        return Session(url: url, granularity: max(1, granularity))
    }

    /// Where a session stands, as its `query` answer says.
    enum SessionState: Equatable {
        /// It holds this many bytes and takes the rest.
        case active(Int64)
        /// It was finalised (perhaps by a request whose answer was lost); the body is the token.
        case final(token: String)
        /// Cancelled, expired or unknown: a new session is the way on.
        case over
    }

    private func sessionState(_ session: Session) throws(StageFailure) -> SessionState {
        let request = HTTPRequest(.post, session.url, headers: [("X-Goog-Upload-Command", "query")])
        let response: HTTPResponse
        do {
            response = try client.send(request, what: "asking the upload session of '\(fileName)' where it stands")
        } catch where error.kind == .permanent {
            return .over
        }
        switch response.header("x-goog-upload-status")?.lowercased() {
        case "active":
            guard let received = response.header("x-goog-upload-size-received").flatMap(Int64.init), (0...size).contains(received) else { return .over }
            return .active(received)
        case "final":
            let token = response.text.trimmingCharacters(in: .whitespacesAndNewlines)
            let received = response.header("x-goog-upload-size-received").flatMap(Int64.init)
            // Only a token for all of this file's bytes stands for it.
            guard !token.isEmpty, received == nil || received == size else { return .over }
            return .final(token: token)
        default:
            return .over
        }
    }

    /// The next request's length: the rest of the file, or `chunk_size` rounded down to the
    /// granularity (an intermediate chunk must be a multiple of it).
    private func chunkLength(at offset: Int64, granularity: Int64) -> Int64 {
        let remaining = size - offset
        let wanted = max(granularity, client.settings.chunkSize / granularity * granularity)
        return remaining <= wanted ? remaining : wanted
    }
}
