/// Writes protobuf's wire format.
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func string(_ field: Int, _ text: String?) {
        guard let text, !text.isEmpty else { return }
        message(field, Array(text.utf8))
    }

    mutating func bool(_ field: Int, _ value: Bool) {
        guard value else { return }
        varint(UInt64(field << 3))
        varint(1)
    }

    mutating func message(_ field: Int, _ body: [UInt8]) {
        varint(UInt64(field << 3 | 2))
        varint(UInt64(body.count))
        bytes += body
    }

    mutating func message(_ field: Int, _ build: (inout WireWriter) -> Void) {
        var inner = WireWriter()
        build(&inner)
        message(field, inner.bytes)
    }
}
