#if canImport(Glibc)
import Glibc
#endif

/// Why an executable could not be started, told so the user knows what to change.
enum SpawnFailure {
    /// The message for `posix_spawn`'s error `code` on `executable`.
    static func message(code: Int32, executable: String) -> String {
        switch code {
        case ENOEXEC:
            return "'\(executable)' cannot be started as a program: it is neither a binary for this system nor a script "
                + "with a '#!' first line; add one such as '#!/bin/sh' or '#!/usr/bin/env python3'"
        case EACCES:
            return "'\(executable)' may not be executed (permission denied): 'chmod +x' it, and check that its folders "
                + "can be entered and that it is not on a noexec mount"
        case ENOENT:
            return "'\(executable)' or the interpreter named on its '#!' line does not exist: check both paths"
        case E2BIG, ENOMEM, EAGAIN, EMFILE, ENFILE:
            return "cannot start '\(executable)': \(String(cString: strerror(code))) (the system is short of resources; try again later or with a lower concurrency)"
        default:
            return "cannot start '\(executable)': \(String(cString: strerror(code)))"
        }
    }

    /// Whether starting may work on a later attempt (a shortage, not a broken executable).
    static func isTransient(code: Int32) -> Bool {
        [E2BIG, ENOMEM, EAGAIN, EMFILE, ENFILE].contains(code)
    }
}
