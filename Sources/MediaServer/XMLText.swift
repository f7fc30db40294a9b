/// Text made safe for XML character data and attribute values.
enum XMLText {
    /// Escapes the five special characters, and drops the control characters XML 1.0 cannot carry at all (a tag
    /// read from a file may hold any byte), so every document this module writes is well-formed.
    ///
    /// Works on the UTF-8 bytes: a Browse answer escapes every title and then its whole DIDL-Lite document, and
    /// appending scalar by scalar took a third of the daemon's time per page. Text with nothing to change (most of
    /// it) is returned as it is.
    static func escape(_ text: String) -> String {
        var text = text
        let escaped: String? = text.withUTF8 { bytes in
            var length = 0
            var changes = false
            var index = 0
            while index < bytes.count {
                let (replacement, consumed) = Self.replacement(bytes, at: index)
                if let replacement {
                    length += replacement.utf8CodeUnitCount
                    changes = true
                } else {
                    length += consumed
                }
                index += consumed
            }
            guard changes else { return nil }
            return String(unsafeUninitializedCapacity: length) { output in
                var written = 0
                var index = 0
                while index < bytes.count {
                    let (replacement, consumed) = Self.replacement(bytes, at: index)
                    if let replacement {
                        for offset in 0..<replacement.utf8CodeUnitCount {
                            output[written] = replacement.utf8Start[offset]
                            written += 1
                        }
                    } else {
                        for offset in 0..<consumed {
                            output[written] = bytes[index + offset]
                            written += 1
                        }
                    }
                    index += consumed
                }
                return written
            }
        }
        return escaped ?? text
    }

    /// What the character at `index` becomes (nil: itself; empty: dropped) and how many bytes it has.
    @inline(__always)
    private static func replacement(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (StaticString?, Int) {
        switch bytes[index] {
        case UInt8(ascii: "&"): ("&amp;", 1)
        case UInt8(ascii: "<"): ("&lt;", 1)
        case UInt8(ascii: ">"): ("&gt;", 1)
        case UInt8(ascii: "\""): ("&quot;", 1)
        case UInt8(ascii: "'"): ("&apos;", 1)
        case UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): (nil, 1)
        case ..<0x20: ("", 1)
        // U+FFFE and U+FFFF, EF BF BE and EF BF BF: not characters in XML. A String's bytes are valid UTF-8, so
        // a lead byte EF has its two continuation bytes.
        case 0xEF where bytes[index + 1] == 0xBF && bytes[index + 2] >= 0xBE: ("", 3)
        default: (nil, 1)
        }
    }
}
