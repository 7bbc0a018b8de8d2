import Foundation

/// A JSON value: Kubernetes objects are handled as documents, the way the API
/// server's unstructured path handles them, with typed accessors for the
/// fields the server itself reads and writes.
public enum JSON: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    public subscript(key: String) -> JSON? {
        get {
            guard case .object(let fields) = self else { return nil }
            return fields[key]
        }
        set {
            guard case .object(var fields) = self else {
                if let newValue { self = .object([key: newValue]) }
                return
            }
            fields[key] = newValue
            self = .object(fields)
        }
    }

    /// The value at a path of object keys, e.g. `["metadata", "name"]`.
    public subscript(path path: [String]) -> JSON? {
        get {
            var value: JSON? = self
            for key in path { value = value?[key] }
            return value
        }
        set {
            guard let first = path.first else {
                self = newValue ?? .null
                return
            }
            var child = self[first] ?? .object([:])
            if path.count == 1 {
                self[first] = newValue
                return
            }
            child[path: Array(path.dropFirst())] = newValue
            self[first] = child
        }
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var int: Int64? {
        switch self {
        case .int(let value): value
        case .double(let value) where value == value.rounded(): Int64(exactly: value)
        default: nil
        }
    }

    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var array: [JSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var object: [String: JSON]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// A map of strings (labels, annotations, selectors); other values are skipped.
    public var stringMap: [String: String] {
        (object ?? [:]).compactMapValues(\.string)
    }

    public static func strings(_ map: [String: String]) -> JSON {
        .object(map.mapValues { .string($0) })
    }

    public var isNull: Bool { self == .null }

    /// The object with `other`'s fields added (replacing its own of the same name); other values unchanged.
    public func merging(_ other: JSON) -> JSON {
        guard case .object(var fields) = self, case .object(let added) = other else { return self }
        fields.merge(added) { $1 }
        return .object(fields)
    }
}

extension JSON: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
    public init(nilLiteral: ()) { self = .null }
}

/// Reading and writing JSON documents.
public enum JSONCoding {
    package static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static func encode(_ value: JSON) -> [UInt8] {
        JSONWriter.encode(value)
    }

    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try encoder.encode(value))
    }

    public static func decode(_ bytes: [UInt8]) throws -> JSON {
        try JSONParser.parse(bytes)
    }
}
