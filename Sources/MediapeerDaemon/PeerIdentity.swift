import BoxIdentity
import Foundation
import Logging

/// The box's identity at start: its key pair and key-derived peer id (``BoxIdentity``), kept in `state_dir` apart
/// from the index, so a rebuilt index keeps them.
enum PeerIdentity {
    static func loadOrCreate(stateDirectory: String, logger: Logger) throws(BoxIdentityError) -> BoxIdentity {
        let identity = try BoxIdentity.loadOrCreate(stateDirectory: stateDirectory)
        // Versions before key-derived ids kept a random id here. Neighbours see the box leave under the old id and
        // arrive under the new one (its catalog synced again from 0, the old one forgotten after
        // forget_peers_after); said once, then the file is gone.
        let legacyPath = stateDirectory + "/peer-id"
        if let legacy = try? String(contentsOfFile: legacyPath, encoding: .utf8) {
            logger.notice(
                "the random peer id of earlier versions is replaced by one derived from the box's key",
                metadata: [
                    "old_peer_id": "\(legacy.trimmingCharacters(in: .whitespacesAndNewlines).prefix(64))",
                    "peer_id": "\(identity.peerID)",
                ])
            unlink(legacyPath)
        }
        return identity
    }
}
