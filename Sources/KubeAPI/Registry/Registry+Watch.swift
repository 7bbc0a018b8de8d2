import Foundation
import KubeStore
import Synchronization
import KubeModel

extension Registry {
    public typealias EventStream = AsyncThrowingStream<ObjectEvent, any Error>

    /// Watches a resource. Without a resource version (or with "0") it starts with the current
    /// objects as ADDED events, as the real API server does; with one, it sends every change after it.
    /// Events come from the resource's watch cache, each change decoded and encoded once for all its
    /// watchers; from a store watch of this watcher's own when the cache does not reach back that far.
    public func watch(_ resource: ResourceType, namespace: String?, options: ListOptions) async throws -> EventStream {
        var initial: [WatchCache.Entry] = []
        var after: Int64
        let requested = try Self.revision(options.resourceVersion)
        let sendInitial = options.sendInitialEvents ?? (requested == nil || requested == 0)
        if sendInitial {
            (initial, after) = try await initialEntries(resource, namespace: namespace, options: options)
        } else {
            after = requested ?? 0
        }
        let selection = WatchCache.Selection(prefix: resource.keyPrefix(namespace: namespace), labels: options.labelSelector,
                                             fields: options.fieldSelector, beganFromList: sendInitial)
        // Room for every initial object; the limit is on the live events a slow client lets pile up.
        let (stream, continuation) = EventStream.makeStream(bufferingPolicy: .bufferingOldest(initial.count + 1 + WatchCache.watcherBufferLimit))
        for entry in initial { continuation.yield(ObjectEvent(type: .added, encoded: entry.bytes)) }
        if options.sendInitialEvents == true && options.allowWatchBookmarks {
            continuation.yield(Self.bookmark(resource, revision: after, initialEventsEnd: true))
        }
        let matching = Set(initial.map(\.key))
        let cache = cache(for: resource)
        // The cache may still hold changes the store has compacted away: those are gone for clients too (410).
        let compacted = sendInitial ? 0 : try await store.compactedRevision()
        if after >= compacted, let id = cache.watch(after: after, selection: selection, matching: matching, continuation: continuation) {
            if options.allowWatchBookmarks {
                let bookmarks = Task { [bookmarkInterval] in
                    while (try? await Task.sleep(for: bookmarkInterval)) != nil { cache.bookmark(id, resource: resource) }
                }
                continuation.onTermination = { [weak cache] _ in
                    bookmarks.cancel()
                    cache?.unsubscribe(id)
                }
            }
            return stream
        }
        let events = try await store.watch(prefix: selection.prefix, afterRevision: after)
        // The revision every event up to has been sent; a bookmark is sent under the same lock, after them.
        let delivered = DeliveredRevision(after)
        let bookmarks = Task { [bookmarkInterval] in
            guard options.allowWatchBookmarks else { return }
            while (try? await Task.sleep(for: bookmarkInterval)) != nil {
                delivered.revision.withLock { _ = continuation.yield(Self.bookmark(resource, revision: $0)) }
            }
        }
        let task = Task {
            var matching = matching
            do {
                for try await event in events {
                    if case .progress(let revision) = event { delivered.revision.withLock { $0 = max($0, revision) } }
                    guard let change = try WatchCache.change(event, resource: resource) else { continue }
                    let dropped = delivered.revision.withLock { delivered -> Bool in
                        delivered = max(delivered, change.revision)
                        guard let event = selection.event(for: change, matching: &matching) else { return false }
                        if case .dropped = continuation.yield(event) { return true }
                        return false
                    }
                    if dropped { break }
                }
                continuation.finish()
            } catch StoreError.compacted(let compacted) {
                continuation.yield(ObjectEvent(type: .error, object: APIError.expired("too old resource version: \(after) (\(compacted + 1))").status))
                continuation.finish()
            } catch StoreError.watcherTooSlow {
                // The client re-lists and watches again, as after any closed watch.
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in
            task.cancel()
            bookmarks.cancel()
        }
        return stream
    }

    /// The objects a watch starts with, as the watch cache keeps them, and the revision they were read at.
    private func initialEntries(_ resource: ResourceType, namespace: String?, options: ListOptions) async throws
        -> ([WatchCache.Entry], Int64) {
        var listOptions = options
        listOptions.limit = nil
        listOptions.continueToken = nil
        listOptions.resourceVersionMatch = nil
        if let cached = try await cachedPage(resource, namespace: namespace, options: listOptions) {
            return (cached.entries, cached.revision)
        }
        let list = try await listFromStore(resource, namespace: namespace, options: listOptions)
        let entries = list.items.map { object in
            WatchCache.entry(object, key: resource.key(namespace: object.namespace, name: object.name), resource: resource)
        }
        return (entries, Int64(list.resourceVersion) ?? 0)
    }

    static func bookmark(_ resource: ResourceType, revision: Int64, initialEventsEnd: Bool = false) -> ObjectEvent {
        var metadata: JSON = ["resourceVersion": .string(String(revision))]
        if initialEventsEnd { metadata["annotations"] = ["k8s.io/initial-events-end": "true"] }
        return ObjectEvent(type: .bookmark, object: ["kind": .string(resource.kind), "apiVersion": .string(resource.groupVersion),
                                                     "metadata": metadata])
    }
}

/// How far a store-fed watch has sent its events.
final class DeliveredRevision: Sendable {
    let revision: Mutex<Int64>

    init(_ revision: Int64) {
        self.revision = Mutex(revision)
    }
}
