import KubeModel

/// Edits of encoded objects that leave the rest of their bytes as they are.
enum EncodedObject {
    /// The object with `metadata.resourceVersion` set, where its metadata has none: a stored object as
    /// served at a revision, without decoding and encoding it again. The member goes where the writer's key
    /// order puts it. Nil if the bytes are not such an object.
    static func settingResourceVersion(_ revision: Int64, in bytes: [UInt8]) -> [UInt8]? {
        let insertion = bytes.withUnsafeBufferPointer { buffer -> (offset: Int, leadingComma: Bool, trailingComma: Bool)? in
            var scanner = JSONParser(bytes: buffer)
            return try? scanner.resourceVersionInsertionPoint()
        }
        guard let insertion else { return nil }
        var member: [UInt8] = insertion.leadingComma ? [UInt8(ascii: ",")] : []
        member += Array("\"resourceVersion\":\"\(revision)\"".utf8)
        if insertion.trailingComma { member.append(UInt8(ascii: ",")) }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + member.count)
        result += bytes[..<insertion.offset]
        result += member
        result += bytes[insertion.offset...]
        return result
    }
}

extension JSONParser {
    private static let metadataKey = Array("metadata".utf8)
    private static let resourceVersionKey = Array("resourceVersion".utf8)

    /// Where `"resourceVersion":…` goes in the top-level `metadata` of compact JSON (as `JSONWriter` writes it).
    mutating func resourceVersionInsertionPoint() throws(Failure) -> (offset: Int, leadingComma: Bool, trailingComma: Bool)? {
        try expect(UInt8(ascii: "{"))
        while position < bytes.count, bytes[position] != UInt8(ascii: "}") {
            let key = try keyBytes()
            try expect(UInt8(ascii: ":"))
            if key.elementsEqual(Self.metadataKey) {
                try expect(UInt8(ascii: "{"))
                var first = true
                while position < bytes.count {
                    if bytes[position] == UInt8(ascii: "}") { return (position, !first, false) }
                    let memberStart = position
                    let metadataKey = try keyBytes()
                    if metadataKey.elementsEqual(Self.resourceVersionKey) { return nil }
                    if metadataKey.lexicographicallyPrecedes(Self.resourceVersionKey) == false { return (memberStart, false, true) }
                    try expect(UInt8(ascii: ":"))
                    try skipValue()
                    if position < bytes.count, bytes[position] == UInt8(ascii: ",") { position += 1 }
                    first = false
                }
                throw failure("unexpected end")
            }
            try skipValue()
            if position < bytes.count, bytes[position] == UInt8(ascii: ",") { position += 1 }
        }
        return nil
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        guard position < bytes.count, bytes[position] == byte else { throw failure("unexpected byte") }
        position += 1
    }

    /// A key's bytes as written (keys edited here have no escapes).
    private mutating func keyBytes() throws(Failure) -> UnsafeBufferPointer<UInt8>.SubSequence {
        let start = position
        try skipString()
        return bytes[(start + 1)..<(position - 1)]
    }

    private mutating func skipString() throws(Failure) {
        try expect(UInt8(ascii: "\""))
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\\"): position += 2
            case UInt8(ascii: "\""): position += 1; return
            default: position += 1
            }
        }
        throw failure("unterminated string")
    }

    /// Skips one value without building it.
    private mutating func skipValue() throws(Failure) {
        guard position < bytes.count else { throw failure("unexpected end") }
        switch bytes[position] {
        case UInt8(ascii: "\""):
            try skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "\""): try skipString(); continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { position += 1; return }
                default: break
                }
                position += 1
            }
            throw failure("unexpected end")
        default:
            // A number or literal: up to the next delimiter.
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"): return
                default: position += 1
                }
            }
        }
    }
}
