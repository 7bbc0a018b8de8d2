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

    /// kind → its records, each kind's spread over shards by key: a snapshot that a reader still holds is copied
    /// on the next write, and then only the shard that write touches is, not every record of the kind.
    private var kinds: [String: Shards] = [:]

    private struct Shards: Sendable {
        static let count = 64
        var shards = [[String: Entry]](repeating: [:], count: Shards.count)
        var total = 0

        static func shard(of key: String) -> Int {
            // FNV-1a: stable, cheap, and spreads keys that differ only at their end.
            var hash: UInt32 = 2_166_136_261
            for byte in key.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
            return Int(hash % UInt32(count))
        }
    }

    public init() {}

    public subscript(kind: String, key: String) -> Entry? {
        get { kinds[kind]?.shards[Shards.shard(of: key)][key] }
        set {
            let shard = Shards.shard(of: key)
            var shards = kinds.removeValue(forKey: kind) ?? Shards()
            let old = newValue == nil ? shards.shards[shard].removeValue(forKey: key) : shards.shards[shard].updateValue(newValue!, forKey: key)
            shards.total += (old == nil ? 0 : -1) + (newValue == nil ? 0 : 1)
            if shards.total > 0 { kinds[kind] = shards }
        }
    }

    public func body(kind: String, key: String) -> Data? {
        self[kind, key]?.body
    }

    public func bodies(kind: String, keyPrefix: String) -> [Data] {
        entries(kind: kind, keyPrefix: keyPrefix).map(\.value.body)
    }

    public func record<R: StoredRecord>(_ type: R.Type, key: String) throws -> R? {
        try self[R.kind, key]?.record(type)
    }

    public func records<R: StoredRecord>(_ type: R.Type, keyPrefix: String) throws -> [R] {
        try entries(kind: R.kind, keyPrefix: keyPrefix).map { try $0.value.record(type) }
    }

    public func count(kind: String, keyPrefix: String) -> Int {
        guard let shards = kinds[kind] else { return 0 }
        if keyPrefix.isEmpty { return shards.total }
        return shards.shards.reduce(0) { $0 + $1.keys.count { $0.hasPrefix(keyPrefix) } }
    }

    /// A kind's records whose keys start with `keyPrefix`, in creation order.
    func entries(kind: String, keyPrefix: String) -> [(key: String, value: Entry)] {
        guard let shards = kinds[kind] else { return [] }
        var matching: [(key: String, value: Entry)] = []
        matching.reserveCapacity(keyPrefix.isEmpty ? shards.total : 16)
        for shard in shards.shards {
            for (key, entry) in shard where keyPrefix.isEmpty || key.hasPrefix(keyPrefix) { matching.append((key, entry)) }
        }
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
