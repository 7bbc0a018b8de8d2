import Foundation

/// Where a region's records live: SQLite in the data dir, or etcd (`EtcdStore`'s engine).
public protocol RecordEngine: Sendable {
    /// Runs `body` in one write transaction; it commits (durably) when `body` returns, all or nothing.
    /// An engine may run `body` again (a concurrent writer got in first), so it must only read and write records.
    func write<T: Sendable>(_ body: @escaping @Sendable (RecordTransaction) throws -> T) async throws -> T
    /// Runs `body` against a consistent snapshot.
    func read<T: Sendable>(_ body: @Sendable (RecordReader) throws -> T) async throws -> T
}

/// The regional state: records that every domain (credentials, VPC, EKS, KMS) keeps as JSON documents keyed
/// by kind and key. A domain operation runs inside one transaction, so its checks and its writes are atomic;
/// a write acknowledged to a client is durable (survives `kill -9` and power loss).
public final class RegionDatabase: Sendable {
    private let engine: any RecordEngine
    /// The SQLite engine, for the command-line tools that write synchronously.
    private let sqlite: SQLiteRecordEngine?

    /// Opens (creating if needed) `region.sqlite` in `directory`.
    public init(directory: URL) throws {
        let sqlite = try SQLiteRecordEngine(directory: directory)
        self.sqlite = sqlite
        engine = sqlite
    }

    /// The records in another engine (etcd).
    public init(engine: any RecordEngine) {
        self.engine = engine
        sqlite = nil
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (RecordTransaction) throws -> T) async throws -> T {
        try await engine.write(body)
    }

    public func read<T: Sendable>(_ body: @Sendable (RecordReader) throws -> T) async throws -> T {
        try await engine.read(body)
    }

    /// Synchronous write, for command-line tools that have no event loop to spare (SQLite only).
    public func writeNow<T>(_ body: (RecordTransaction) throws -> T) throws -> T {
        guard let sqlite else { preconditionFailure("writeNow is for the SQLite engine") }
        return try sqlite.writeNow(body)
    }
}
