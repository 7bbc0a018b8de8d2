import Foundation

/// What a reader sees of the records: one engine's snapshot (SQLite's read transaction, or etcd's records as of
/// a revision). Bodies are the records' JSON.
public protocol RecordSource {
    func body(kind: String, key: String) throws -> Data?
    /// The bodies of a kind whose keys start with `keyPrefix`, in creation order.
    func bodies(kind: String, keyPrefix: String) throws -> [Data]
    func count(kind: String, keyPrefix: String) throws -> Int
    /// The record under `key`, decoded; a source that keeps decoded records answers without decoding again.
    func record<R: StoredRecord>(_ type: R.Type, key: String) throws -> R?
    /// The records whose keys start with `keyPrefix`, decoded, in creation order.
    func records<R: StoredRecord>(_ type: R.Type, keyPrefix: String) throws -> [R]
}

extension RecordSource {
    public func record<R: StoredRecord>(_ type: R.Type, key: String) throws -> R? {
        try body(kind: R.kind, key: key).map { try RecordCoding.decoder.decode(R.self, from: $0) }
    }

    public func records<R: StoredRecord>(_ type: R.Type, keyPrefix: String) throws -> [R] {
        try bodies(kind: R.kind, keyPrefix: keyPrefix).map { try RecordCoding.decoder.decode(R.self, from: $0) }
    }
}

/// A write transaction of an engine: reads see its own writes.
public protocol RecordSink: RecordSource {
    /// Throws `RecordExists` if the key is taken.
    func insert(kind: String, key: String, body: Data) throws
    /// Replaces the record (keeping its place in creation order) or inserts it.
    func save(kind: String, key: String, body: Data) throws
    func delete(kind: String, key: String) throws
}

/// Reads records inside a transaction or a read snapshot.
public struct RecordReader {
    let source: any RecordSource

    public init(_ source: any RecordSource) { self.source = source }

    public func get<R: StoredRecord>(_ type: R.Type, _ key: String) throws -> R? {
        try source.record(type, key: key)
    }

    /// All records of a kind in creation order, optionally only those whose key starts with `keyPrefix`.
    public func all<R: StoredRecord>(_ type: R.Type, keyPrefix: String = "") throws -> [R] {
        try source.records(type, keyPrefix: keyPrefix)
    }

    public func count<R: StoredRecord>(_ type: R.Type, keyPrefix: String = "") throws -> Int {
        try source.count(kind: R.kind, keyPrefix: keyPrefix)
    }
}

/// Reads and writes records inside one write transaction.
public struct RecordTransaction {
    let sink: any RecordSink

    public init(_ sink: any RecordSink) { self.sink = sink }

    public var reader: RecordReader { RecordReader(sink) }

    public func get<R: StoredRecord>(_ type: R.Type, _ key: String) throws -> R? {
        try reader.get(type, key)
    }

    public func all<R: StoredRecord>(_ type: R.Type, keyPrefix: String = "") throws -> [R] {
        try reader.all(type, keyPrefix: keyPrefix)
    }

    public func count<R: StoredRecord>(_ type: R.Type, keyPrefix: String = "") throws -> Int {
        try reader.count(type, keyPrefix: keyPrefix)
    }

    /// Inserts a new record; throws `RecordExists` if its key is taken.
    public func insert<R: StoredRecord>(_ record: R) throws {
        try sink.insert(kind: R.kind, key: record.storeKey, body: try RecordCoding.encode(record))
    }

    /// Replaces an existing record, keeping its place in creation order, or inserts it.
    public func save<R: StoredRecord>(_ record: R) throws {
        try sink.save(kind: R.kind, key: record.storeKey, body: try RecordCoding.encode(record))
    }

    public func delete<R: StoredRecord>(_ type: R.Type, _ key: String) throws {
        try sink.delete(kind: R.kind, key: key)
    }
}

/// An insert found its key already taken.
public struct RecordExists: Error, Equatable {
    public let kind: String
    public let key: String

    public init(kind: String, key: String) {
        self.kind = kind
        self.key = key
    }
}
