extension Unicode.Scalar {
    /// C0 controls and DEL: the characters that break a log line, an HTTP header or an FTP command
    /// when they come from a remote name, and so are escaped or refused wherever names travel.
    public var isASCIIControl: Bool { value < 0x20 || value == 0x7F }
}
