/// One ISO base media (MP4, QuickTime, HEIF) box: where its payload starts
/// and where it ends, clamped to its parent.
struct ISOBox {
    let type: UInt32
    let start: Int64
    let payload: Int64
    let end: Int64

    var payloadLength: Int64 { end - payload }
}

/// Walks ISO base media boxes through a ``BoundedReader``, reading only box
/// headers and the payloads asked for, so a multi-gigabyte `mdat` costs one
/// 16-byte read.
struct ISOBoxWalker {
    /// Children examined per container; real files have a handful, hostile
    /// ones can chain millions of 8-byte boxes.
    static let maxChildren = 1024

    let reader: BoundedReader

    /// The box header at `offset`, or nil if there is none that fits before `parentEnd`.
    ///
    /// A size of 1 means a 64-bit size follows; 0 means "to the end of the
    /// parent" (the file, at top level). A box claiming to run past its parent
    /// (a truncated file) is clamped to the parent, so what is there can still be read.
    func header(at offset: Int64, parentEnd: Int64) -> ISOBox? {
        guard offset >= 0, offset < parentEnd, parentEnd - offset >= 8,
            let bytes = reader.bytes(at: offset, count: 8),
            let size32 = bytes.u32be(0), let type = bytes.u32be(4)
        else { return nil }
        var headerLength: Int64 = 8
        let size: Int64
        switch size32 {
        case 1:
            guard parentEnd - offset >= 16, let large = reader.bytes(at: offset + 8, count: 8)?.u64be(0),
                large <= UInt64(Int64.max)
            else { return nil }
            headerLength = 16
            size = Int64(large)
        case 0:
            size = parentEnd - offset
        default:
            size = Int64(size32)
        }
        guard size >= headerLength else { return nil }
        let (end, overflow) = offset.addingReportingOverflow(size)
        return ISOBox(
            type: type, start: offset, payload: offset + headerLength, end: overflow ? parentEnd : min(end, parentEnd))
    }

    /// Calls `body` with each child box in `payload..<end` until it returns false.
    ///
    /// Terminates on any input: every box is at least 8 bytes long, and the
    /// number of children is capped.
    func forEachChild(from payload: Int64, to end: Int64, _ body: (ISOBox) -> Bool) {
        var offset = payload
        var count = 0
        while count < Self.maxChildren, let box = header(at: offset, parentEnd: end) {
            count += 1
            guard body(box) else { return }
            offset = box.end
        }
    }

    /// The first child of the given type.
    func firstChild(_ type: UInt32, in parent: ISOBox) -> ISOBox? {
        var found: ISOBox?
        forEachChild(from: parent.payload, to: parent.end) { box in
            if box.type == type { found = box }
            return found == nil
        }
        return found
    }

    /// The payload of `box`, at most `limit` bytes of it.
    func payload(of box: ISOBox, limit: Int = 64 << 10) -> ArraySlice<UInt8>? {
        reader.bytes(upTo: Int(min(box.payloadLength, Int64(limit))), at: box.payload)
    }
}
