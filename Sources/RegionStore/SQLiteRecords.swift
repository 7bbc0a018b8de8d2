import Foundation
import GRDB

/// The region's records in the data dir's `region.sqlite`: one table, WAL, fsynced on every commit.
final class SQLiteRecordEngine: RecordEngine {
    private let pool: DatabasePool

    init(directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // FULL: the WAL is fsynced at each commit, not only at checkpoints.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: directory.appendingPathComponent("region.sqlite").path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("records") { db in
            // seq keeps creation order, which list operations return.
            try db.execute(sql: """
                CREATE TABLE record (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    key TEXT NOT NULL,
                    body BLOB NOT NULL,
                    UNIQUE (kind, key)
                )
                """)
        }
        return migrator
    }

    func write<T: Sendable>(_ body: @Sendable (RecordTransaction) throws -> T) async throws -> T {
        try await pool.write { db in try body(RecordTransaction(SQLiteRecords(db: db))) }
    }

    func read<T: Sendable>(_ body: @Sendable (RecordReader) throws -> T) async throws -> T {
        try await pool.read { db in try body(RecordReader(SQLiteRecords(db: db))) }
    }

    func writeNow<T>(_ body: (RecordTransaction) throws -> T) throws -> T {
        try pool.write { db in try body(RecordTransaction(SQLiteRecords(db: db))) }
    }
}

/// One SQLite transaction's view of the records.
struct SQLiteRecords: RecordSink {
    let db: Database

    func body(kind: String, key: String) throws -> Data? {
        try Data.fetchOne(db, sql: "SELECT body FROM record WHERE kind = ? AND key = ?", arguments: [kind, key])
    }

    func bodies(kind: String, keyPrefix: String) throws -> [Data] {
        if keyPrefix.isEmpty {
            return try Data.fetchAll(db, sql: "SELECT body FROM record WHERE kind = ? ORDER BY seq", arguments: [kind])
        }
        // substr instead of LIKE: keys may contain % and _.
        return try Data.fetchAll(db, sql: "SELECT body FROM record WHERE kind = ? AND substr(key, 1, ?) = ? ORDER BY seq",
                                 arguments: [kind, keyPrefix.utf8.count, keyPrefix])
    }

    func count(kind: String, keyPrefix: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM record WHERE kind = ? AND substr(key, 1, ?) = ?",
                         arguments: [kind, keyPrefix.utf8.count, keyPrefix]) ?? 0
    }

    func insert(kind: String, key: String, body: Data) throws {
        do {
            try db.execute(sql: "INSERT INTO record (kind, key, body) VALUES (?, ?, ?)", arguments: [kind, key, body])
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw RecordExists(kind: kind, key: key)
        }
    }

    func save(kind: String, key: String, body: Data) throws {
        try db.execute(sql: """
            INSERT INTO record (kind, key, body) VALUES (?, ?, ?)
            ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body
            """, arguments: [kind, key, body])
    }

    func delete(kind: String, key: String) throws {
        try db.execute(sql: "DELETE FROM record WHERE kind = ? AND key = ?", arguments: [kind, key])
    }
}
