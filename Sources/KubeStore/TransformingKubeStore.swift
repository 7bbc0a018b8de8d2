import Synchronization

/// Turns values as the API writes them into values as they are stored, and back: kube-apiserver's storage
/// transformers (encryption at rest). Values it did not write (stored before it was configured) read as they are.
public protocol ValueTransformer: Sendable {
    func toStorage(_ value: [UInt8], key: String) async throws -> [UInt8]
    func fromStorage(_ value: [UInt8], key: String) async throws -> [UInt8]
}

/// A store whose values under some prefixes pass through a transformer that can be set while it runs; the
/// rest of the store is the base store's, untouched.
public final class TransformingKubeStore: KubeStore {
    public let base: any KubeStore
    private let prefixes: [String]
    private let current = Mutex<(any ValueTransformer)?>(nil)

    public init(base: any KubeStore, prefixes: [String]) {
        self.base = base
        self.prefixes = prefixes
    }

    /// From now on, values written under the prefixes are transformed; reads always recognize transformed values.
    public var transformer: (any ValueTransformer)? {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }

    private func applies(_ key: String) -> Bool { prefixes.contains { key.hasPrefix($0) } }

    private func stored(_ value: [UInt8], _ key: String) async throws -> [UInt8] {
        guard applies(key), let transformer else { return value }
        return try await transformer.toStorage(value, key: key)
    }

    private func read(_ kv: KeyValue) async throws -> KeyValue {
        guard applies(kv.key), let transformer else { return kv }
        return KeyValue(key: kv.key, value: try await transformer.fromStorage(kv.value, key: kv.key), createRevision: kv.createRevision,
                        modRevision: kv.modRevision, version: kv.version)
    }

    private func readingConflicts<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch StoreError.conflict(let current) {
            throw StoreError.conflict(current: try await read(current))
        }
    }

    public func currentRevision() async throws -> Int64 { try await base.currentRevision() }
    public func compactedRevision() async throws -> Int64 { try await base.compactedRevision() }

    public func create(_ key: String, value: [UInt8]) async throws -> KeyValue {
        let written = try await base.create(key, value: try await stored(value, key))
        return KeyValue(key: key, value: value, createRevision: written.createRevision, modRevision: written.modRevision, version: written.version)
    }

    public func update(_ key: String, value: [UInt8], expectedRevision: Int64?) async throws -> KeyValue {
        let encoded = try await stored(value, key)
        let written = try await readingConflicts { try await base.update(key, value: encoded, expectedRevision: expectedRevision) }
        return KeyValue(key: key, value: value, createRevision: written.createRevision, modRevision: written.modRevision, version: written.version)
    }

    public func delete(_ key: String, expectedRevision: Int64?) async throws -> (deleted: KeyValue, revision: Int64) {
        let result = try await readingConflicts { try await base.delete(key, expectedRevision: expectedRevision) }
        return (try await read(result.deleted), result.revision)
    }

    public func get(_ key: String) async throws -> KeyValue? {
        guard let kv = try await base.get(key) else { return nil }
        return try await read(kv)
    }

    public func range(_ request: RangeRequest) async throws -> RangeResult {
        let result = try await base.range(request)
        guard result.items.contains(where: { applies($0.key) }) else { return result }
        var items: [KeyValue] = []
        items.reserveCapacity(result.items.count)
        for item in result.items { items.append(try await read(item)) }
        return RangeResult(items: items, revision: result.revision, more: result.more)
    }

    public func watch(prefix: String, afterRevision: Int64) async throws -> WatchStream {
        let events = try await base.watch(prefix: prefix, afterRevision: afterRevision)
        guard prefixes.contains(where: { $0.hasPrefix(prefix) || prefix.hasPrefix($0) }) else { return events }
        return WatchStream { continuation in
            let task = Task {
                do {
                    for try await event in events {
                        switch event {
                        case .put(let kv): continuation.yield(.put(try await read(kv)))
                        case .delete(let kv, let revision): continuation.yield(.delete(try await read(kv), revision: revision))
                        case .progress: continuation.yield(event)
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    public func compact(through revision: Int64) async throws { try await base.compact(through: revision) }
    public func requestProgress() async throws { try await base.requestProgress() }
    public func close() async { await base.close() }
}
