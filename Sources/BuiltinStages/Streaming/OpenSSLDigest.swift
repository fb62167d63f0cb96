import COpenSSL

/// SHA-256, SHA-1, SHA-512, MD5, … from OpenSSL's libcrypto, which uses the CPU's SHA
/// instructions where present. The EVP context is owned here and freed on deinit.
final class OpenSSLDigest: Digest {
    private let context: OpaquePointer

    init?(name: String) {
        guard let type = EVP_get_digestbyname(name), let context = EVP_MD_CTX_new() else { return nil }
        guard EVP_DigestInit_ex(context, type, nil) == 1 else {
            EVP_MD_CTX_free(context)
            return nil
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    func update(_ bytes: UnsafeRawBufferPointer) {
        EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
    }

    func finalizeHex() -> String {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &output, &length)
        return HexText.of(output.prefix(Int(length)))
    }
}
