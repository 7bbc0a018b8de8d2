import Foundation
import GRDB

/// Reads records inside a transaction or a read snapshot.
public struct RecordReader {
    let db: Database

    public func get<R: StoredRecord>(_ type: R.Type, _ key: String) throws -> R? {
        guard let body = try Data.fetchOne(db, sql: "SELECT body FROM record WHERE kind = ? AND key = ?",
                                           arguments: [R.kind, key]) else { return nil }
        return try RecordCoding.decoder.decode(R.self, from: body)
    }

    /// All records of a kind in creation order, optionally only those whose key starts with `keyPrefix`.
    public func all<R: StoredRecord>(_ type: R.Type, keyPrefix: String = "") throws -> [R] {
        let bodies: [Data]
        if keyPrefix.isEmpty {
            bodies = try Data.fetchAll(db, sql: "SELECT body FROM record WHERE kind = ? ORDER BY seq",
                                       arguments: [R.kind])
        } else {
            // substr instead of LIKE: keys may contain % and _.
            bodies = try Data.fetchAll(db, sql: """
                SELECT body FROM record WHERE kind = ? AND substr(key, 1, ?) = ? ORDER BY seq
                """, arguments: [R.kind, keyPrefix.utf8.count, keyPrefix])
        }
        return try bodies.map { try RecordCoding.decoder.decode(R.self, from: $0) }
    }

    public func count<R: StoredRecord>(_ type: R.Type, keyPrefix: String = "") throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM record WHERE kind = ? AND substr(key, 1, ?) = ?",
                         arguments: [R.kind, keyPrefix.utf8.count, keyPrefix]) ?? 0
    }
}

/// Reads and writes records inside one write transaction.
public struct RecordTransaction {
    let db: Database

    public var reader: RecordReader { RecordReader(db: db) }

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
        let body = try RecordCoding.encoder.encode(record)
        do {
            try db.execute(sql: "INSERT INTO record (kind, key, body) VALUES (?, ?, ?)",
                           arguments: [R.kind, record.storeKey, body])
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw RecordExists(kind: R.kind, key: record.storeKey)
        }
    }

    /// Replaces an existing record, keeping its place in creation order, or inserts it.
    public func save<R: StoredRecord>(_ record: R) throws {
        let body = try RecordCoding.encoder.encode(record)
        try db.execute(sql: """
            INSERT INTO record (kind, key, body) VALUES (?, ?, ?)
            ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body
            """, arguments: [R.kind, record.storeKey, body])
    }

    public func delete<R: StoredRecord>(_ type: R.Type, _ key: String) throws {
        try db.execute(sql: "DELETE FROM record WHERE kind = ? AND key = ?", arguments: [R.kind, key])
    }
}

/// An insert found its key already taken.
public struct RecordExists: Error, Equatable {
    public let kind: String
    public let key: String
}
