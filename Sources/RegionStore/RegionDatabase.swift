import Foundation
import GRDB

/// The regional state of one Skiff data dir: a single SQLite database in WAL
/// mode, fsynced on every commit, so a write acknowledged to a client
/// survives `kill -9` and power loss.
///
/// Each domain (credentials, VPC, EKS) keeps its records here as JSON
/// documents keyed by kind and key; a domain operation runs inside one
/// transaction, so its checks and its writes are atomic.
public final class RegionDatabase: Sendable {
    private let pool: DatabasePool

    /// Opens (creating if needed) `region.sqlite` in `directory`.
    public init(directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // FULL: the WAL is fsynced at each commit, not only at checkpoints.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: directory.appendingPathComponent("region.sqlite").path,
                                configuration: configuration)
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

    /// Runs `body` in one write transaction; it commits (durably) when `body` returns.
    public func write<T: Sendable>(_ body: @Sendable (RecordTransaction) throws -> T) async throws -> T {
        try await pool.write { db in try body(RecordTransaction(db: db)) }
    }

    /// Runs `body` against a consistent snapshot.
    public func read<T: Sendable>(_ body: @Sendable (RecordReader) throws -> T) async throws -> T {
        try await pool.read { db in try body(RecordReader(db: db)) }
    }

    /// Synchronous write, for command-line tools that have no event loop to spare.
    public func writeNow<T>(_ body: (RecordTransaction) throws -> T) throws -> T {
        try pool.write { db in try body(RecordTransaction(db: db)) }
    }
}
