import Foundation
import GRPCCore
import KubeStore
import Synchronization

/// KubeStore on etcd: one cluster's keys under its own prefix of a shared etcd cluster, with etcd's
/// revisions, compare-and-swap, ranges at a revision and watches taken one-to-one.
///
/// Revisions are etcd's, global to the etcd cluster: writes of other clusters on the same etcd advance them
/// too, as other resources' writes advance a Kubernetes resourceVersion.
///
/// Two things etcd 3.4 does not give as the protocol needs them are built from what it does give:
/// - Progress markers. etcd 3.4's progress request answers outside the event stream (a marker can overtake
///   events; fixed only in 3.4.25), so `requestProgress` writes a fence instead: one transaction puts a key
///   `PREFIX\0` under every watched prefix, and each watcher turns its fence's event, which comes after every
///   earlier event of its range, into the marker. Keys with a NUL (no Kubernetes key has one) are fences and
///   never leave the store.
/// - The compacted revision. etcd does not tell it; as kube-apiserver does, the compactor records it in
///   the root's `compact_rev_key` (written by compare-and-swap, so replicas do not compact twice) and reads
///   it back.
public final class EtcdKubeStore: KubeStore {
    public let client: EtcdClient
    /// The bytes every key of this store starts with, e.g. `/skiff/us-east-1/clusters/prod`.
    let prefix: [UInt8]
    let compactionKey: [UInt8]
    /// Most keys one Range call reads.
    static let rangePage = 1000
    /// Events a watcher may have waiting before it is cut off (the SQLite store's 10,000 by default).
    public let watchBufferLimit: Int

    private struct Watchers {
        var prefixes: [Int: [UInt8]] = [:]
        var nextId = 0
    }

    private let watchers = Mutex(Watchers())

    /// - Parameters:
    ///   - prefix: this store's keys, without a trailing slash (store keys start with one).
    ///   - compactionKey: the key, shared by every store of the etcd cluster, that records the compacted revision.
    public init(client: EtcdClient, prefix: String, compactionKey: String, watchBufferLimit: Int = 10_000) {
        self.client = client
        self.watchBufferLimit = watchBufferLimit
        self.prefix = Array(prefix.utf8)
        self.compactionKey = Array(compactionKey.utf8)
    }

    // MARK: Keys

    func etcdKey(_ key: String) -> Data { Data(prefix + Array(key.utf8)) }

    /// The store's key for an etcd key under the prefix; nil for a fence.
    func storeKey(_ key: Data) -> String? {
        let suffix = key.dropFirst(prefix.count)
        if suffix.contains(0) { return nil }
        return String(decoding: suffix, as: UTF8.self)
    }

    func keyValue(_ kv: Mvccpb_KeyValue) -> KeyValue? {
        guard let key = storeKey(kv.key) else { return nil }
        return KeyValue(key: key, value: Array(kv.value), createRevision: kv.createRevision, modRevision: kv.modRevision,
                        version: kv.version)
    }

    /// The smallest key after every key that starts with `bytes` (etcd's prefix range end).
    static func rangeEnd(_ bytes: [UInt8]) -> Data {
        var end = bytes
        while let last = end.last {
            if last < 0xFF {
                end[end.count - 1] = last + 1
                return Data(end)
            }
            end.removeLast()
        }
        return Data([0])
    }

    // MARK: Calls

    /// Runs one unary call, its failure as a store or etcd error.
    private func call<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as RPCError {
            throw try await storeError(error)
        }
    }

    private func storeError(_ error: RPCError, revision: Int64? = nil) async throws -> any Error {
        if error.message.contains("required revision has been compacted") {
            return StoreError.compacted(compactedRevision: try await compactedRevision())
        }
        if error.message.contains("required revision is a future revision"), let revision {
            return StoreError.futureRevision(revision)
        }
        return EtcdClient.translate(error)
    }

    private func txn(_ request: Etcdserverpb_TxnRequest) async throws -> Etcdserverpb_TxnResponse {
        try await call { try await client.kv.txn(request, options: EtcdClient.unary) }
    }

    /// The key exists, at `expected` if given.
    private static func current(_ key: Data, modRevision expected: Int64?) -> Etcdserverpb_Compare {
        expected.map { .modRevision(key, is: $0) } ?? .exists(key)
    }

    /// A failed compare-and-swap as the protocol's error: the key is gone, or it is at another revision.
    private func casFailure(_ key: String, _ response: Etcdserverpb_TxnResponse) -> StoreError {
        guard let current = response.responses.first?.responseRange.kvs.first.flatMap(keyValue) else { return .keyNotFound(key) }
        return .conflict(current: current)
    }

    // MARK: Reads

    public func currentRevision() async throws -> Int64 {
        var request = Etcdserverpb_RangeRequest()
        request.key = Data(compactionKey)
        request.countOnly = true
        return try await call { try await client.kv.range(request, options: EtcdClient.unary).header.revision }
    }

    public func compactedRevision() async throws -> Int64 {
        var request = Etcdserverpb_RangeRequest()
        request.key = Data(compactionKey)
        let response = try await call { try await client.kv.range(request, options: EtcdClient.unary) }
        return response.kvs.first.flatMap { Int64(String(decoding: $0.value, as: UTF8.self)) } ?? 0
    }

    public func get(_ key: String) async throws -> KeyValue? {
        var request = Etcdserverpb_RangeRequest()
        request.key = etcdKey(key)
        return try await call { try await client.kv.range(request, options: EtcdClient.unary) }.kvs.first.flatMap(keyValue)
    }

    public func range(_ request: RangeRequest) async throws -> RangeResult {
        let base = prefix + Array(request.prefix.utf8)
        var items: [KeyValue] = []
        var start = Data(base)
        if let after = request.startAfter.map({ prefix + Array($0.utf8) + [0] }), base.lexicographicallyPrecedes(after) {
            start = Data(after)
        }
        var revision = request.revision
        // Read in pages of at most `rangePage` keys, all at the first page's revision: a large list neither makes one
        // huge gRPC message nor holds etcd up. Fences are skipped, so a page can come back short of the limit.
        while true {
            var range = Etcdserverpb_RangeRequest()
            range.key = start
            range.rangeEnd = Self.rangeEnd(base)
            range.revision = revision ?? 0
            range.limit = Int64(min(request.limit.map { $0 - items.count } ?? Self.rangePage, Self.rangePage))
            let response: Etcdserverpb_RangeResponse
            do {
                response = try await client.kv.range(range, options: EtcdClient.unary)
            } catch let error as RPCError {
                throw try await storeError(error, revision: request.revision)
            }
            revision = revision ?? response.header.revision
            items += response.kvs.compactMap(keyValue)
            guard response.more, let last = response.kvs.last else {
                return RangeResult(items: items, revision: revision!, more: false)
            }
            if let limit = request.limit, items.count >= limit {
                return RangeResult(items: items, revision: revision!, more: true)
            }
            start = last.key + Data([0])
        }
    }

    // MARK: Writes

    public func create(_ key: String, value: [UInt8]) async throws -> KeyValue {
        let etcdKey = etcdKey(key)
        let response = try await txn(.init(if: [.absent(etcdKey)], then: [.put(etcdKey, Data(value))]))
        guard response.succeeded else { throw StoreError.keyExists(key) }
        let revision = response.header.revision
        return KeyValue(key: key, value: value, createRevision: revision, modRevision: revision, version: 1)
    }

    public func update(_ key: String, value: [UInt8], expectedRevision: Int64?) async throws -> KeyValue {
        let etcdKey = etcdKey(key)
        let response = try await txn(.init(if: [Self.current(etcdKey, modRevision: expectedRevision)],
                                           then: [.put(etcdKey, Data(value), prevKv: true)], else: [.range(etcdKey)]))
        guard response.succeeded else { throw casFailure(key, response) }
        let previous = response.responses[0].responsePut.prevKv
        return KeyValue(key: key, value: value, createRevision: previous.createRevision, modRevision: response.header.revision,
                        version: previous.version + 1)
    }

    public func delete(_ key: String, expectedRevision: Int64?) async throws -> (deleted: KeyValue, revision: Int64) {
        let etcdKey = etcdKey(key)
        let response = try await txn(.init(if: [Self.current(etcdKey, modRevision: expectedRevision)],
                                           then: [.delete(etcdKey, prevKv: true)], else: [.range(etcdKey)]))
        guard response.succeeded, let last = response.responses[0].responseDeleteRange.prevKvs.first.flatMap(keyValue) else {
            throw casFailure(key, response)
        }
        return (last, response.header.revision)
    }

    // MARK: Watch

    public func watch(prefix watched: String, afterRevision: Int64) async throws -> WatchStream {
        let (stream, continuation) = WatchStream.makeStream(bufferingPolicy: .bufferingOldest(watchBufferLimit))
        let base = prefix + Array(watched.utf8)
        let id = watchers.withLock { watchers in
            defer { watchers.nextId += 1 }
            watchers.prefixes[watchers.nextId] = base
            return watchers.nextId
        }
        let task = Task { [client] in
            do {
                try await client.watch(key: Data(base), rangeEnd: Self.rangeEnd(base), startRevision: afterRevision + 1, prevKv: true) {
                    try await self.deliver($0, to: continuation)
                }
                continuation.finish(throwing: EtcdError.unavailable("the watch stream closed"))
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { [weak self] _ in
            task.cancel()
            _ = self?.watchers.withLock { $0.prefixes.removeValue(forKey: id) }
        }
        return stream
    }

    /// Turns a watch's responses into events until the watch ends or the consumer falls behind.
    private func deliver(_ messages: RPCAsyncSequence<Etcdserverpb_WatchResponse, any Error>,
                         to continuation: WatchStream.Continuation) async throws {
        var lastProgress: Int64 = 0
        for try await message in messages {
            if message.canceled {
                if message.compactRevision > 0 {
                    continuation.finish(throwing: StoreError.compacted(compactedRevision: try await compactedRevision()))
                } else {
                    continuation.finish(throwing: EtcdError.watchCanceled(message.cancelReason))
                }
                return
            }
            for event in message.events {
                let kv = event.kv
                let delivered: WatchEvent
                if let put = keyValue(kv), event.type == .put {
                    delivered = .put(put)
                } else if event.type == .put {
                    // A fence: every earlier event of this range has been delivered.
                    guard kv.modRevision > lastProgress else { continue }
                    lastProgress = kv.modRevision
                    delivered = .progress(kv.modRevision)
                } else if let key = storeKey(kv.key) {
                    // prev_kv is read at delivery; a compaction in between loses it, and the delete carries the key alone.
                    let last = event.hasPrevKv ? keyValue(event.prevKv) : nil
                    delivered = .delete(last ?? KeyValue(key: key, value: [], createRevision: 0, modRevision: kv.modRevision, version: 0),
                                        revision: kv.modRevision)
                } else {
                    continue
                }
                if case .dropped = continuation.yield(delivered) {
                    continuation.finish(throwing: StoreError.watcherTooSlow)
                    return
                }
            }
        }
    }

    public func requestProgress() async throws {
        let fences = Set(watchers.withLock { Array($0.prefixes.values) })
        guard !fences.isEmpty else { return }
        // etcd takes at most 128 operations a transaction (its --max-txn-ops); each chunk is one revision.
        let operations = fences.map { Etcdserverpb_RequestOp.put(Data($0 + [0]), Data()) }
        for start in stride(from: 0, to: operations.count, by: 128) {
            _ = try await txn(.init(if: [], then: Array(operations[start..<min(start + 128, operations.count)])))
        }
    }

    // MARK: Compaction

    public func compact(through revision: Int64) async throws {
        var read = Etcdserverpb_RangeRequest()
        read.key = Data(compactionKey)
        let recorded = try await call { try await client.kv.range(read, options: EtcdClient.unary) }
        let previous = recorded.kvs.first
        let compacted = previous.flatMap { Int64(String(decoding: $0.value, as: UTF8.self)) } ?? 0
        guard revision > compacted else { return }
        if revision > recorded.header.revision { throw StoreError.futureRevision(revision) }
        // Recorded first, by compare-and-swap on the key's version: of two compactors only one goes on.
        let key = Data(compactionKey)
        guard try await txn(.init(if: [.version(key, is: previous?.version ?? 0)], then: [.put(key, Data(String(revision).utf8))]))
            .succeeded else { return }
        var compaction = Etcdserverpb_CompactionRequest()
        compaction.revision = revision
        do {
            _ = try await client.kv.compact(compaction, options: EtcdClient.unary)
        } catch let error as RPCError where error.message.contains("required revision has been compacted") {
            // etcd's own auto-compaction went further already.
        } catch let error as RPCError {
            throw EtcdClient.translate(error)
        }
    }

    // MARK: Whole prefix

    /// Whether no key is stored under the prefix yet.
    public func isEmpty() async throws -> Bool {
        var request = Etcdserverpb_RangeRequest()
        request.key = Data(prefix + [UInt8(ascii: "/")])
        request.rangeEnd = Self.rangeEnd(prefix + [UInt8(ascii: "/")])
        request.countOnly = true
        return try await call { try await client.kv.range(request, options: EtcdClient.unary) }.count == 0
    }

    /// Deletes every key of this store (the cluster is gone); its history goes at the next compaction.
    public func deleteAll() async throws {
        var deletion = Etcdserverpb_DeleteRangeRequest()
        deletion.key = Data(prefix + [UInt8(ascii: "/")])
        deletion.rangeEnd = Self.rangeEnd(prefix + [UInt8(ascii: "/")])
        _ = try await call { try await client.kv.deleteRange(deletion, options: EtcdClient.unary) }
    }
}
