import Foundation
import Synchronization

/// Where a record stands in creation order, which list operations return: for SQLite its row's sequence
/// number, for etcd its create revision and its place among the records that revision created.
public struct RecordOrder: Comparable, Sendable {
    public let major: Int64
    public let minor: UInt64

    public init(_ major: Int64, _ minor: UInt64 = 0) {
        self.major = major
        self.minor = minor
    }

    public static func < (a: RecordOrder, b: RecordOrder) -> Bool {
        (a.major, a.minor) < (b.major, b.minor)
    }
}

/// Every record of a region in memory, as the engines hold them to serve reads without touching disk or network.
public struct RecordSnapshot: Sendable, RecordSource {
    public struct Entry: Sendable {
        public let body: Data
        public let order: RecordOrder
        /// The body decoded, once something has read it: snapshots share it, as they share the body.
        let decoded = DecodedRecord()

        public init(body: Data, order: RecordOrder) {
            self.body = body
            self.order = order
        }

        func record<R: StoredRecord>(_ type: R.Type) throws -> R {
            if let record = decoded.value.withLock({ $0 }) as? R { return record }
            let record = try RecordCoding.decoder.decode(R.self, from: body)
            decoded.value.withLock { $0 = record }
            return record
        }
    }

    final class DecodedRecord: Sendable {
        let value = Mutex<(any Sendable)?>(nil)
    }

    /// kind → key → entry.
    public var records: [String: [String: Entry]] = [:]

    public init() {}

    public subscript(kind: String, key: String) -> Entry? {
        get { records[kind]?[key] }
        set { records[kind, default: [:]][key] = newValue }
    }

    public func body(kind: String, key: String) -> Data? {
        records[kind]?[key]?.body
    }

    public func bodies(kind: String, keyPrefix: String) -> [Data] {
        entries(kind: kind, keyPrefix: keyPrefix).map(\.value.body)
    }

    public func record<R: StoredRecord>(_ type: R.Type, key: String) throws -> R? {
        try records[R.kind]?[key]?.record(type)
    }

    public func records<R: StoredRecord>(_ type: R.Type, keyPrefix: String) throws -> [R] {
        try entries(kind: R.kind, keyPrefix: keyPrefix).map { try $0.value.record(type) }
    }

    public func count(kind: String, keyPrefix: String) -> Int {
        guard let all = records[kind] else { return 0 }
        return keyPrefix.isEmpty ? all.count : all.keys.count { $0.hasPrefix(keyPrefix) }
    }

    /// A kind's records whose keys start with `keyPrefix`, in creation order.
    func entries(kind: String, keyPrefix: String) -> [(key: String, value: Entry)] {
        let all = records[kind] ?? [:]
        let matching = keyPrefix.isEmpty ? Array(all) : all.filter { $0.key.hasPrefix(keyPrefix) }
        return matching.sorted { $0.value.order < $1.value.order }
    }
}

/// A write transaction's view: a snapshot with the transaction's own changes over it, which the engine commits
/// (or drops) as a whole.
public final class SnapshotRecords: RecordSink {
    public struct Name: Hashable, Sendable {
        public let kind: String
        public let key: String
    }

    public let snapshot: RecordSnapshot
    /// nil: deleted.
    public private(set) var changes: [Name: Data?] = [:]
    /// The order of the changes, and so of the records this transaction creates.
    private var order: [Name] = []

    public init(snapshot: RecordSnapshot) { self.snapshot = snapshot }

    public var orderedChanges: [(Name, Data?)] { order.map { ($0, changes[$0]!) } }

    public func body(kind: String, key: String) throws -> Data? {
        if let changed = changes[Name(kind: kind, key: key)] { return changed }
        return snapshot.body(kind: kind, key: key)
    }

    public func bodies(kind: String, keyPrefix: String) throws -> [Data] {
        let stored = snapshot.entries(kind: kind, keyPrefix: keyPrefix)
        guard !changes.isEmpty else { return stored.map(\.value.body) }
        // The snapshot's records in their order, as this transaction changed them; then what it creates, in its order.
        var result: [Data] = []
        for (key, entry) in stored {
            switch changes[Name(kind: kind, key: key)] {
            case .some(.some(let body)): result.append(body)
            case .some(.none): continue
            case .none: result.append(entry.body)
            }
        }
        for name in order where name.kind == kind && name.key.hasPrefix(keyPrefix) && snapshot[name.kind, name.key] == nil {
            if let body = changes[name] ?? nil { result.append(body) }
        }
        return result
    }

    public func record<R: StoredRecord>(_ type: R.Type, key: String) throws -> R? {
        if let changed = changes[Name(kind: R.kind, key: key)] {
            return try changed.map { try RecordCoding.decoder.decode(R.self, from: $0) }
        }
        return try snapshot.record(type, key: key)
    }

    public func records<R: StoredRecord>(_ type: R.Type, keyPrefix: String) throws -> [R] {
        guard !changes.isEmpty else { return try snapshot.records(type, keyPrefix: keyPrefix) }
        return try bodies(kind: R.kind, keyPrefix: keyPrefix).map { try RecordCoding.decoder.decode(R.self, from: $0) }
    }

    public func count(kind: String, keyPrefix: String) throws -> Int {
        guard !changes.isEmpty else { return snapshot.count(kind: kind, keyPrefix: keyPrefix) }
        return try bodies(kind: kind, keyPrefix: keyPrefix).count
    }

    public func insert(kind: String, key: String, body: Data) throws {
        if try self.body(kind: kind, key: key) != nil { throw RecordExists(kind: kind, key: key) }
        record(Name(kind: kind, key: key), body)
    }

    public func save(kind: String, key: String, body: Data) throws {
        record(Name(kind: kind, key: key), body)
    }

    public func delete(kind: String, key: String) throws {
        record(Name(kind: kind, key: key), nil)
    }

    private func record(_ name: Name, _ body: Data?) {
        if changes.updateValue(body, forKey: name) == nil { order.append(name) }
    }
}
