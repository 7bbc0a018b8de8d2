import Foundation

/// Encodes `Encodable` values as `JSON`, for `JSONWriter` to write: the wire's answers without Foundation's
/// `JSONEncoder`, whose boxing and bridging cost more than the rest of a small request. Dates are seconds since
/// 1970 (the AWS JSON protocols' timestamps), `Data` is base64, `URL` its absolute string; `nil` optionals are
/// left out, as `JSONEncoder` leaves them. Coding paths are not tracked (nothing Skiff encodes reads them).
public struct JSONValueEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> JSON {
        let node = EncodingNode()
        try node.encode(value, codingPath: [])
        return node.json
    }

    /// Encodes `value` straight to bytes.
    public func encodeToBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        JSONWriter.encode(try encode(value))
    }
}

private extension JSON {
    /// An unsigned number: exact while it fits an Int64.
    static func unsigned(_ value: some UnsignedInteger) -> JSON {
        Int64(exactly: value).map(JSON.int) ?? .double(Double(value))
    }
}

/// One value being encoded: filled by exactly one container kind.
private final class EncodingNode {
    var value: JSON?
    var object: [String: EncodingNode]?
    var array: [EncodingNode]?

    var json: JSON {
        if let object { return .object(object.mapValues(\.json)) }
        if let array { return .array(array.map(\.json)) }
        return value ?? .object([:])
    }

    func encode<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
        switch value {
        case let date as Date: self.value = .double(date.timeIntervalSince1970)
        case let data as Data: self.value = .string(data.base64EncodedString())
        case let url as URL: self.value = .string(url.absoluteString)
        case let json as JSON: self.value = json
        default: try value.encode(to: EncodingNodeEncoder(node: self, codingPath: codingPath))
        }
    }

    func child(forKey key: String) -> EncodingNode {
        if object == nil { object = [:] }
        if let existing = object?[key] { return existing }
        let node = EncodingNode()
        object![key] = node
        return node
    }

    func appended() -> EncodingNode {
        if array == nil { array = [] }
        let node = EncodingNode()
        array!.append(node)
        return node
    }
}

private struct EncodingNodeEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if node.object == nil { node.object = [:] }
        return KeyedEncodingContainer(NodeKeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if node.array == nil { node.array = [] }
        return NodeUnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        NodeSingleContainer(node: node, codingPath: codingPath)
    }
}

private struct NodeKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    private func set(_ value: JSON, _ key: Key) { node.child(forKey: key.stringValue).value = value }

    mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(.double(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(.double(Double(value)), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(.int(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(.unsigned(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(.unsigned(value), key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try node.child(forKey: key.stringValue).encode(value, codingPath: codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                        forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = node.child(forKey: key.stringValue)
        if child.object == nil { child.object = [:] }
        return KeyedEncodingContainer(NodeKeyedContainer<NestedKey>(node: child, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = node.child(forKey: key.stringValue)
        if child.array == nil { child.array = [] }
        return NodeUnkeyedContainer(node: child, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder {
        EncodingNodeEncoder(node: node.child(forKey: "super"), codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        EncodingNodeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath)
    }
}

private struct NodeUnkeyedContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var count: Int { node.array?.count ?? 0 }

    private func append(_ value: JSON) { node.appended().value = value }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(.double(value)) }
    mutating func encode(_ value: Float) throws { append(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { append(.int(value)) }
    mutating func encode(_ value: UInt) throws { append(.unsigned(value)) }
    mutating func encode(_ value: UInt8) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { append(.unsigned(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try node.appended().encode(value, codingPath: codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = node.appended()
        child.object = [:]
        return KeyedEncodingContainer(NodeKeyedContainer<NestedKey>(node: child, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = node.appended()
        child.array = []
        return NodeUnkeyedContainer(node: child, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder {
        EncodingNodeEncoder(node: node.appended(), codingPath: codingPath)
    }
}

private struct NodeSingleContainer: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.value = .null }
    mutating func encode(_ value: Bool) throws { node.value = .bool(value) }
    mutating func encode(_ value: String) throws { node.value = .string(value) }
    mutating func encode(_ value: Double) throws { node.value = .double(value) }
    mutating func encode(_ value: Float) throws { node.value = .double(Double(value)) }
    mutating func encode(_ value: Int) throws { node.value = .int(Int64(value)) }
    mutating func encode(_ value: Int8) throws { node.value = .int(Int64(value)) }
    mutating func encode(_ value: Int16) throws { node.value = .int(Int64(value)) }
    mutating func encode(_ value: Int32) throws { node.value = .int(Int64(value)) }
    mutating func encode(_ value: Int64) throws { node.value = .int(value) }
    mutating func encode(_ value: UInt) throws { node.value = .unsigned(value) }
    mutating func encode(_ value: UInt8) throws { node.value = .int(Int64(value)) }
    mutating func encode(_ value: UInt16) throws { node.value = .int(Int64(value)) }
    mutating func encode(_ value: UInt32) throws { node.value = .int(Int64(value)) }
    mutating func encode(_ value: UInt64) throws { node.value = .unsigned(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try node.encode(value, codingPath: codingPath)
    }
}
