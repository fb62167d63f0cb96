import CCurl
import Foundation

/// One libcurl easy handle, owned: created here, cleaned up on deinit, never shared between threads.
///
/// Options are set through typed methods (the C shim wraps the variadic calls); callbacks reach
/// Swift through a context object passed with `Unmanaged`, which this handle keeps alive for as
/// long as it may be called. Reusing a handle for several transfers keeps the FTP control
/// connection open.
public final class CurlEasy {
    private let handle: OpaquePointer
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    private var lists: [UnsafeMutablePointer<curl_slist>] = []
    private var context: CallbackContext?

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public init() throws(CurlFailure) {
        _ = Self.globalInit
        guard let handle = curl_easy_init() else {
            throw CurlFailure(code: Int32(CURLE_FAILED_INIT.rawValue), message: "libcurl could not create a handle")
        }
        self.handle = OpaquePointer(handle)
        // Signals must not be used for timeouts in a threaded program.
        set(CURLOPT_NOSIGNAL, 1)
    }

    deinit {
        curl_easy_cleanup(UnsafeMutableRawPointer(handle))
        for list in lists { curl_slist_free_all(list) }
    }

    private var raw: UnsafeMutableRawPointer { UnsafeMutableRawPointer(handle) }

    // MARK: Options

    public func set(_ option: CURLoption, _ value: Int) { _ = ccurl_setopt_long(raw, option, value) }
    public func set(_ option: CURLoption, _ value: Bool) { set(option, value ? 1 : 0) }
    public func set(_ option: CURLoption, offset value: Int64) { _ = ccurl_setopt_off(raw, option, curl_off_t(value)) }
    /// libcurl copies strings it is given, so the Swift string need not outlive the call.
    public func set(_ option: CURLoption, _ value: String?) { _ = ccurl_setopt_string(raw, option, value) }

    /// A list option (QUOTE commands and the like); kept alive until the handle is freed.
    public func set(_ option: CURLoption, list values: [String]) {
        var list: UnsafeMutablePointer<curl_slist>?
        for value in values { list = curl_slist_append(list, value) }
        if let list { lists.append(list) }
        _ = ccurl_setopt_slist(raw, option, list)
    }

    /// A request body held in memory (a small JSON or form); libcurl keeps its own copy.
    public func setPostBody(_ bytes: [UInt8]) {
        set(CURLOPT_POSTFIELDSIZE_LARGE, offset: Int64(bytes.count))
        var copy = bytes
        copy.withUnsafeMutableBytes { _ = ccurl_setopt_pointer(raw, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
    }

    /// Forgets every option and handler; the connection cache stays, so the next request to the
    /// same host reuses the open connection.
    public func reset() {
        curl_easy_reset(raw)
        for list in lists { curl_slist_free_all(list) }
        lists = []
        context = nil
        set(CURLOPT_NOSIGNAL, 1)
    }

    /// Where received data, header lines and progress go for the next transfers, and where an
    /// upload's bytes come from: `read` fills the buffer and returns how much it wrote (0 at the
    /// end), or nil to abort the transfer.
    public func setHandlers(
        data: ((UnsafeRawBufferPointer) -> Bool)? = nil,
        header: ((String) -> Void)? = nil,
        read: ((UnsafeMutableRawBufferPointer) -> Int?)? = nil,
        progress: ((CurlProgress) -> Bool)? = nil
    ) {
        let context = CallbackContext(data: data, header: header, read: read, progress: progress)
        self.context = context
        let pointer = Unmanaged.passUnretained(context).toOpaque()
        _ = ccurl_setopt_data_callback(raw, CURLOPT_WRITEFUNCTION) { bytes, size, count, context in
            let handler = Unmanaged<CallbackContext>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            guard let data = handler.data else { return length }
            return data(UnsafeRawBufferPointer(start: bytes, count: length)) ? length : 0
        }
        _ = ccurl_setopt_pointer(raw, CURLOPT_WRITEDATA, pointer)
        _ = ccurl_setopt_data_callback(raw, CURLOPT_HEADERFUNCTION) { bytes, size, count, context in
            let handler = Unmanaged<CallbackContext>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            if let header = handler.header, let bytes {
                let text = String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
                header(text.trimmingCharacters(in: .newlines))
            }
            return length
        }
        _ = ccurl_setopt_pointer(raw, CURLOPT_HEADERDATA, pointer)
        if read != nil {
            _ = ccurl_setopt_data_callback(raw, CURLOPT_READFUNCTION) { bytes, size, count, context in
                let handler = Unmanaged<CallbackContext>.fromOpaque(context!).takeUnretainedValue()
                let buffer = UnsafeMutableRawBufferPointer(start: bytes, count: size * count)
                return handler.read?(buffer).map { $0 } ?? Int(CURL_READFUNC_ABORT)
            }
            _ = ccurl_setopt_pointer(raw, CURLOPT_READDATA, pointer)
        }
        set(CURLOPT_NOPROGRESS, progress == nil)
        _ = ccurl_setopt_progress_callback(raw, CURLOPT_XFERINFOFUNCTION) { context, downloadTotal, downloaded, uploadTotal, uploaded in
            let handler = Unmanaged<CallbackContext>.fromOpaque(context!).takeUnretainedValue()
            let progress = CurlProgress(downloaded: Int64(downloaded), downloadTotal: Int64(downloadTotal),
                                        uploaded: Int64(uploaded), uploadTotal: Int64(uploadTotal))
            return handler.progress?(progress) == false ? 1 : 0
        }
        _ = ccurl_setopt_pointer(raw, CURLOPT_XFERINFODATA, pointer)
    }

    // MARK: Running

    /// Runs the transfer configured so far; blocks the calling thread.
    public func perform() throws(CurlFailure) {
        errorBuffer.withUnsafeMutableBufferPointer { buffer in
            buffer[0] = 0
            _ = ccurl_setopt_pointer(raw, CURLOPT_ERRORBUFFER, buffer.baseAddress)
        }
        let code = curl_easy_perform(raw)
        _ = ccurl_setopt_pointer(raw, CURLOPT_ERRORBUFFER, nil)
        guard code == CURLE_OK else {
            let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            let summary = String(cString: curl_easy_strerror(code))
            throw CurlFailure(code: Int32(code.rawValue), message: detail.isEmpty ? summary : "\(summary): \(detail)",
                              responseCode: responseCode)
        }
    }

    public var responseCode: Int {
        var code = 0
        _ = ccurl_getinfo_long(raw, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// A `curl_off_t` info value (sizes, times); nil when libcurl does not know it (-1).
    public func info(_ item: CURLINFO) -> Int64? {
        var value: curl_off_t = -1
        guard ccurl_getinfo_off(raw, item, &value) == CURLE_OK, value >= 0 else { return nil }
        return Int64(value)
    }
}

/// Where a transfer stands, as libcurl's progress callback reports it (totals are 0 when unknown).
public struct CurlProgress: Sendable {
    public var downloaded: Int64
    public var downloadTotal: Int64
    public var uploaded: Int64
    public var uploadTotal: Int64
}

/// What the C callbacks call back into.
private final class CallbackContext {
    let data: ((UnsafeRawBufferPointer) -> Bool)?
    let header: ((String) -> Void)?
    let read: ((UnsafeMutableRawBufferPointer) -> Int?)?
    let progress: ((CurlProgress) -> Bool)?

    init(data: ((UnsafeRawBufferPointer) -> Bool)?, header: ((String) -> Void)?,
         read: ((UnsafeMutableRawBufferPointer) -> Int?)?, progress: ((CurlProgress) -> Bool)?) {
        self.data = data
        self.header = header
        self.read = read
        self.progress = progress
    }
}
