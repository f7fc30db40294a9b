import CSystemShims
import Logging
import MediaIndex
import WireVocabulary

#if canImport(Glibc)
    import Glibc
#endif

/// Reconciles the cache folder with the replica records at start, for every moment a crash or power cut can hit:
///
/// - renamed into place but not yet recorded complete: every chunk was verified and synced before the rename, so
///   the record is completed;
/// - recorded but its file gone or of the wrong size (deleted by hand, a lost write): the record goes, and a fetch
///   starts over;
/// - a file nobody records (the record's transaction was lost): deleted. Only files in the cache's own `objects`
///   folder whose names are content ids are ever touched.
struct CacheRecovery {
    let catalog: Catalog
    let layout: ReplicaLayout
    let logger: Logger

    func run() async {
        guard let replicas = try? await catalog.replicas() else { return }
        var recorded: Set<String> = []
        for replica in replicas {
            recorded.insert(replica.id.hex)
            let completeSize = Self.size(of: layout.completePath(replica.id))
            let partialSize = Self.size(of: layout.partialPath(replica.id))
            do {
                if completeSize == replica.size {
                    if !replica.complete {
                        logger.info(
                            "completing a replica renamed just before a stop",
                            metadata: ["object": "\(replica.id.hex.prefix(16))"])
                        try await catalog.completeReplica(replica.id)
                    }
                    if partialSize != nil { unlink(layout.partialPath(replica.id)) }
                } else if replica.complete || (partialSize != replica.size && replica.have.count > 0) {
                    logger.warning(
                        "replica file missing or damaged; forgetting it",
                        metadata: ["object": "\(replica.id.hex.prefix(16))"])
                    layout.remove(replica.id)
                    try await catalog.deleteReplica(replica.id)
                }
            } catch {
                logger.error(
                    "cannot reconcile a replica",
                    metadata: ["object": "\(replica.id.hex.prefix(16))", "error": "\(error)"])
            }
        }
        for name in Self.names(in: layout.objectsFolder) {
            let hex = name.hasSuffix(".partial") ? String(name.dropLast(8)) : name
            guard let id = ContentID(hex: hex), !recorded.contains(id.hex) else { continue }
            logger.info("removing a cache file no record refers to", metadata: ["file": "\(name)"])
            unlink(layout.objectsFolder + "/" + name)
        }
    }

    private static func size(of path: String) -> Int64? {
        var status = mediapeer_file_status()
        return mediapeer_fstatat(AT_FDCWD, path, 1, &status) == 0 ? status.size : nil
    }

    private static func names(in folder: String) -> [String] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        var entry = mediapeer_directory_entry()
        // A listing cut short by an error leaves the unlisted files for the next start: only unrecorded files are
        // ever removed, so a partial list removes less, never more.
        while mediapeer_read_directory(directory, &entry) > 0 {
            let name = String(cString: entry.name)
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
