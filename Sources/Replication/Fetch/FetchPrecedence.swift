import WireVocabulary

/// Which running fetches give their links to others. A fetch a player reads goes first: every fetch nobody plays
/// starts no new request while one is played. A replication the replicator started in the background also waits
/// while any fetch a user or a player started runs, so the home's own asks are never slowed by the cache filling.
struct FetchPrecedence: Sendable, Equatable {
    /// Every fetch running.
    let running: Set<ContentID>
    /// The fetches players read now.
    let played: Set<ContentID>
    /// The fetches the replicator started and nobody asked for since.
    let inBackground: Set<ContentID>

    /// Whether `id` starts no new request now.
    func yields(_ id: ContentID) -> Bool {
        if played.contains(id) { return false }
        if !played.isEmpty { return true }
        guard inBackground.contains(id) else { return false }
        return running.contains { !inBackground.contains($0) }
    }
}
