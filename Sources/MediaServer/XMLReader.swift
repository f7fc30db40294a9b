/// An element of a small XML document, as ``XMLReader`` read it.
struct XMLElement: Sendable, Equatable {
    /// The name without its prefix (`Browse` for `u:Browse`).
    var localName: String
    /// The namespace the element's prefix (or the default namespace) was bound to; nil when unbound.
    var namespace: String?
    /// Attributes by their name as written (`xmlns:u`, `s:encodingStyle`).
    var attributes: [String: String]
    var children: [XMLElement]
    /// The element's own character data (text and CDATA, entities resolved), children's text excluded.
    var text: String

    /// The first child element with this local name.
    func child(_ localName: String) -> XMLElement? {
        children.first { $0.localName == localName }
    }
}

/// Why a document was refused.
enum XMLReadError: Error, Equatable {
    case tooLarge
    case tooDeep
    case tooManyElements
    /// A document type declaration: refused outright, it is where entity tricks (billion laughs, XXE) live.
    case doctype
    /// An entity reference other than the five predefined ones and numeric character references.
    case undefinedEntity
    case malformed(String)
}

/// A bounded, non-validating reader for the small XML documents control points send (SOAP envelopes).
///
/// It knows no DTDs: a `<!DOCTYPE` is refused, so no entity can be declared, and the only references resolved are
/// `&lt; &gt; &amp; &apos; &quot;` and `&#…;`/`&#x…;`. Size, depth and element count are bounded before any work.
struct XMLReader {
    struct Limits: Sendable {
        var maxBytes = 64 * 1024
        var maxDepth = 24
        var maxElements = 512
        var maxAttributesPerElement = 32
    }

    private let bytes: [UInt8]
    private let limits: Limits
    private var position = 0
    private var elementCount = 0

    private init(bytes: [UInt8], limits: Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// The root element of `bytes`.
    static func read(_ bytes: [UInt8], limits: Limits = Limits()) throws(XMLReadError) -> XMLElement {
        guard bytes.count <= limits.maxBytes else { throw .tooLarge }
        var reader = XMLReader(bytes: bytes, limits: limits)
        return try reader.document()
    }

    // MARK: Document

    private mutating func document() throws(XMLReadError) -> XMLElement {
        // A UTF-8 byte order mark, as some Windows control points send.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        try skipMisc()
        guard peek() == UInt8(ascii: "<") else { throw .malformed("no root element") }
        let root = try element(depth: 1, scopes: [[:]])
        try skipMisc()
        guard position == bytes.count else { throw .malformed("content after the root element") }
        return root
    }

    /// Whitespace, comments and processing instructions (the XML declaration among them) outside the root.
    private mutating func skipMisc() throws(XMLReadError) {
        while true {
            skipWhitespace()
            if starts(with: "<?") {
                try skip(past: "?>")
            } else if starts(with: "<!--") {
                try skip(past: "-->")
            } else if starts(with: "<!") {
                throw starts(with: "<!DOCTYPE") ? .doctype : .malformed("unexpected declaration")
            } else {
                return
            }
        }
    }

    // MARK: Elements

    private mutating func element(depth: Int, scopes: [[String: String]]) throws(XMLReadError) -> XMLElement {
        guard depth <= limits.maxDepth else { throw .tooDeep }
        elementCount += 1
        guard elementCount <= limits.maxElements else { throw .tooManyElements }
        position += 1  // "<"
        let qualifiedName = try name()
        var attributes: [String: String] = [:]
        var empty = false
        while true {
            let hadSpace = skipWhitespace()
            guard let byte = peek() else { throw .malformed("unterminated tag <\(qualifiedName)>") }
            if byte == UInt8(ascii: ">") {
                position += 1
                break
            }
            if byte == UInt8(ascii: "/") {
                guard peek(at: 1) == UInt8(ascii: ">") else { throw .malformed("stray / in <\(qualifiedName)>") }
                position += 2
                empty = true
                break
            }
            guard hadSpace else { throw .malformed("attributes of <\(qualifiedName)> not separated") }
            let attributeName = try name()
            skipWhitespace()
            guard peek() == UInt8(ascii: "=") else { throw .malformed("attribute \(attributeName) without value") }
            position += 1
            skipWhitespace()
            let value = try attributeValue()
            guard attributes.updateValue(value, forKey: attributeName) == nil else {
                throw .malformed("attribute \(attributeName) repeated")
            }
            guard attributes.count <= limits.maxAttributesPerElement else { throw .malformed("too many attributes") }
        }
        var scope = scopes.last ?? [:]
        for (attributeName, value) in attributes {
            if attributeName == "xmlns" {
                scope[""] = value
            } else if attributeName.hasPrefix("xmlns:") {
                scope[String(attributeName.dropFirst(6))] = value
            }
        }
        let (prefix, localName) = Self.split(qualifiedName)
        var result = XMLElement(
            localName: localName, namespace: scope[prefix ?? ""].flatMap { $0.isEmpty ? nil : $0 },
            attributes: attributes, children: [], text: "")
        if empty { return result }
        let innerScopes = scopes + [scope]
        var text: [UInt8] = []
        while true {
            guard let byte = peek() else { throw .malformed("<\(qualifiedName)> not closed") }
            if byte == UInt8(ascii: "&") {
                text += try reference()
            } else if byte != UInt8(ascii: "<") {
                text.append(byte)
                position += 1
            } else if starts(with: "</") {
                position += 2
                let closing = try name()
                skipWhitespace()
                guard closing == qualifiedName, peek() == UInt8(ascii: ">") else {
                    throw .malformed("</\(closing)> closes <\(qualifiedName)>")
                }
                position += 1
                break
            } else if starts(with: "<!--") {
                try skip(past: "-->")
            } else if starts(with: "<![CDATA[") {
                position += 9
                let start = position
                try skip(past: "]]>")
                text += bytes[start..<(position - 3)]
            } else if starts(with: "<!") {
                throw starts(with: "<!DOCTYPE") || starts(with: "<!ENTITY") ? .doctype : .malformed("declaration")
            } else if starts(with: "<?") {
                try skip(past: "?>")
            } else {
                result.children.append(try element(depth: depth + 1, scopes: innerScopes))
            }
        }
        guard let decoded = String(validating: text, as: UTF8.self) else { throw .malformed("text is not UTF-8") }
        result.text = decoded
        return result
    }

    private static func split(_ qualifiedName: String) -> (prefix: String?, localName: String) {
        guard let colon = qualifiedName.firstIndex(of: ":") else { return (nil, qualifiedName) }
        return (String(qualifiedName[..<colon]), String(qualifiedName[qualifiedName.index(after: colon)...]))
    }

    private mutating func name() throws(XMLReadError) -> String {
        let start = position
        while let byte = peek(), Self.isNameByte(byte) { position += 1 }
        guard position > start, position - start <= 256,
            let name = String(validating: bytes[start..<position], as: UTF8.self)
        else { throw .malformed("expected a name") }
        return name
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: ":"), 0x80...0xFF:
            true
        default: false
        }
    }

    private mutating func attributeValue() throws(XMLReadError) -> String {
        guard let quote = peek(), quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else {
            throw .malformed("attribute value not quoted")
        }
        position += 1
        var value: [UInt8] = []
        while true {
            guard let byte = peek() else { throw .malformed("attribute value not closed") }
            if byte == quote {
                position += 1
                break
            }
            if byte == UInt8(ascii: "<") { throw .malformed("< in an attribute value") }
            if byte == UInt8(ascii: "&") {
                value += try reference()
            } else {
                value.append(byte)
                position += 1
            }
        }
        guard let decoded = String(validating: value, as: UTF8.self) else { throw .malformed("value is not UTF-8") }
        return decoded
    }

    /// The bytes an entity or character reference at `position` stands for.
    private mutating func reference() throws(XMLReadError) -> [UInt8] {
        position += 1  // "&"
        let start = position
        while let byte = peek(), byte != UInt8(ascii: ";"), position - start < 12 { position += 1 }
        guard peek() == UInt8(ascii: ";") else { throw .malformed("unterminated reference") }
        let name = String(decoding: bytes[start..<position], as: UTF8.self)
        position += 1
        switch name {
        case "lt": return [UInt8(ascii: "<")]
        case "gt": return [UInt8(ascii: ">")]
        case "amp": return [UInt8(ascii: "&")]
        case "apos": return [UInt8(ascii: "'")]
        case "quot": return [UInt8(ascii: "\"")]
        default: break
        }
        guard name.hasPrefix("#") else { throw .undefinedEntity }
        let digits = name.dropFirst()
        let value: UInt32? =
            digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
        guard let value, let scalar = Unicode.Scalar(value), value != 0 else {
            throw .malformed("invalid character reference &\(name);")
        }
        return Array(String(Character(scalar)).utf8)
    }

    // MARK: Bytes

    private func peek(at offset: Int = 0) -> UInt8? {
        position + offset < bytes.count ? bytes[position + offset] : nil
    }

    private func starts(with literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        return literal.withUTF8Buffer { bytes[position..<(position + count)].elementsEqual($0) }
    }

    @discardableResult
    private mutating func skipWhitespace() -> Bool {
        let start = position
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
        return position > start
    }

    /// Moves past the next `terminator`.
    private mutating func skip(past terminator: StaticString) throws(XMLReadError) {
        while position < bytes.count {
            if starts(with: terminator) {
                position += terminator.utf8CodeUnitCount
                return
            }
            position += 1
        }
        throw .malformed("unterminated \(terminator)")
    }
}
