import CoreMetrics
import KubeStore

/// A store whose calls are timed as kube-apiserver times its etcd client: `etcd_request_duration_seconds`
/// by `operation` (`create`, `update`, `delete`, `get`, `listWithCount`) and `type` (the resource the key is of).
public final class MeasuredKubeStore: KubeStore {
    public let base: any KubeStore
    private let factory: any MetricsFactory

    public init(base: any KubeStore, factory: any MetricsFactory) {
        self.base = base
        self.factory = factory
    }

    /// `/registry/apps/deployments/ns/name` → `deployments.apps`; core resources by their plural alone.
    static func type(of key: String) -> String {
        let parts = key.split(separator: "/", maxSplits: 3)
        guard parts.count >= 3, parts[0] == "registry" else { return "" }
        return parts[1] == "core" ? String(parts[2]) : "\(parts[2]).\(parts[1])"
    }

    private func timed<T>(_ operation: String, _ key: String, _ body: () async throws -> T) async throws -> T {
        let started = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - started
            Timer(label: "etcd_request_duration_seconds", dimensions: [("operation", operation), ("type", Self.type(of: key))], factory: factory)
                .record(elapsed)
        }
        return try await body()
    }

    public func currentRevision() async throws -> Int64 { try await base.currentRevision() }
    public func compactedRevision() async throws -> Int64 { try await base.compactedRevision() }

    public func create(_ key: String, value: [UInt8]) async throws -> KeyValue {
        try await timed("create", key) { try await base.create(key, value: value) }
    }

    public func update(_ key: String, value: [UInt8], expectedRevision: Int64?) async throws -> KeyValue {
        try await timed("update", key) { try await base.update(key, value: value, expectedRevision: expectedRevision) }
    }

    public func delete(_ key: String, expectedRevision: Int64?) async throws -> (deleted: KeyValue, revision: Int64) {
        try await timed("delete", key) { try await base.delete(key, expectedRevision: expectedRevision) }
    }

    public func get(_ key: String) async throws -> KeyValue? {
        try await timed("get", key) { try await base.get(key) }
    }

    public func range(_ request: RangeRequest) async throws -> RangeResult {
        try await timed("listWithCount", request.prefix) { try await base.range(request) }
    }

    public func watch(prefix: String, afterRevision: Int64) async throws -> WatchStream {
        try await base.watch(prefix: prefix, afterRevision: afterRevision)
    }

    public func compact(through revision: Int64) async throws { try await base.compact(through: revision) }
    public func requestProgress() async throws { try await base.requestProgress() }
    public func close() async { await base.close() }
}
