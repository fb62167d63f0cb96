import Foundation
import PipelineCore

/// Where the browser comes back after the consent page: a listener on 127.0.0.1 (Google's
/// "loopback IP address" redirect for installed apps), and at the same time standard input, where
/// the user pastes the address a browser on another machine could not open (as `rclone authorize`
/// users do on a headless server).
///
/// A thin driver: it hands each arrival to the caller, who decides what it means and what page
/// the browser is shown.
public final class LoopbackRedirectReceiver {
    /// One return: a browser's request (answer it with `respond`) or a pasted line.
    public enum Arrival {
        case browser(target: String, connection: Int32)
        case pasted(String)
    }

    public let port: Int
    private let listener: Int32
    private var input: Int32?
    private var pending: [UInt8] = []

    /// Listens on 127.0.0.1:`port` (0: a free one); `input` is read for pasted addresses (nil: none).
    public init(port: Int = 0, input: Int32? = STDIN_FILENO) throws(PipelineError) {
        guard (0...65535).contains(port) else { throw PipelineError(.usage, "--port must be 0…65535 (0 picks a free port), not \(port)") }
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw PipelineError(.io, "cannot open a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(socket, 8) == 0 else {
            let reason = String(cString: strerror(errno))
            close(socket)
            throw PipelineError(.io, "cannot listen on 127.0.0.1:\(port): \(reason)", hint: port == 0 ? nil : "choose another --port, or 0 for any free one")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        listener = socket
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.input = input
    }

    deinit { close(listener) }

    /// The address Google sends the browser back to.
    public var redirectURI: String { "http://127.0.0.1:\(port)/" }

    /// The next arrival, or nil when `deadline` passes first.
    public func next(until deadline: ContinuousClock.Instant) -> Arrival? {
        while true {
            if let line = takeLine() { return .pasted(line) }
            let left = deadline - .now
            guard left > .zero else { return nil }
            var watched = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            if let input { watched.append(pollfd(fd: input, events: Int16(POLLIN), revents: 0)) }
            let milliseconds = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
            guard poll(&watched, nfds_t(watched.count), milliseconds) > 0 else { continue }
            if watched[0].revents & Int16(POLLIN) != 0, let arrival = acceptBrowser() { return arrival }
            if watched.count > 1, watched[1].revents != 0 { readInput() }
        }
    }

    /// Answers a browser's request with a small page, and closes the connection.
    public func respond(_ connection: Int32, status: String = "200 OK", page: String) {
        let body = Array("<!doctype html><meta charset=utf-8><title>pipeline</title><p style=\"font:16px sans-serif\">\(page)</p>\n".utf8)
        let head = Array("HTTP/1.1 \(status)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: \(body.count)\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n".utf8)
        let bytes = head + body
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { break }
            sent += count
        }
        close(connection)
    }

    /// Accepts one connection and reads its request line (at most 16 KiB, 10 s).
    private func acceptBrowser() -> Arrival? {
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { return nil }
        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while head.count < 16384, !head.contains(10) {
            let count = recv(connection, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            head += buffer[0..<count]
        }
        let requestLine = String(decoding: head.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[0] == "GET" else {
            respond(connection, status: "400 Bad Request", page: "This address only takes the browser's return from Google.")
            return nil
        }
        return .browser(target: String(parts[1]), connection: connection)
    }

    /// Reads what standard input has (stops watching it at end of file).
    private func readInput() {
        guard let input else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(input, &buffer, buffer.count)
        if count <= 0 {
            self.input = nil
            return
        }
        pending += buffer[0..<count]
        if pending.count > 65536 { pending.removeFirst(pending.count - 65536) }
    }

    private func takeLine() -> String? {
        while let newline = pending.firstIndex(of: 10) {
            let line = String(decoding: pending[..<newline], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            pending.removeSubrange(...newline)
            if !line.isEmpty { return line }
        }
        return nil
    }
}
