import KubeStore
import Synchronization

/// The current objects of one resource, kept in memory from a single store
/// watch, so lists are served without reading or decoding the store. Each
/// object is kept encoded (with its resourceVersion) beside the labels and
/// selectable fields that selectors need.
final class WatchCache: Sendable {
    struct Entry: Sendable {
        let key: String
        let namespace: String?
        let name: String
        let labels: [String: String]
        let fields: [String: String]
        let bytes: [UInt8]
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var sortedKeys: [String]?
        var revision: Int64 = -1
        var failed = false
    }

    let prefix: String
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(resource: ResourceType, store: any KubeStore) {
        prefix = resource.keyPrefix(namespace: nil)
        let started = Task { [weak self] in _ = await self?.follow(resource: resource, store: store) }
        task.withLock { $0 = started }
    }

    func stop() {
        task.withLock { $0?.cancel() }
    }

    private func follow(resource: ResourceType, store: any KubeStore) async {
        do {
            let initial = try await store.range(RangeRequest(prefix: prefix))
            var entries: [String: Entry] = [:]
            for kv in initial.items { entries[kv.key] = try Self.entry(kv, revision: kv.modRevision, resource: resource) }
            apply(revision: initial.revision) { state in state.entries = entries; state.sortedKeys = nil }
            for try await event in try await store.watch(prefix: prefix, afterRevision: initial.revision) {
                switch event {
                case .put(let kv):
                    let entry = try Self.entry(kv, revision: kv.modRevision, resource: resource)
                    apply(revision: kv.modRevision) { state in
                        if state.entries.updateValue(entry, forKey: kv.key) == nil { state.sortedKeys = nil }
                    }
                case .delete(let kv, let revision):
                    apply(revision: revision) { state in
                        state.entries.removeValue(forKey: kv.key)
                        state.sortedKeys = nil
                    }
                case .progress(let revision):
                    apply(revision: revision) { _ in }
                }
            }
        } catch {}
        // The watch ended (compaction, a slow consumer, shutdown): lists go to the store until a new cache starts.
        state.withLock { $0.failed = true }
    }

    static func entry(_ kv: KeyValue, revision: Int64, resource: ResourceType) throws -> Entry {
        var object = try JSONCoding.decode(kv.value)
        object.resourceVersion = String(revision)
        var fields = resource.strategy.selectableFields(object)
        fields["metadata.name"] = object.name
        if resource.namespaced { fields["metadata.namespace"] = object.namespace ?? "" }
        return Entry(key: kv.key, namespace: object.namespace, name: object.name, labels: object.labels, fields: fields,
                     bytes: JSONCoding.encode(object))
    }

    private func apply(revision: Int64, _ change: (inout State) -> Void) {
        state.withLock { state in
            change(&state)
            state.revision = max(state.revision, revision)
        }
    }

    var isUsable: Bool { state.withLock { !$0.failed } }

    /// Waits until the cache has applied `revision`, asking the store for progress markers meanwhile;
    /// false if it cannot soon (it failed, or is still loading), and the caller reads the store instead.
    func catchUp(to revision: Int64, store: any KubeStore) async -> Bool {
        for attempt in 0..<200 {
            let (reached, failed) = state.withLock { ($0.revision >= revision, $0.failed) }
            if reached { return true }
            if failed || Task.isCancelled { return false }
            if attempt % 20 == 0 { try? await store.requestProgress() }
            try? await Task.sleep(for: .microseconds(250))
        }
        return false
    }

    /// The objects under `keyPrefix` after `startAfter`, in key order, matching the selectors; at most `limit`.
    /// Returns the page, the cache revision it was read at, and the key to continue after (if more follow).
    func list(keyPrefix: String, startAfter: String?, limit: Int?, labels: LabelSelector, fields: FieldSelector)
        -> (entries: [Entry], revision: Int64, continueAfter: String?) {
        state.withLock { state in
            if state.sortedKeys == nil { state.sortedKeys = state.entries.keys.sorted() }
            let keys = state.sortedKeys!
            var index = Self.lowerBound(keys, keyPrefix)
            if let startAfter, startAfter >= keyPrefix { index = Self.upperBound(keys, startAfter) }
            var page: [Entry] = []
            while index < keys.count, keys[index].hasPrefix(keyPrefix) {
                let entry = state.entries[keys[index]]!
                index += 1
                guard labels.matches(entry.labels), fields.isEmpty || fields.matches(entry.fields) else { continue }
                page.append(entry)
                if let limit, page.count == limit { break }
            }
            let more = index < keys.count && keys[index].hasPrefix(keyPrefix) && limit != nil && page.count == limit
            return (page, state.revision, more ? page.last?.key : nil)
        }
    }

    static func lowerBound(_ keys: [String], _ value: String) -> Int {
        var low = 0, high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    static func upperBound(_ keys: [String], _ value: String) -> Int {
        var low = 0, high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] <= value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

