import KubeStore
import Synchronization
import KubeModel

/// The current objects of one resource, kept in memory from a single store
/// watch, so lists are served without reading or decoding the store. Each
/// object is kept encoded (with its resourceVersion) beside the labels and
/// selectable fields that selectors need. Recent changes are kept too, and
/// handed to every watcher of the resource as they are applied: one store
/// watch and one decoding per change, however many clients watch.
public final class WatchCache: Sendable {
    struct Entry: Sendable {
        let key: String
        let namespace: String?
        let name: String
        let labels: [String: String]
        let fields: [String: String]
        /// The uids its ownerReferences name, and the one of its controller.
        let owners: [String]
        let controller: String?
        /// What the kind's strategy summarizes of it for controllers.
        let summary: [String: String]
        let bytes: [UInt8]
    }

    /// One change the cache applied. A deleted object's entry carries the deletion's revision.
    struct Change: Sendable {
        enum Kind: Sendable {
            case put(created: Bool)
            case delete
        }

        let kind: Kind
        let revision: Int64
        let entry: Entry
    }

    /// What one watcher is sent: the changes under its prefix that its selectors select.
    struct Selection: Sendable {
        let prefix: String
        let labels: LabelSelector
        let fields: FieldSelector
        /// The watch began from a full list, so an object entering the selection is ADDED (not MODIFIED).
        let beganFromList: Bool

        /// The event a change is for this watcher, if any; `matching` holds the keys it currently selects,
        /// so that an object leaving the selection is DELETED for it.
        func event(for change: Change, matching: inout Set<String>) -> ObjectEvent? {
            let entry = change.entry
            guard entry.key.hasPrefix(prefix) else { return nil }
            let selected = labels.matches(entry.labels) && (fields.isEmpty || fields.matches(entry.fields))
            switch change.kind {
            case .put(let created):
                if selected {
                    let added = matching.insert(entry.key).inserted && (created || beganFromList)
                    return ObjectEvent(type: added ? .added : .modified, encoded: entry.bytes)
                }
                return matching.remove(entry.key) != nil ? ObjectEvent(type: .deleted, encoded: entry.bytes) : nil
            case .delete:
                return matching.remove(entry.key) != nil || selected ? ObjectEvent(type: .deleted, encoded: entry.bytes) : nil
            }
        }
    }

    /// One change as informers see it: the object's state after it (its last state for a delete) and before it.
    public struct InformerChange: Sendable {
        let change: Change
        let previous: Entry?
        /// The object after the change, decoded once for every informer.
        let object: JSON
    }

    /// Changes a watcher may have waiting before it is cut off (its client watches again).
    static let watcherBufferLimit = 10_000
    /// Changes kept for watchers that start at a recent revision.
    static let recentLimit = 4096

    private struct Subscriber {
        let after: Int64
        let selection: Selection
        var matching: Set<String>
        let continuation: Registry.EventStream.Continuation
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Keys by the owner uids their objects' ownerReferences name, for the garbage collector.
        var dependents: [String: Set<String>] = [:]
        /// Keys by the value of each indexed field (`spec.nodeName` → node → pods).
        var fieldIndex: [String: [String: Set<String>]] = [:]
        var informers: [Int: AsyncStream<InformerChange>.Continuation] = [:]
        var sortedKeys: [String]?
        var revision: Int64 = -1
        var failed = false
        /// The latest changes, oldest first; every change after `recentSince` is among them.
        var recent: [Change] = []
        var recentSince: Int64 = -1
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriber = 0

        mutating func index(_ entry: Entry, fields indexed: [String]) {
            // Objects without owners are indexed under "", for controllers looking for something to adopt.
            for owner in entry.owners.isEmpty ? [""] : entry.owners { dependents[owner, default: []].insert(entry.key) }
            for field in indexed {
                guard let value = entry.fields[field], !value.isEmpty else { continue }
                fieldIndex[field, default: [:]][value, default: []].insert(entry.key)
            }
        }

        mutating func unindex(_ entry: Entry, fields indexed: [String]) {
            for owner in entry.owners.isEmpty ? [""] : entry.owners {
                dependents[owner]?.remove(entry.key)
                if dependents[owner]?.isEmpty == true { dependents.removeValue(forKey: owner) }
            }
            for field in indexed {
                guard let value = entry.fields[field], !value.isEmpty else { continue }
                fieldIndex[field]?[value]?.remove(entry.key)
                if fieldIndex[field]?[value]?.isEmpty == true { fieldIndex[field]?.removeValue(forKey: value) }
            }
        }
    }

    let prefix: String
    let recentLimit: Int
    let indexedFields: [String]
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(resource: ResourceType, store: any KubeStore, recentLimit: Int = WatchCache.recentLimit) {
        prefix = resource.keyPrefix(namespace: nil)
        self.recentLimit = recentLimit
        indexedFields = resource.strategy.indexedFields
        let started = Task { [weak self] in _ = await self?.follow(resource: resource, store: store) }
        task.withLock { $0 = started }
    }

    func stop() {
        task.withLock { $0?.cancel() }
        fail()
    }

    /// How many objects the cache holds.
    var count: Int { state.withLock { $0.entries.count } }

    /// Marks the cache unusable and ends its watchers' streams.
    private func fail() {
        let (ended, informers) = state.withLock { state in
            state.failed = true
            defer {
                state.subscribers.removeAll()
                state.informers.removeAll()
            }
            return (state.subscribers.values.map(\.continuation), Array(state.informers.values))
        }
        for continuation in ended { continuation.finish() }
        for informer in informers { informer.finish() }
    }

    private func follow(resource: ResourceType, store: any KubeStore) async {
        do {
            let initial = try await store.range(RangeRequest(prefix: prefix))
            var entries: [String: Entry] = [:]
            for kv in initial.items { entries[kv.key] = try Self.entry(kv, revision: kv.modRevision, resource: resource) }
            let indexed = indexedFields
            apply(revision: initial.revision, change: nil) { state in
                state.entries = entries
                for entry in entries.values { state.index(entry, fields: indexed) }
                state.sortedKeys = nil
                state.recentSince = initial.revision
            }
            for try await event in try await store.watch(prefix: prefix, afterRevision: initial.revision) {
                guard let (change, object) = try Self.decodedChange(event, resource: resource) else {
                    if case .progress(let revision) = event { apply(revision: revision, change: nil) { _ in } }
                    continue
                }
                let entry = change.entry
                apply(revision: change.revision, change: change, object: object) { state in
                    switch change.kind {
                    case .put:
                        if let previous = state.entries.updateValue(entry, forKey: entry.key) {
                            state.unindex(previous, fields: indexed)
                        } else {
                            state.sortedKeys = nil
                        }
                        state.index(entry, fields: indexed)
                    case .delete:
                        if let previous = state.entries.removeValue(forKey: entry.key) { state.unindex(previous, fields: indexed) }
                        state.sortedKeys = nil
                    }
                }
            }
        } catch {}
        // The watch ended (compaction, a slow consumer, shutdown): lists go to the store until a new cache starts,
        // and watchers start again from their clients.
        fail()
    }

    /// A store event as a change of the resource's objects; nil for a progress marker.
    static func change(_ event: WatchEvent, resource: ResourceType) throws -> Change? {
        try decodedChange(event, resource: resource)?.change
    }

    /// The change, with the object it leaves (decoded once, for informers).
    static func decodedChange(_ event: WatchEvent, resource: ResourceType) throws -> (change: Change, object: JSON)? {
        switch event {
        case .put(let kv):
            let (entry, object) = try decodedEntry(kv, revision: kv.modRevision, resource: resource)
            return (Change(kind: .put(created: kv.version == 1), revision: kv.modRevision, entry: entry), object)
        case .delete(let kv, let revision):
            let (entry, object) = try decodedEntry(kv, revision: revision, resource: resource)
            return (Change(kind: .delete, revision: revision, entry: entry), object)
        case .progress:
            return nil
        }
    }

    static func entry(_ kv: KeyValue, revision: Int64, resource: ResourceType) throws -> Entry {
        try decodedEntry(kv, revision: revision, resource: resource).entry
    }

    static func decodedEntry(_ kv: KeyValue, revision: Int64, resource: ResourceType) throws -> (entry: Entry, object: JSON) {
        var object = try JSONCoding.decode(kv.value)
        object.resourceVersion = String(revision)
        let stored = object["apiVersion"]
        resource.convert(&object)
        // Unconverted, the stored bytes with the revision spliced in are what encoding the object again would give.
        let spliced = object["apiVersion"] == stored ? EncodedObject.settingResourceVersion(revision, in: kv.value) : nil
        return (entry(object, key: kv.key, resource: resource, bytes: spliced), object)
    }

    static func entry(_ object: JSON, key: String, resource: ResourceType, bytes: [UInt8]? = nil) -> Entry {
        var fields = resource.strategy.selectableFields(object)
        fields["metadata.name"] = object.name
        if resource.namespaced { fields["metadata.namespace"] = object.namespace ?? "" }
        let references = object[path: ["metadata", "ownerReferences"]]?.array ?? []
        let owners = references.compactMap { $0["uid"]?.string }
        let controller = references.first { $0["controller"]?.bool == true }?["uid"]?.string
        return Entry(key: key, namespace: object.namespace, name: object.name, labels: object.labels, fields: fields,
                     owners: owners, controller: controller, summary: resource.strategy.summary(object),
                     bytes: bytes ?? JSONCoding.encode(object))
    }

    private func apply(revision: Int64, change: Change?, object: JSON = [:], _ update: (inout State) -> Void) {
        let slow = state.withLock { state -> [Registry.EventStream.Continuation] in
            let previous = change.flatMap { state.entries[$0.entry.key] }
            update(&state)
            state.revision = max(state.revision, revision)
            guard let change else { return [] }
            if !state.informers.isEmpty {
                // An informer that cannot keep up is cut off; it lists again from the cache and carries on.
                var cut: [Int] = []
                for (id, informer) in state.informers {
                    if case .dropped = informer.yield(InformerChange(change: change, previous: previous, object: object)) { cut.append(id) }
                }
                for id in cut { state.informers.removeValue(forKey: id)?.finish() }
            }
            state.recent.append(change)
            if state.recent.count > recentLimit {
                let dropped = state.recent.count - recentLimit / 2
                state.recentSince = state.recent[dropped - 1].revision
                state.recent.removeFirst(dropped)
            }
            // Each watcher by position, edited in place: no hashing per watcher and change.
            var slow: [Int] = []
            for index in state.subscribers.values.indices where change.revision > state.subscribers.values[index].after {
                let selection = state.subscribers.values[index].selection
                guard let event = selection.event(for: change, matching: &state.subscribers.values[index].matching) else { continue }
                if case .dropped = state.subscribers.values[index].continuation.yield(event) { slow.append(state.subscribers.keys[index]) }
            }
            return slow.compactMap { state.subscribers.removeValue(forKey: $0)?.continuation }
        }
        for continuation in slow { continuation.finish() }
    }

    /// Sends a watcher its events after `revision`: the recent changes' first, then each change's as it is
    /// applied. Returns the watcher's id; nil if the cache cannot give all of them (it is loading or failed,
    /// or `revision` is older than it keeps), and then nothing was sent.
    func watch(after revision: Int64, selection: Selection, matching: Set<String>,
               continuation: Registry.EventStream.Continuation) -> Int? {
        let id = state.withLock { state -> Int? in
            guard !state.failed, state.recentSince >= 0, revision >= state.recentSince else { return nil }
            var matching = matching
            for change in state.recent where change.revision > revision {
                if let event = selection.event(for: change, matching: &matching) { continuation.yield(event) }
            }
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = Subscriber(after: max(revision, state.revision), selection: selection, matching: matching,
                                               continuation: continuation)
            return id
        }
        guard let id else { return nil }
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(id) }
        return id
    }

    func unsubscribe(_ id: Int) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: id) }
    }

    /// Sends watcher `id` a bookmark at the revision the cache has applied: after every event up to it,
    /// so a client that resumes from it misses nothing.
    func bookmark(_ id: Int, resource: ResourceType) {
        state.withLock { state in
            guard let subscriber = state.subscribers[id] else { return }
            _ = subscriber.continuation.yield(Registry.bookmark(resource, revision: max(subscriber.after, state.revision)))
        }
    }

    var isUsable: Bool { state.withLock { !$0.failed } }

    // MARK: Informers

    /// Changes an informer may have waiting before it is cut off and lists again.
    static let informerBufferLimit = 100_000

    /// The objects as they are now and, atomically with them, every later change; nil while the cache
    /// loads or after it failed.
    func subscribeInformer() -> (entries: [Entry], revision: Int64, changes: AsyncStream<InformerChange>)? {
        let (stream, continuation) = AsyncStream<InformerChange>.makeStream(bufferingPolicy: .bufferingOldest(Self.informerBufferLimit))
        let subscribed = state.withLock { state -> ([Entry], Int64, Int)? in
            guard !state.failed, state.recentSince >= 0 else { return nil }
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.informers[id] = continuation
            return (Array(state.entries.values), state.revision, id)
        }
        guard let (entries, revision, id) = subscribed else {
            continuation.finish()
            return nil
        }
        continuation.onTermination = { [weak self] _ in _ = self?.state.withLock { $0.informers.removeValue(forKey: id) } }
        return (entries, revision, stream)
    }

    /// Whether the cache has loaded (and not failed): what an informer's `hasSynced` waits for.
    var isLoaded: Bool { state.withLock { !$0.failed && $0.recentSince >= 0 } }

    func entry(_ key: String) -> Entry? { state.withLock { $0.entries[key] } }

    /// The entries whose indexed `field` has `value`.
    func entries(field: String, value: String) -> [Entry] {
        state.withLock { state in (state.fieldIndex[field]?[value] ?? []).compactMap { state.entries[$0] } }
    }

    /// The entries whose ownerReferences name `owner`.
    func dependents(of owner: String) -> [Entry] {
        state.withLock { state in (state.dependents[owner] ?? []).compactMap { state.entries[$0] } }
    }

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

