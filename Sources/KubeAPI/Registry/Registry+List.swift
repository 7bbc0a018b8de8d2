import KubeStore
import KubeModel

/// Lists: from the watch cache where it can answer, else from the store.
extension Registry {
    public func list(_ resource: ResourceType, namespace: String?, options: ListOptions) async throws -> ObjectList {
        if let cached = try await listFromCache(resource, namespace: namespace, options: options) { return cached }
        return try await listFromStore(resource, namespace: namespace, options: options)
    }

    func listFromStore(_ resource: ResourceType, namespace: String?, options: ListOptions) async throws -> ObjectList {
        let prefix = resource.keyPrefix(namespace: namespace)
        var revision: Int64? = nil
        var startAfter: String? = nil
        if let token = options.continueToken, !token.isEmpty {
            let decoded = try ContinueToken.decode(token)
            revision = decoded.rv
            startAfter = prefix + decoded.start
        } else if options.resourceVersionMatch == "Exact" {
            revision = try Self.revision(options.resourceVersion)
        }
        var items: [JSON] = []
        var lastKey: String? = nil
        var readRevision: Int64 = 0
        var more = false
        let filtered = !options.labelSelector.isEmpty || !options.fieldSelector.isEmpty
        // With selectors a page may filter down to nothing: keep reading until the limit is met.
        repeat {
            let page: RangeResult
            do {
                page = try await store.range(RangeRequest(prefix: prefix, revision: revision,
                                                          limit: options.limit.map { max($0 - items.count, filtered ? 256 : 1) },
                                                          startAfter: startAfter))
            } catch StoreError.compacted {
                throw APIError.expired(options.continueToken != nil
                    ? "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."
                    : "too old resource version: \(revision ?? 0)")
            } catch StoreError.futureRevision(let future) {
                throw APIError.timeout("Too large resource version: \(future), current: \(try await store.currentRevision())")
            }
            readRevision = page.revision
            revision = page.revision
            for kv in page.items {
                lastKey = kv.key
                let object = try object(from: kv, as: resource)
                if matches(object, resource: resource, options: options) {
                    items.append(object)
                    if let limit = options.limit, items.count == limit { break }
                }
            }
            startAfter = lastKey
            let reachedLimit = options.limit.map { items.count >= $0 } ?? false
            more = page.more || (reachedLimit && lastKey != page.items.last?.key)
            if reachedLimit { break }
        } while more
        let token = more ? lastKey.map { ContinueToken(revision: readRevision, after: String($0.dropFirst(prefix.count))).encoded } : nil
        return ObjectList(items: items, resourceVersion: String(readRevision), continueToken: token, remainingItemCount: nil)
    }

    func matches(_ object: JSON, resource: ResourceType, options: ListOptions) -> Bool {
        guard options.labelSelector.matches(object.labels) else { return false }
        guard !options.fieldSelector.isEmpty else { return true }
        var fields = resource.strategy.selectableFields(object)
        fields["metadata.name"] = object.name
        if resource.namespaced { fields["metadata.namespace"] = object.namespace ?? "" }
        return options.fieldSelector.matches(fields)
    }

    /// A list served from the watch cache, or nil when only the store can answer (an exact past
    /// revision, or a continue token from a revision the cache has moved past).
    func listFromCache(_ resource: ResourceType, namespace: String?, options: ListOptions) async throws -> ObjectList? {
        guard let page = try await cachedPage(resource, namespace: namespace, options: options) else { return nil }
        let prefix = resource.keyPrefix(namespace: namespace)
        let token = page.continueAfter.map { ContinueToken(revision: page.revision, after: String($0.dropFirst(prefix.count))).encoded }
        return ObjectList(contents: .encoded(page.entries.map(\.bytes)), resourceVersion: String(page.revision),
                          continueToken: token, remainingItemCount: nil)
    }

    /// The watch cache's entries for a list, or nil when only the store can answer.
    func cachedPage(_ resource: ResourceType, namespace: String?, options: ListOptions) async throws
        -> (entries: [WatchCache.Entry], revision: Int64, continueAfter: String?)? {
        if options.resourceVersionMatch == "Exact" { return nil }
        let cache = cache(for: resource)
        let prefix = resource.keyPrefix(namespace: namespace)
        var startAfter: String?
        var pinned: Int64?
        if let token = options.continueToken, !token.isEmpty {
            let decoded = try ContinueToken.decode(token)
            startAfter = prefix + decoded.start
            pinned = decoded.rv
        }
        // A list without a resource version is a consistent read: the cache first catches up with the store.
        let wanted: Int64 = switch options.resourceVersion {
        case "0": 0
        case let text? where !text.isEmpty: try Self.revision(text) ?? 0
        default: try await store.currentRevision()
        }
        guard await cache.catchUp(to: pinned ?? wanted, store: store) else { return nil }
        let page = cache.list(keyPrefix: prefix, startAfter: startAfter, limit: options.limit,
                              labels: options.labelSelector, fields: options.fieldSelector)
        if let pinned, page.revision != pinned { return nil }
        return page
    }
}
