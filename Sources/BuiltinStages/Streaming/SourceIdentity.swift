import Foundation
import PipelineCore

/// What identifies one version of a local file: size, modification and change time, inode and
/// device. A file rewritten in place changes its times; one replaced by a rename changes its inode.
struct SourceIdentity: Equatable, Sendable {
    var size: Int64
    var modified: timespec
    var changed: timespec
    var inode: UInt64
    var device: UInt64

    init(_ info: stat) {
        size = Int64(info.st_size)
        modified = info.st_mtim
        changed = info.st_ctim
        inode = UInt64(info.st_ino)
        device = UInt64(info.st_dev)
    }

    static func == (left: SourceIdentity, right: SourceIdentity) -> Bool {
        left.json == right.json
    }

    /// As a checkpoint records it.
    var json: JSONValue {
        ["size": .string(String(size)), "modified": .string("\(modified.tv_sec).\(modified.tv_nsec)"),
         "changed": .string("\(changed.tv_sec).\(changed.tv_nsec)"), "inode": .string(String(inode)), "device": .string(String(device))]
    }

    /// What differs from `other`, for a message ("size, modification time").
    func differences(from other: SourceIdentity) -> String {
        var names: [String] = []
        if size != other.size { names.append("size \(other.size) → \(size)") }
        if modified.tv_sec != other.modified.tv_sec || modified.tv_nsec != other.modified.tv_nsec { names.append("modification time") }
        if changed.tv_sec != other.changed.tv_sec || changed.tv_nsec != other.changed.tv_nsec { names.append("change time") }
        if inode != other.inode || device != other.device { names.append("inode (replaced)") }
        return names.joined(separator: ", ")
    }
}
