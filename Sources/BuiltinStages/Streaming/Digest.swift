import COpenSSL

/// A streaming message digest (SHA-256, SHA-1, SHA-512, MD5, …) from OpenSSL's libcrypto,
/// which uses the CPU's SHA instructions where present.
///
/// The OpenSSL context is owned here and freed on deinit; no pointer escapes.
final class Digest {
    /// Algorithms accepted in `with: { algorithm: … }`.
    static let algorithms = ["sha256", "sha1", "sha512", "sha384", "sha224", "md5"]

    let algorithm: String
    private let context: OpaquePointer

    init?(algorithm: String) {
        guard Self.algorithms.contains(algorithm), let type = EVP_get_digestbyname(algorithm),
            let context = EVP_MD_CTX_new()
        else { return nil }
        guard EVP_DigestInit_ex(context, type, nil) == 1 else {
            EVP_MD_CTX_free(context)
            return nil
        }
        self.algorithm = algorithm
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    func update(_ bytes: UnsafeRawBufferPointer) {
        EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
    }

    /// The digest as lowercase hex; the digest cannot be updated afterwards.
    func finalizeHex() -> String {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &output, &length)
        return output.prefix(Int(length)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
