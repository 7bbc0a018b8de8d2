import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// The region's records in the data dir's `region.sqlite`: one table, WAL, fsynced on every commit.
///
/// Every record is also held in memory, so reads never wait for SQLite. Writes are group-committed: each
/// transaction runs against the in-memory records (with the changes of those before it in the batch), and all the
/// changes of a batch are written in one SQLite transaction, one fsync for every writer that joined it; the
/// memory takes them once that commits. Another process may write the same file (`skiff iam create-access-key`
/// while a server runs): every commit bumps a generation number in the file, and a read that finds the file
/// changed (SQLite's `data_version`) by someone else reloads before it answers.
final class SQLiteRecordEngine: RecordEngine {
    /// Most transactions one commit takes.
    static let maxBatch = 512

    private struct Pending {
        let run: @Sendable (RecordTransaction) throws -> any Sendable
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    private struct State {
        var memory = Memory()
        var queue: [Pending] = []
        var writing = false
        /// `data_version` as the probe last saw it when memory was known to be current.
        var currentAt: Int64 = -1
    }

    /// The records as of a generation of the file.
    struct Memory: Sendable {
        var snapshot = RecordSnapshot()
        var generation: Int64 = 0
        var nextSeq: Int64 = 1
    }

    private let pool: DatabasePool
    private let probe: DataVersionProbe
    private let state: Mutex<State>

    init(directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // FULL: the WAL is fsynced at each commit, not only at checkpoints.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(10)
        let path = directory.appendingPathComponent("region.sqlite").path
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
        probe = try DataVersionProbe(path: path)
        let version = probe.dataVersion()
        let memory = try pool.read { db in try Self.load(db) }
        state = Mutex(State(memory: memory, currentAt: version))
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
        migrator.registerMigration("generation") { db in
            try db.execute(sql: "CREATE TABLE region_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
            try db.execute(sql: "INSERT INTO region_meta (name, value) VALUES ('generation', 0)")
        }
        return migrator
    }

    private static func load(_ db: Database) throws -> Memory {
        var memory = Memory(generation: try generation(db))
        let rows = try Row.fetchCursor(db, sql: "SELECT seq, kind, key, body FROM record")
        while let row = try rows.next() {
            let seq: Int64 = row[0]
            memory.snapshot[row[1], row[2]] = RecordSnapshot.Entry(body: row[3], order: RecordOrder(seq))
            memory.nextSeq = max(memory.nextSeq, seq + 1)
        }
        return memory
    }

    private static func generation(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM region_meta WHERE name = 'generation'") ?? 0
    }

    // MARK: Reads

    func read<T: Sendable>(_ body: @Sendable (RecordReader) throws -> T) async throws -> T {
        let version = probe.dataVersion()
        if state.withLock({ $0.currentAt != version }) {
            try await refresh(seenAt: version)
        }
        let snapshot = state.withLock { $0.memory.snapshot }
        return try body(RecordReader(snapshot))
    }

    /// The file changed since memory was last known current: by this engine's own commits (memory already has
    /// them, or will once the commit under way publishes), or by another process (then memory is loaded again,
    /// in the writer's turn, so that no commit of ours is lost in between).
    private func refresh(seenAt version: Int64) async throws {
        let onDisk = try probe.generation()
        let current = state.withLock { state -> Bool in
            guard state.memory.generation == onDisk else { return false }
            state.currentAt = max(state.currentAt, version)
            return true
        }
        if !current {
            // An empty transaction: the writer checks the generation and reloads what another process wrote.
            _ = try await submit { _ in () }
        }
    }

    // MARK: Writes

    func write<T: Sendable>(_ body: @escaping @Sendable (RecordTransaction) throws -> T) async throws -> T {
        try await submit(body) as! T
    }

    private func submit(_ run: @escaping @Sendable (RecordTransaction) throws -> any Sendable) async throws -> any Sendable {
        try await withCheckedThrowingContinuation { continuation in
            let startWriter = state.withLock { state -> Bool in
                state.queue.append(Pending(run: run, continuation: continuation))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if startWriter {
                Task { await self.drain() }
            }
        }
    }

    /// Commits queued transactions, a batch at a time, until the queue is empty.
    private func drain() async {
        while true {
            let (batch, memory) = state.withLock { state -> ([Pending], Memory) in
                let batch = Array(state.queue.prefix(Self.maxBatch))
                state.queue.removeFirst(batch.count)
                if batch.isEmpty { state.writing = false }
                return (batch, state.memory)
            }
            if batch.isEmpty { return }
            let runs = batch.map(\.run)
            do {
                let (results, committed) = try await pool.writeWithoutTransaction { db in
                    // Each wrapped: converting the array's element type is a runtime cast Swift does not make.
                    try Self.commit(runs.map { run in { try run($0) } }, over: memory, db)
                }
                // Published before anyone is told, so a caller reads its own write.
                state.withLock { $0.memory = committed }
                for (pending, result) in zip(batch, results) { pending.continuation.resume(with: result) }
            } catch {
                for pending in batch { pending.continuation.resume(throwing: error) }
            }
        }
    }

    /// Runs `runs` one after another, each against the records as those before it left them, and writes the changes
    /// of those that succeeded in one SQLite transaction. Returns each one's result and the records as committed.
    private static func commit(_ runs: [(RecordTransaction) throws -> any Sendable], over memory: Memory,
                               _ db: Database) throws -> ([Result<any Sendable, any Error>], Memory) {
        try db.execute(sql: "BEGIN IMMEDIATE")
        do {
            var memory = memory
            // Another process wrote since: start from what it left.
            let onDisk = try generation(db)
            if onDisk != memory.generation { memory = try load(db) }
            var results: [Result<any Sendable, any Error>] = []
            var changed = false
            for run in runs {
                let changes: [(SnapshotRecords.Name, Data?)]
                do {
                    let records = SnapshotRecords(snapshot: memory.snapshot)
                    results.append(.success(try run(RecordTransaction(records))))
                    changes = records.orderedChanges
                } catch {
                    results.append(.failure(error))
                    continue
                }
                // The transaction's view is gone by now: memory changes in place, not as a copy.
                for (name, body) in changes {
                    try persist(name, body, into: &memory, db)
                    changed = true
                }
            }
            if changed {
                memory.generation += 1
                try db.execute(sql: "UPDATE region_meta SET value = ? WHERE name = 'generation'", arguments: [memory.generation])
            }
            try db.execute(sql: "COMMIT")
            return (results, memory)
        } catch {
            try? db.execute(sql: "ROLLBACK")
            throw error
        }
    }

    private static func persist(_ name: SnapshotRecords.Name, _ body: Data?, into memory: inout Memory, _ db: Database) throws {
        guard let body else {
            try db.cachedStatement(sql: "DELETE FROM record WHERE kind = ? AND key = ?").execute(arguments: [name.kind, name.key])
            memory.snapshot[name.kind, name.key] = nil
            return
        }
        if let existing = memory.snapshot[name.kind, name.key] {
            // A record that stays keeps its place in creation order.
            try db.cachedStatement(sql: "UPDATE record SET body = ? WHERE kind = ? AND key = ?").execute(arguments: [body, name.kind, name.key])
            memory.snapshot[name.kind, name.key] = RecordSnapshot.Entry(body: body, order: existing.order)
        } else {
            let seq = memory.nextSeq
            memory.nextSeq += 1
            try db.cachedStatement(sql: "INSERT INTO record (seq, kind, key, body) VALUES (?, ?, ?, ?)")
                .execute(arguments: [seq, name.kind, name.key, body])
            memory.snapshot[name.kind, name.key] = RecordSnapshot.Entry(body: body, order: RecordOrder(seq))
        }
    }

    /// A write for command-line tools that have no event loop to spare; it reads the file as it is now.
    func writeNow<T>(_ body: (RecordTransaction) throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            var value: T?
            let (results, _) = try pool.writeWithoutTransaction { db in
                try Self.commit([{ transaction in value = try body(transaction); return () }], over: Memory(generation: -1), db)
            }
            if case .failure(let error) = results[0] { throw error }
            return value!
        }
    }
}

/// A connection of its own to the region file that only asks SQLite whether the file changed: `data_version`
/// moves when any other connection (this process's writer or another process) commits. It answers from the
/// shared WAL index, without a thread hop.
final class DataVersionProbe: @unchecked Sendable {
    private let lock = Mutex(())
    private let connection: OpaquePointer
    private let dataVersionStatement: OpaquePointer
    private let generationStatement: OpaquePointer

    init(path: String) throws {
        var connection: OpaquePointer?
        guard sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let connection else {
            throw DatabaseError(resultCode: .SQLITE_CANTOPEN, message: "cannot open \(path)")
        }
        sqlite3_busy_timeout(connection, 10_000)
        func prepare(_ sql: String) throws -> OpaquePointer {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
                throw DatabaseError(resultCode: .SQLITE_ERROR, message: String(cString: sqlite3_errmsg(connection)))
            }
            return statement
        }
        self.connection = connection
        dataVersionStatement = try prepare("PRAGMA data_version")
        generationStatement = try prepare("SELECT value FROM region_meta WHERE name = 'generation'")
    }

    deinit {
        sqlite3_finalize(dataVersionStatement)
        sqlite3_finalize(generationStatement)
        sqlite3_close_v2(connection)
    }

    func dataVersion() -> Int64 {
        lock.withLock { _ in (try? integer(dataVersionStatement)) ?? -2 }
    }

    func generation() throws -> Int64 {
        try lock.withLock { _ in try integer(generationStatement) }
    }

    private func integer(_ statement: OpaquePointer) throws -> Int64 {
        defer { sqlite3_reset(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW else {
            throw DatabaseError(resultCode: .SQLITE_ERROR, message: String(cString: sqlite3_errmsg(connection)))
        }
        return sqlite3_column_int64(statement, 0)
    }
}
