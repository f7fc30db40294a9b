import ContentID
import ControlAPI
import ControlWire
import MediaIndex
import Replication
import WireVocabulary

/// `mediapeerctl cache`, `cache evict`, `pin` and `unpin`: the fetcher decides, this words its answers.
extension LibraryControlHandler {
    func cache() async throws -> CacheReport {
        let contents = try await fetcher.cacheContents()
        // What the policy would say now; the cache is still listed when it cannot be asked.
        let pass = try? await replicator.plan(contents: contents)
        let valuations = Dictionary(
            (pass?.decision.replicas ?? []).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var replicas: [CacheReport.Replica] = []
        for entry in contents.entries {
            let replica = entry.replica
            let valuation = valuations[replica.id.hex]
            let use: String? =
                entry.played ? "playing" : entry.fetching ? "fetching" : entry.servedRecently ? "served" : nil
            replicas.append(
                CacheReport.Replica(
                    id: replica.id, title: try await library.catalog.title(of: replica.id) ?? replica.id.hex,
                    size: replica.size, bytesHeld: entry.bytesHeld, complete: replica.complete,
                    pinned: replica.pinned, use: use, demand: pass?.demand[replica.id]?.home,
                    valuePerByte: valuation?.valuePerByte, keptBecause: valuation?.keptBecause?.description))
        }
        return CacheReport(
            usedBytes: contents.usedBytes, quotaBytes: contents.quotaBytes, quota: contents.limit.description,
            replication: contents.settings.mode.rawValue, highWatermark: contents.settings.highWatermark,
            lowWatermark: contents.settings.lowWatermark, writtenToday: contents.writtenToday,
            dailyBudget: contents.settings.dailyBudget, replicas: replicas)
    }

    /// The user's own eviction: a pin does not stop it (pinning and then evicting means it), being read lately
    /// does only without `force`.
    func evict(_ reference: String, force: Bool) async throws -> CacheEviction {
        let object = try await resolved(reference)
        let prefix = object.id.hex.prefix(12)
        do {
            let record = try await fetcher.evict(
                object.id, reason: "mediapeerctl cache evict", overridingPin: true, evenIfInUse: force)
            return CacheEviction(
                id: object.id, title: object.title, bytesFreed: record.size, wasPinned: record.pinned)
        } catch {
            switch error {
            case .notInCache:
                let inMediaFolders: Bool
                if case .mediaFile? = try await library.catalog.localObject(object.id) {
                    inMediaFolders = true
                } else {
                    inMediaFolders = false
                }
                throw ControlRefusal.notFound(
                    "\"\(object.title)\" is not in this box's cache"
                        + (inMediaFolders ? " (it is in this box's media folders, which mediapeer never deletes)" : ""))
            case .fetching:
                throw ControlRefusal.conflict(
                    "\"\(object.title)\" is being fetched; mediapeerctl fetch --cancel \(prefix) stops the fetch and "
                        + "deletes what it fetched")
            case .inUse:
                throw ControlRefusal.conflict(
                    "\"\(object.title)\" is in use: \(error); --force evicts it anyway (a play under way keeps reading "
                        + "its open file, a seek after that fetches from another box)")
            case .pinned, .alreadyEvicting:
                throw ControlRefusal.conflict("\"\(object.title)\" was not evicted: \(error)")
            case .index(let error):
                throw error
            }
        }
    }

    /// A title held here (in the cache) is pinned at once; one not held here is fetched and pinned once its
    /// replica is recorded, since pinning says "keep this on this box". A title in the media folders is always
    /// kept, so there is nothing to pin.
    func pin(_ reference: String) async throws -> PinChange {
        let object = try await resolved(reference)
        switch try await library.catalog.localObject(object.id) {
        case .mediaFile?:
            throw ControlRefusal.conflict(
                "\"\(object.title)\" is in this box's media folders, which mediapeer never evicts; nothing to pin")
        case .replica?:
            _ = try await fetcher.setPinned(object.id, true)
            return PinChange(id: object.id, title: object.title, pinned: true, fetchStarted: false)
        case nil:
            do {
                _ = try await fetcher.fetch(object.id, title: object.title, pin: true)
            } catch .index(let error) {
                throw error
            } catch {
                throw ControlRefusal.conflict("\"\(object.title)\" cannot be fetched to pin it: \(error)")
            }
            return PinChange(
                id: object.id, title: object.title, pinned: true, fetchStarted: true,
                message: "not in this box yet: fetching it; it is pinned as soon as the fetch records it")
        }
    }

    func unpin(_ reference: String) async throws -> PinChange {
        let object = try await resolved(reference)
        guard try await fetcher.setPinned(object.id, false) else {
            throw ControlRefusal.notFound("\"\(object.title)\" is not in this box's cache")
        }
        return PinChange(id: object.id, title: object.title, pinned: false, fetchStarted: false)
    }

    private func resolved(_ reference: String) async throws -> ResolvedReference {
        do {
            return try await resolver.resolve(reference)
        } catch {
            throw Self.refusal(error)
        }
    }
}
