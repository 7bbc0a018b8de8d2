import Foundation
import GRDB
import Synchronization

/// KubeStore on SQLite, in the manner of kine: one row per revision in a log
/// table, WAL, one database file per cluster.
///
/// Writes go through one writer that group-commits: every write queued while
/// a transaction is in flight joins the next one, so concurrent writers share
/// one fsync (`synchronous=FULL`) and readers never block it. Watches are fed
/// from the write path as each transaction commits, not by polling. The newest
/// revision of every key is indexed in memory; values are read from SQLite.
public final class SQLiteKubeStore: KubeStore {
    /// Most writes one transaction takes.
    static let maxBatch = 512

    struct KeyMeta: Sendable {
        let modRevision: Int64
        let createRevision: Int64
        let version: Int64
    }

    enum Mutation: Sendable {
        case create(String, [UInt8])
        case update(String, [UInt8], expected: Int64?)
        case delete(String, expected: Int64?)
    }

    enum Outcome: Sendable {
        case put(KeyValue)
        case deleted(KeyValue, revision: Int64)
    }

    private struct Pending {
        let mutation: Mutation
        let continuation: CheckedContinuation<Outcome, any Error>
    }

    private struct State {
        var index: [String: KeyMeta] = [:]
        var revision: Int64 = 0
        var compacted: Int64 = 0
        var queue: [Pending] = []
        var writing = false
    }

    private let pool: DatabasePool
    private let state: Mutex<State>
    private let hub = WatchHub()
    public let path: String

    /// Opens (creating if needed) the store in the SQLite file at `path`.
    /// - Parameter secureDelete: overwrite what is deleted (compacted history) rather than leave it in free
    ///   space, so that values rewritten encrypted leave no plaintext in the file; it costs every write some I/O.
    public init(path: String, secureDelete: Bool = false) throws {
        self.path = path
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            if secureDelete { try db.execute(sql: "PRAGMA secure_delete = ON") }
        }
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.writeWithoutTransaction { db in
            // Lets compaction hand freed pages back to the file system. The mode of an existing file
            // (and opening in WAL mode already wrote one) changes only through VACUUM: once, quick when new.
            if try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") != 2 {
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                try db.execute(sql: "VACUUM")
            }
        }
        try pool.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS kv (
                    revision INTEGER PRIMARY KEY,
                    key TEXT NOT NULL,
                    create_revision INTEGER NOT NULL,
                    version INTEGER NOT NULL,
                    deleted INTEGER NOT NULL,
                    value BLOB NOT NULL
                );
                CREATE INDEX IF NOT EXISTS kv_key_revision ON kv (key, revision);
                CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                INSERT OR IGNORE INTO meta VALUES ('revision', 0), ('compacted', 0);
                """)
        }
        var initial = State()
        try pool.read { db in
            initial.revision = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'revision'") ?? 0
            initial.compacted = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'compacted'") ?? 0
            let rows = try Row.fetchCursor(db, sql: """
                SELECT key, revision, create_revision, version, deleted FROM kv
                WHERE revision IN (SELECT MAX(revision) FROM kv GROUP BY key)
                """)
            while let row = try rows.next() {
                guard row["deleted"] as Int64 == 0 else { continue }
                initial.index[row["key"]] = KeyMeta(modRevision: row["revision"], createRevision: row["create_revision"],
                                                    version: row["version"])
            }
        }
        state = Mutex(initial)
    }

    deinit {
        hub.finishAll()
    }

    /// Ends every watch and closes the database once the writes under way are committed.
    public func close() async {
        while state.withLock({ $0.writing }) { try? await Task.sleep(for: .milliseconds(5)) }
        hub.finishAll()
        try? pool.close()
    }

    // MARK: Reads

    public func currentRevision() async throws -> Int64 {
        state.withLock { $0.revision }
    }

    public func compactedRevision() async throws -> Int64 {
        state.withLock { $0.compacted }
    }

    public func get(_ key: String) async throws -> KeyValue? {
        guard let meta = state.withLock({ $0.index[key] }) else { return nil }
        let value = try await pool.read { db in
            try Data.fetchOne(db, sql: "SELECT value FROM kv WHERE revision = ?", arguments: [meta.modRevision]).map { Array($0) }
        }
        return value.map { KeyValue(key: key, value: $0, createRevision: meta.createRevision, modRevision: meta.modRevision,
                                    version: meta.version) }
    }

    public func range(_ request: RangeRequest) async throws -> RangeResult {
        let (current, compacted) = state.withLock { ($0.revision, $0.compacted) }
        let revision = request.revision ?? current
        if revision > current { throw StoreError.futureRevision(revision) }
        if revision <= compacted, request.revision != nil { throw StoreError.compacted(compactedRevision: compacted) }
        let limit = request.limit.map { $0 + 1 } ?? -1
        var items = try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT kv.key, kv.revision, kv.create_revision, kv.version, kv.deleted, kv.value FROM kv
                JOIN (SELECT key, MAX(revision) AS revision FROM kv
                      WHERE key >= ? AND key < ? AND key > ? AND revision <= ? GROUP BY key) latest
                ON kv.revision = latest.revision
                WHERE kv.deleted = 0 ORDER BY kv.key LIMIT ?
                """, arguments: [request.prefix, request.prefix.prefixEnd, request.startAfter ?? "", revision, limit])
                .map(Self.keyValue)
        }
        let more = request.limit.map { items.count > $0 } ?? false
        if more { items.removeLast() }
        return RangeResult(items: items, revision: revision, more: more)
    }

    static func keyValue(_ row: Row) -> KeyValue {
        KeyValue(key: row["key"], value: Array(row["value"] as Data), createRevision: row["create_revision"],
                 modRevision: row["revision"], version: row["version"])
    }

    // MARK: Watch

    public func watch(prefix: String, afterRevision: Int64) async throws -> WatchStream {
        let (stream, continuation) = WatchStream.makeStream(bufferingPolicy: .bufferingOldest(WatchHub.bufferLimit))
        // Registered under the lock commits publish under, so no commit falls between
        // the history's end and the first live event.
        let (id, current, compacted) = state.withLock { state in
            (hub.add(prefix: prefix, historyThrough: state.revision, continuation: continuation), state.revision, state.compacted)
        }
        if afterRevision < compacted {
            hub.remove(id)
            continuation.finish(throwing: StoreError.compacted(compactedRevision: compacted))
            return stream
        }
        if afterRevision < current {
            let history = try await pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT key, revision, create_revision, version, deleted, value FROM kv
                    WHERE revision > ? AND revision <= ? AND key >= ? AND key < ? ORDER BY revision
                    """, arguments: [afterRevision, current, prefix, prefix.prefixEnd])
                    .map { row -> WatchEvent in
                        let kv = Self.keyValue(row)
                        return (row["deleted"] as Int64) == 0 ? .put(kv) : .delete(kv, revision: kv.modRevision)
                    }
            }
            for event in history {
                if case .dropped = continuation.yield(event) {
                    hub.remove(id)
                    continuation.finish(throwing: StoreError.watcherTooSlow)
                    return stream
                }
            }
        }
        hub.goLive(id)
        return stream
    }

    // MARK: Writes

    public func create(_ key: String, value: [UInt8]) async throws -> KeyValue {
        guard case .put(let kv) = try await submit(.create(key, value)) else { preconditionFailure("create yields a put") }
        return kv
    }

    public func update(_ key: String, value: [UInt8], expectedRevision: Int64?) async throws -> KeyValue {
        guard case .put(let kv) = try await submit(.update(key, value, expected: expectedRevision)) else {
            preconditionFailure("update yields a put")
        }
        return kv
    }

    public func delete(_ key: String, expectedRevision: Int64?) async throws -> (deleted: KeyValue, revision: Int64) {
        guard case .deleted(let kv, let revision) = try await submit(.delete(key, expected: expectedRevision)) else {
            preconditionFailure("delete yields a delete")
        }
        return (kv, revision)
    }

    private func submit(_ mutation: Mutation) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let startWriter = state.withLock { state -> Bool in
                state.queue.append(Pending(mutation: mutation, continuation: continuation))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if startWriter {
                Task { await self.drain() }
            }
        }
    }

    /// Commits queued writes, a batch per transaction, until the queue is empty.
    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Pending] in
                let batch = Array(state.queue.prefix(Self.maxBatch))
                state.queue.removeFirst(batch.count)
                if batch.isEmpty { state.writing = false }
                return batch
            }
            if batch.isEmpty { return }
            await commit(batch)
        }
    }

    private func commit(_ batch: [Pending]) async {
        let (index, revision) = state.withLock { state in
            // Only the keys this batch touches are needed.
            (Dictionary(uniqueKeysWithValues: Set(batch.map(\.mutation.key)).compactMap { key in state.index[key].map { (key, $0) } }),
             state.revision)
        }
        let mutations = batch.map(\.mutation)
        let plan: Plan
        do {
            plan = try await pool.write { db in
                let plan = try Self.plan(mutations, index: index, revision: revision) { revision in
                    try Data.fetchOne(db, sql: "SELECT value FROM kv WHERE revision = ?", arguments: [revision]).map { Array($0) } ?? []
                }
                for row in plan.rows {
                    try db.execute(sql: "INSERT INTO kv (revision, key, create_revision, version, deleted, value) VALUES (?, ?, ?, ?, ?, ?)",
                                   arguments: [row.revision, row.key, row.createRevision, row.version, row.deleted ? 1 : 0, Data(row.value)])
                }
                if plan.lastRevision > revision {
                    try db.execute(sql: "UPDATE meta SET value = ? WHERE name = 'revision'", arguments: [plan.lastRevision])
                }
                return plan
            }
        } catch {
            for pending in batch { pending.continuation.resume(throwing: error) }
            return
        }
        // Publish under the lock, so a new watcher sees either the old revision or these events.
        state.withLock { state in
            for (key, meta) in plan.index {
                if let meta { state.index[key] = meta } else { state.index.removeValue(forKey: key) }
            }
            state.revision = plan.lastRevision
            hub.publish(plan.events)
        }
        for (pending, result) in zip(batch, plan.results) {
            pending.continuation.resume(with: result)
        }
    }

    public func requestProgress() async throws {
        // Under the lock commits publish under, so the marker follows every event up to its revision.
        state.withLock { state in hub.progress(state.revision) }
    }

    // MARK: Compaction

    public func compact(through revision: Int64) async throws {
        let (current, compacted) = state.withLock { ($0.revision, $0.compacted) }
        guard revision > compacted else { return }
        if revision > current { throw StoreError.futureRevision(revision) }
        // In slices, so writers wait for at most one slice at a time.
        var done = compacted
        while done < revision {
            let upTo = min(revision, done + 10_000)
            try await pool.write { db in
                // Keep each key's newest row at or below the slice's end (reads between it and the key's next
                // write need it), unless that row is a delete.
                try db.execute(sql: """
                    DELETE FROM kv WHERE revision <= ? AND (deleted = 1 OR revision NOT IN (
                        SELECT MAX(revision) FROM kv WHERE revision <= ? GROUP BY key))
                    """, arguments: [upTo, upTo])
                try db.execute(sql: "UPDATE meta SET value = ? WHERE name = 'compacted'", arguments: [upTo])
            }
            state.withLock { $0.compacted = upTo }
            done = upTo
        }
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA incremental_vacuum")
            _ = try db.checkpoint(.truncate)
        }
    }

    struct LogRow: Sendable {
        let revision: Int64
        let key: String
        let createRevision: Int64
        let version: Int64
        let deleted: Bool
        let value: [UInt8]
    }

    struct Plan {
        var rows: [LogRow] = []
        var events: [WatchEvent] = []
        var results: [Result<Outcome, any Error>] = []
        /// The index entries the batch changes (nil: the key is gone).
        var index: [String: KeyMeta?] = [:]
        var lastRevision: Int64
    }

    /// Decides each write of a batch in order, as if committed one by one: a later write sees the earlier ones.
    /// `storedValue` reads the value written at a revision, for deletes and conflicts on keys this batch did not write.
    static func plan(_ mutations: [Mutation], index: [String: KeyMeta], revision: Int64,
                     storedValue: (Int64) throws -> [UInt8]) rethrows -> Plan {
        var plan = Plan(lastRevision: revision)
        var values: [String: [UInt8]] = [:]
        func current(_ key: String) -> KeyMeta? {
            if let changed = plan.index[key] { return changed }
            return index[key]
        }
        func lastValue(_ key: String, _ meta: KeyMeta) throws -> [UInt8] {
            try values[key] ?? storedValue(meta.modRevision)
        }
        /// The key's state, if it exists at the expected revision; otherwise the failure is recorded.
        func existing(_ key: String, expected: Int64?) throws -> KeyMeta? {
            guard let meta = current(key) else {
                plan.results.append(.failure(StoreError.keyNotFound(key)))
                return nil
            }
            if let expected, expected != meta.modRevision {
                plan.results.append(.failure(StoreError.conflict(current: KeyValue(
                    key: key, value: try lastValue(key, meta), createRevision: meta.createRevision,
                    modRevision: meta.modRevision, version: meta.version))))
                return nil
            }
            return meta
        }
        for mutation in mutations {
            switch mutation {
            case .create(let key, let value):
                if current(key) != nil {
                    plan.results.append(.failure(StoreError.keyExists(key)))
                    continue
                }
                plan.lastRevision += 1
                let meta = KeyMeta(modRevision: plan.lastRevision, createRevision: plan.lastRevision, version: 1)
                plan.append(key: key, value: value, meta: meta, deleted: false)
                values[key] = value
            case .update(let key, let value, let expected):
                guard let meta = try existing(key, expected: expected) else { continue }
                plan.lastRevision += 1
                plan.append(key: key, value: value, meta: KeyMeta(modRevision: plan.lastRevision, createRevision: meta.createRevision,
                                                                  version: meta.version + 1), deleted: false)
                values[key] = value
            case .delete(let key, let expected):
                guard let meta = try existing(key, expected: expected) else { continue }
                plan.lastRevision += 1
                plan.appendDelete(key: key, meta: meta, value: try lastValue(key, meta))
                values.removeValue(forKey: key)
            }
        }
        return plan
    }
}

extension SQLiteKubeStore.Mutation {
    var key: String {
        switch self {
        case .create(let key, _), .update(let key, _, _), .delete(let key, _): key
        }
    }
}

extension SQLiteKubeStore.Plan {
    mutating func append(key: String, value: [UInt8], meta: SQLiteKubeStore.KeyMeta, deleted: Bool) {
        let kv = KeyValue(key: key, value: value, createRevision: meta.createRevision, modRevision: meta.modRevision, version: meta.version)
        rows.append(.init(revision: meta.modRevision, key: key, createRevision: meta.createRevision, version: meta.version,
                          deleted: false, value: value))
        events.append(.put(kv))
        results.append(.success(.put(kv)))
        index[key] = .some(meta)
    }

    /// A delete row keeps the key's last value, so a DELETE event carries the object as it was,
    /// at the delete's revision (as a Kubernetes DELETED event reports it).
    mutating func appendDelete(key: String, meta: SQLiteKubeStore.KeyMeta, value: [UInt8]) {
        let last = KeyValue(key: key, value: value, createRevision: meta.createRevision, modRevision: lastRevision,
                            version: meta.version)
        rows.append(.init(revision: lastRevision, key: key, createRevision: meta.createRevision, version: meta.version,
                          deleted: true, value: value))
        events.append(.delete(last, revision: lastRevision))
        results.append(.success(.deleted(last, revision: lastRevision)))
        index[key] = .some(nil)
    }
}
