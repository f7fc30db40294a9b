import ContentID
import ControlWire
import MediaIndex
import WireVocabulary

/// One object of the home, as a reference named it.
public struct ResolvedReference: Sendable, Equatable {
    public var id: ContentID
    /// What the object is shown as (its title tag, or its file name).
    public var title: String

    public init(id: ContentID, title: String) {
        self.id = id
        self.title = title
    }
}

/// Why a reference names no single object.
public enum ResolutionError: Error, Equatable, CustomStringConvertible {
    /// Nothing in the home matches.
    case noMatch(reference: String)
    /// Several content ids start with these digits.
    case ambiguousPrefix(prefix: String, candidates: [ContentID])
    /// Several objects match the words and none has exactly that title. `candidates` are the best matches first,
    /// at most ``ReferenceResolver/maximumCandidates``.
    case ambiguousTitle(reference: String, candidates: [ResolvedReference])
    case index(IndexError)

    public var description: String {
        switch self {
        case .noMatch(let reference): "nothing in the home matches \"\(reference)\""
        case .ambiguousPrefix(let prefix, let candidates): "the prefix \(prefix) matches \(candidates.count) objects"
        case .ambiguousTitle(let reference, let candidates): "\"\(reference)\" matches \(candidates.count) objects"
        case .index(let error): "\(error)"
        }
    }
}

/// Turns what a user typed into one object of the home.
public protocol ReferenceResolving: Sendable {
    func resolve(_ reference: String) async throws(ResolutionError) -> ResolvedReference
}

/// Resolves a content id, a unique prefix of one (8 or more hex digits), or words of a title, over this box and
/// the catalogs of the neighbours online now.
///
/// ```swift
/// let resolver = ReferenceResolver(catalog: library.catalog, neighbourhood: network)
/// let holiday = try await resolver.resolve("holiday")   // the only object whose title or path has that word
/// ```
///
/// Words match the start of words in titles, artists, albums and paths. Among several matches, the one whose
/// title is exactly the reference (ignoring case) wins, so a short title stays reachable beside longer ones that
/// contain it.
public struct ReferenceResolver: ReferenceResolving {
    /// Matches looked at for a title (and so the most an ambiguity lists).
    public static let maximumCandidates = 20

    private let catalog: Catalog
    private let neighbourhood: any Neighbourhood

    public init(catalog: Catalog, neighbourhood: any Neighbourhood) {
        self.catalog = catalog
        self.neighbourhood = neighbourhood
    }

    public func resolve(_ reference: String) async throws(ResolutionError) -> ResolvedReference {
        if let id = ContentID(hex: reference) { return try await named(id) }
        let ids: [ContentID]
        do {
            ids = try await catalog.contentIDs(withPrefix: reference, limit: 2)
        } catch {
            throw .index(error)
        }
        if ids.count > 1 { throw .ambiguousPrefix(prefix: reference, candidates: ids) }
        if let id = ids.first { return try await named(id) }
        return try await resolveTitle(reference)
    }

    private func resolveTitle(_ reference: String) async throws(ResolutionError) -> ResolvedReference {
        let online = await neighbourhood.neighbours().map(\.peerID)
        let items: [HomeItem]
        do {
            items = try await catalog.searchHome(reference, kind: nil, limit: Self.maximumCandidates, online: online)
        } catch {
            throw .index(error)
        }
        // A local file not hashed yet has no content id: it cannot be fetched, and needs not be.
        let found = items.compactMap { item in item.id.map { ResolvedReference(id: $0, title: item.displayTitle) } }
        let exact = found.filter { $0.title.lowercased() == reference.lowercased() }
        let candidates = exact.count == 1 ? exact : found
        guard let first = candidates.first else { throw .noMatch(reference: reference) }
        guard candidates.count == 1 else { throw .ambiguousTitle(reference: reference, candidates: candidates) }
        return first
    }

    private func named(_ id: ContentID) async throws(ResolutionError) -> ResolvedReference {
        do {
            return ResolvedReference(id: id, title: try await catalog.title(of: id) ?? id.hex)
        } catch {
            throw .index(error)
        }
    }
}
