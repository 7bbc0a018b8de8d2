import Foundation
import GRPCCore
import RegionStore
import Synchronization

/// The region's records in etcd, under `<root>/records/<kind>/<key>`, for Skiff replicas that share one region.
///
/// Every replica holds all the records in memory, loaded once and kept current by a watch; a read or a write first
/// asks etcd for the lock's revision (one linearizable read, no data) and waits for the watch to bring the snapshot
/// that far, so what another replica committed is seen. A write transaction runs against that snapshot and commits as one etcd `Txn` that also bumps
/// the region's lock key, on condition that the lock is as the snapshot saw it: of two writers (in this process or
/// another replica) that read the same state one commits, and the other runs its transaction again on the newer
/// state — optimistic concurrency, serializable, all or nothing. A commit returns once this replica's snapshot
/// holds it, so a caller reads its own writes.
public final class EtcdRecordEngine: RecordEngine {
    /// A record as stored: its place among the records created in the same transaction (8 bytes, big-endian),
    /// then its JSON. Creation order is (create revision, place).
    enum StoredValue {
        static func entry(_ value: Data, createRevision: Int64) -> RecordSnapshot.Entry? {
            guard value.count >= 8 else { return nil }
            let place = value.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
            return RecordSnapshot.Entry(body: Data(value.dropFirst(8)), order: RecordOrder(createRevision, place))
        }

        static func value(_ body: Data, place: UInt64) -> Data {
            Data((0..<8).reversed().map { UInt8(truncatingIfNeeded: place >> (8 * $0)) }) + body
        }
    }

    struct Snapshot: Sendable {
        var records = RecordSnapshot()
        /// The newest revision applied.
        var revision: Int64 = 0
        /// The lock key's mod revision: the last committed write transaction.
        var lockRevision: Int64 = 0
    }

    private struct State {
        var snapshot = Snapshot()
        var loaded = false
        var waiters: [(lockRevision: Int64, continuation: CheckedContinuation<Void, Never>)] = []
    }

    let client: EtcdClient
    /// `<root>/records/`
    let prefix: [UInt8]
    let lockKey: [UInt8]
    private let state = Mutex(State())
    private let following: Mutex<Task<Void, Never>?> = Mutex(nil)

    /// Loads the region's records and starts following their changes.
    public init(client: EtcdClient, root: String) async throws {
        self.client = client
        prefix = Array("\(root)/records/".utf8)
        lockKey = Array("\(root)/records/.lock".utf8)
        let revision = try await load()
        following.withLock { $0 = Task { [weak self] in await self?.follow(after: revision) } }
    }

    deinit {
        following.withLock { $0?.cancel() }
    }

    // MARK: Keys

    func etcdKey(kind: String, key: String) -> Data { Data(prefix + Array("\(kind)/\(key)".utf8)) }

    /// (kind, key) of a record's etcd key; nil for the lock.
    func recordName(_ etcdKey: Data) -> (kind: String, key: String)? {
        let name = String(decoding: etcdKey.dropFirst(prefix.count), as: UTF8.self)
        guard let slash = name.firstIndex(of: "/") else { return nil }
        return (String(name[..<slash]), String(name[name.index(after: slash)...]))
    }

    // MARK: Following etcd

    /// Reads every record as of now into the snapshot; returns the revision it was read at.
    private func load() async throws -> Int64 {
        var request = Etcdserverpb_RangeRequest()
        request.key = Data(prefix)
        request.rangeEnd = EtcdKubeStore.rangeEnd(prefix)
        let response = try await client.call { try await client.kv.range(request, options: EtcdClient.unary) }
        var snapshot = Snapshot(revision: response.header.revision)
        for kv in response.kvs {
            if kv.key == Data(lockKey) {
                snapshot.lockRevision = kv.modRevision
            } else if let (kind, key) = recordName(kv.key), let entry = StoredValue.entry(kv.value, createRevision: kv.createRevision) {
                snapshot.records[kind, key] = entry
            }
        }
        publish { state in
            state.snapshot = snapshot
            state.loaded = true
        }
        return response.header.revision
    }

    /// Applies every change after `revision`; when the watch ends (etcd restarted, history compacted), loads again.
    private func follow(after revision: Int64) async {
        var revision = revision
        while !Task.isCancelled {
            try? await client.watch(key: Data(prefix), rangeEnd: EtcdKubeStore.rangeEnd(prefix), startRevision: revision + 1) { messages in
                for try await message in messages {
                    if message.canceled { return }
                    guard !message.events.isEmpty else { continue }
                    self.apply(message.events)
                }
            }
            if Task.isCancelled { return }
            try? await Task.sleep(for: .milliseconds(200))
            if let reloaded = try? await load() { revision = reloaded }
        }
    }

    private func apply(_ events: [Mvccpb_Event]) {
        publish { state in
            for event in events {
                let kv = event.kv
                if kv.key == Data(lockKey) {
                    if event.type == .put { state.snapshot.lockRevision = kv.modRevision }
                } else if let (kind, key) = recordName(kv.key) {
                    if event.type == .put {
                        state.snapshot.records[kind, key] = StoredValue.entry(kv.value, createRevision: kv.createRevision)
                    } else {
                        state.snapshot.records[kind, key] = nil
                    }
                }
                state.snapshot.revision = max(state.snapshot.revision, kv.modRevision)
            }
        }
    }

    /// Changes the state and wakes the writers waiting for the lock revision it now holds.
    private func publish(_ change: (inout State) -> Void) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            change(&state)
            let lock = state.snapshot.lockRevision
            let ready = state.waiters.filter { $0.lockRevision <= lock }.map(\.continuation)
            state.waiters.removeAll { $0.lockRevision <= lock }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// Returns once the snapshot holds the write transaction committed at `lockRevision` (or a later one).
    private func waitForLock(_ lockRevision: Int64) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if state.snapshot.lockRevision >= lockRevision { return true }
                state.waiters.append((lockRevision, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    // MARK: RecordEngine

    /// Waits until the snapshot holds every write transaction committed before now, by any replica: the lock's
    /// revision, read linearizably, is the newest. A read or write after another replica's commit sees it.
    private func catchUp() async throws {
        var request = Etcdserverpb_RangeRequest()
        request.key = Data(lockKey)
        let response = try await client.call { try await client.kv.range(request, options: EtcdClient.unary) }
        await waitForLock(response.kvs.first?.modRevision ?? 0)
    }

    public func read<T: Sendable>(_ body: @Sendable (RecordReader) throws -> T) async throws -> T {
        try await catchUp()
        let snapshot = state.withLock { $0.snapshot.records }
        return try body(RecordReader(snapshot))
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (RecordTransaction) throws -> T) async throws -> T {
        try await catchUp()
        while true {
            let snapshot = state.withLock { $0.snapshot }
            let records = SnapshotRecords(snapshot: snapshot.records)
            let result = try body(RecordTransaction(records))
            if records.changes.isEmpty { return result }
            let response = try await commit(records, lockRevision: snapshot.lockRevision)
            if response.succeeded {
                await waitForLock(response.header.revision)
                return result
            }
            // Another writer got in first: once its commit is in the snapshot, the transaction runs again on it.
            let current = response.responses.first?.responseRange.kvs.first?.modRevision ?? 0
            await waitForLock(current)
        }
    }

    /// One `Txn`: on condition that the lock is as the snapshot saw it, every change and a new lock; otherwise the
    /// lock as it is now. etcd takes at most 128 operations a level, so larger commits nest their operations.
    private func commit(_ records: SnapshotRecords, lockRevision: Int64) async throws -> Etcdserverpb_TxnResponse {
        var operations = records.orderedChanges.enumerated().map { place, change -> Etcdserverpb_RequestOp in
            let (name, body) = change
            let key = etcdKey(kind: name.kind, key: name.key)
            guard let body else { return .delete(key) }
            // A record that stays keeps its place; a new one takes its place in this transaction.
            let kept = records.snapshot[name.kind, name.key]?.order.minor
            return .put(key, StoredValue.value(body, place: kept ?? UInt64(place)))
        }
        operations.append(.put(Data(lockKey), Data()))
        if operations.count > 128 {
            operations = stride(from: 0, to: operations.count, by: 128).map { .all(Array(operations[$0..<min($0 + 128, operations.count)])) }
        }
        let request = Etcdserverpb_TxnRequest(if: [.modRevision(Data(lockKey), is: lockRevision)], then: operations,
                                              else: [.range(Data(lockKey))])
        return try await client.call { try await client.kv.txn(request, options: EtcdClient.unary) }
    }
}
