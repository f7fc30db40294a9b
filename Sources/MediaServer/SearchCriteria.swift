import WireVocabulary

/// The subset of the ContentDirectory search grammar this server answers, turned into a ``MediaSearch``.
///
/// Supported: `*`; `upnp:class derivedfrom "…"` and `upnp:class = "…"`; `contains` (and `=`) on `dc:title`,
/// `dc:creator`, `upnp:artist`, `upnp:album`, `upnp:genre`, which all search the same words in titles, artists and
/// albums; `exists` on any property (taken as true: every item has the properties control points ask about);
/// `and`, `or` and parentheses. An `or` is answered when its sides search the same words (such as
/// `dc:title contains "x" or upnp:artist contains "x"`) or no words; anything else is error 708.
enum SearchCriteria {
    static let maxLength = 1024
    private static let maxDepth = 16

    /// What a criteria string matches; nil when it can match nothing (containers only, say).
    static func parse(_ text: String) throws(UPnPError) -> MediaSearch? {
        guard text.utf8.count <= maxLength else { throw .invalidSearchCriteria }
        var parser = Parser(tokens: try tokenize(text))
        if parser.tokens == [.word("*")] { return MediaSearch(kinds: Set(MediaKind.titles), words: []) }
        let match = try parser.expression(depth: 0)
        guard parser.atEnd else { throw .invalidSearchCriteria }
        return match.search
    }

    // MARK: Tokens

    enum Token: Equatable {
        case word(String)
        case quoted(String)
        case open, close
    }

    private static func tokenize(_ text: String) throws(UPnPError) -> [Token] {
        var tokens: [Token] = []
        var characters = text.unicodeScalars[...]
        while let first = characters.first {
            if first == " " || first == "\t" || first == "\n" || first == "\r" {
                characters = characters.dropFirst()
            } else if first == "(" || first == ")" {
                tokens.append(first == "(" ? .open : .close)
                characters = characters.dropFirst()
            } else if first == "\"" {
                characters = characters.dropFirst()
                var value = String.UnicodeScalarView()
                var closed = false
                while let scalar = characters.popFirst() {
                    if scalar == "\\" {
                        guard let escaped = characters.popFirst() else { break }
                        value.append(escaped)
                    } else if scalar == "\"" {
                        closed = true
                        break
                    } else {
                        value.append(scalar)
                    }
                }
                guard closed else { throw .invalidSearchCriteria }
                tokens.append(.quoted(String(value)))
            } else {
                var value = String.UnicodeScalarView()
                while let scalar = characters.first, !" \t\n\r()\"".unicodeScalars.contains(scalar) {
                    value.append(scalar)
                    characters = characters.dropFirst()
                }
                tokens.append(.word(String(value)))
            }
        }
        return tokens
    }

    // MARK: Matches

    /// What a part of the criteria matches: items of `kinds` holding every word, or nothing.
    private struct Match {
        var kinds: Set<MediaKind>
        var words: [String]

        static let everything = Match(kinds: Set(MediaKind.titles), words: [])
        static let nothing = Match(kinds: [], words: [])

        var search: MediaSearch? { kinds.isEmpty ? nil : MediaSearch(kinds: kinds, words: words) }

        func and(_ other: Match) -> Match {
            Match(kinds: kinds.intersection(other.kinds), words: words + other.words.filter { !words.contains($0) })
        }

        func or(_ other: Match) throws(UPnPError) -> Match {
            if kinds.isEmpty { return other }
            if other.kinds.isEmpty { return self }
            guard Set(words) == Set(other.words) else { throw .invalidSearchCriteria }
            return Match(kinds: kinds.union(other.kinds), words: words)
        }
    }

    private static let classes: [(MediaKind, String)] = [
        (.video, "object.item.videoItem"), (.audio, "object.item.audioItem"), (.image, "object.item.imageItem"),
    ]
    private static let textProperties: Set<String> = [
        "dc:title", "dc:creator", "upnp:artist", "upnp:album", "upnp:genre", "upnp:author",
    ]

    private struct Parser {
        var tokens: [Token]
        var index = 0

        var atEnd: Bool { index == tokens.count }

        mutating func next() -> Token? {
            guard index < tokens.count else { return nil }
            defer { index += 1 }
            return tokens[index]
        }

        func peekWord() -> String? {
            guard index < tokens.count, case .word(let word) = tokens[index] else { return nil }
            return word.lowercased()
        }

        /// `or` binds looser than `and`.
        mutating func expression(depth: Int) throws(UPnPError) -> Match {
            var match = try conjunction(depth: depth)
            while peekWord() == "or" {
                index += 1
                match = try match.or(try conjunction(depth: depth))
            }
            return match
        }

        mutating func conjunction(depth: Int) throws(UPnPError) -> Match {
            var match = try primary(depth: depth)
            while peekWord() == "and" {
                index += 1
                match = match.and(try primary(depth: depth))
            }
            return match
        }

        mutating func primary(depth: Int) throws(UPnPError) -> Match {
            guard depth < SearchCriteria.maxDepth else { throw .invalidSearchCriteria }
            switch next() {
            case .open:
                let match = try expression(depth: depth + 1)
                guard next() == .close else { throw .invalidSearchCriteria }
                return match
            case .word(let property):
                guard case .word(let operation) = next(), let operand = next() else { throw .invalidSearchCriteria }
                return try relation(property: property, operation: operation, operand: operand)
            default:
                throw .invalidSearchCriteria
            }
        }

        func relation(property: String, operation: String, operand: Token) throws(UPnPError) -> Match {
            if operation == "exists" {
                guard case .word(let value) = operand, value == "true" || value == "false" else {
                    throw .invalidSearchCriteria
                }
                return .everything
            }
            guard case .quoted(let value) = operand else { throw .invalidSearchCriteria }
            if property == "upnp:class", operation == "derivedfrom" || operation == "=" {
                let kinds = SearchCriteria.classes.filter { $0.1.hasPrefix(value) || value.hasPrefix($0.1) }.map(\.0)
                return kinds.isEmpty ? .nothing : Match(kinds: Set(kinds), words: [])
            }
            if SearchCriteria.textProperties.contains(property), operation == "contains" || operation == "=" {
                let words = value.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
                return Match(kinds: Set(MediaKind.titles), words: words)
            }
            throw .invalidSearchCriteria
        }
    }
}
