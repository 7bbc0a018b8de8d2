import KubeModel

/// One resource's objects as the API server's watch cache holds them: what in-process informers read,
/// so controllers share the API server's one copy of every object instead of keeping their own.
/// Objects are kept encoded and decoded when read.
public struct CachedResource: Sendable {
    let registry: Registry
    public let resource: ResourceType

    /// The cache as it is now: after a failure (its store watch ended) the registry starts a new one.
    var cache: WatchCache { registry.cache(for: resource) }

    /// A change of one object, with its state before and after (a deleted object's last state).
    public struct Event: Sendable {
        public enum Kind: Sendable { case added, updated, deleted }

        public let kind: Kind
        public let key: ObjectKey
        /// The object after the change (its last state for a delete), decoded once for every handler.
        public let object: JSON
        let previousBytes: [UInt8]?
        /// The uids the object's ownerReferences name (after the change, and before it).
        public let owners: [String]
        public let previousOwners: [String]

        /// The object before the change, decoded when asked for.
        public var previous: JSON? { previousBytes.flatMap { try? JSONCoding.decode($0) } }
    }

    /// The objects as they were when it subscribed, then every change after them, in order.
    public struct Subscription: Sendable {
        public let initial: [ObjectKey]
        public let revision: Int64
        public let events: AsyncMapSequence<AsyncStream<WatchCache.InformerChange>, Event>
    }

    /// Subscribes once the cache has loaded; nil if the cache failed meanwhile (subscribe again).
    public func subscribe() async -> Subscription? {
        await waitUntilLoaded()
        guard let (entries, revision, changes) = cache.subscribeInformer() else { return nil }
        let events = changes.map { change -> Event in
            let entry = change.change.entry
            let kind: Event.Kind = switch change.change.kind {
            case .delete: .deleted
            case .put: change.previous == nil ? .added : .updated
            }
            return Event(kind: kind, key: ObjectKey(namespace: entry.namespace, name: entry.name),
                         object: change.object,
                         previousBytes: change.previous?.bytes, owners: entry.owners, previousOwners: change.previous?.owners ?? [])
        }
        return Subscription(initial: entries.map { ObjectKey(namespace: $0.namespace, name: $0.name) }, revision: revision, events: events)
    }

    /// Waits until the cache holds every object (it loads on first use).
    public func waitUntilLoaded() async {
        var delay = Duration.milliseconds(1)
        while !cache.isLoaded, !Task.isCancelled {
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .milliseconds(100))
        }
    }

    /// The object as the cache keeps it, encoded: comparing these bytes tells whether it changed without decoding it.
    public func encoded(_ key: ObjectKey) -> [UInt8]? {
        cache.entry(resource.key(namespace: key.namespace, name: key.name))?.bytes
    }

    public func get(_ key: ObjectKey) -> JSON? {
        cache.entry(resource.key(namespace: key.namespace, name: key.name)).flatMap { try? JSONCoding.decode($0.bytes) }
    }

    /// Every object (in one namespace when given), in key order, that the selector selects.
    public func list(namespace: String? = nil, selector: LabelSelector = .everything) -> [JSON] {
        cache.list(keyPrefix: resource.keyPrefix(namespace: namespace), startAfter: nil, limit: nil, labels: selector, fields: .everything)
            .entries.compactMap { try? JSONCoding.decode($0.bytes) }
    }

    /// The keys of every object (in one namespace when given), without decoding them.
    public func keys(namespace: String? = nil) -> [ObjectKey] {
        cache.list(keyPrefix: resource.keyPrefix(namespace: namespace), startAfter: nil, limit: nil, labels: .everything, fields: .everything)
            .entries.map { ObjectKey(namespace: $0.namespace, name: $0.name) }
    }

    /// The objects whose indexed field (one of the strategy's `indexedFields`) has `value`.
    public func list(field: String, value: String) -> [JSON] {
        cache.entries(field: field, value: value).compactMap { try? JSONCoding.decode($0.bytes) }
    }

    /// The objects whose ownerReferences name `uid` (not empty: "" indexes the objects without owners).
    public func dependents(of uid: String) -> [JSON] {
        cache.dependents(of: uid).compactMap { try? JSONCoding.decode($0.bytes) }
    }

    /// What the cache knows of an object without decoding it.
    public struct Summary: Sendable {
        public let key: ObjectKey
        public let labels: [String: String]
        /// Its selectable fields (`spec.nodeName`, `status.phase`).
        public let fields: [String: String]
        /// The uid of its controller, if any.
        public let controller: String?
        /// What the kind's strategy summarizes of it (a pod's `ready`, `readySince`, `deleting`, `created`).
        public let summary: [String: String]

        public init(key: ObjectKey, labels: [String: String], fields: [String: String], controller: String?, summary: [String: String]) {
            self.key = key
            self.labels = labels
            self.fields = fields
            self.controller = controller
            self.summary = summary
        }
    }

    /// The objects whose ownerReferences name `uid`, summarized.
    public func dependentSummaries(of uid: String) -> [Summary] {
        cache.dependents(of: uid).map {
            Summary(key: ObjectKey(namespace: $0.namespace, name: $0.name), labels: $0.labels, fields: $0.fields,
                    controller: $0.controller, summary: $0.summary)
        }
    }

    /// The objects in a namespace that the selector selects and that have no owner (candidates for
    /// adoption), chosen before any is decoded.
    public func unowned(namespace: String, selector: LabelSelector) -> [JSON] {
        let prefix = resource.keyPrefix(namespace: namespace)
        return cache.dependents(of: "").filter { $0.key.hasPrefix(prefix) && selector.matches($0.labels) }
            .compactMap { try? JSONCoding.decode($0.bytes) }
    }

    /// What the cache knows of one object, without decoding it.
    public func summary(_ key: ObjectKey) -> Summary? {
        cache.entry(resource.key(namespace: key.namespace, name: key.name)).map {
            Summary(key: key, labels: $0.labels, fields: $0.fields, controller: $0.controller, summary: $0.summary)
        }
    }

    /// Whether the object exists, without decoding it.
    public func contains(_ key: ObjectKey) -> Bool {
        cache.entry(resource.key(namespace: key.namespace, name: key.name)) != nil
    }
}

extension APIServer {
    /// A resource's cached objects for an in-process informer running as `user`, who must be allowed to list
    /// and watch it at the cluster scope, as an informer's list and watch are authorized.
    public func cachedResource(_ resource: ResourceType, for user: UserInfo) async throws -> CachedResource {
        for verb in ["list", "watch"] {
            let attributes = ResourceAttributes(verb: verb, group: resource.group, version: resource.version, resource: resource.resource,
                                                subresource: nil, namespace: nil, name: nil)
            guard await authorizer.authorize(AuthorizationRequest(user: user, resource: attributes)).allowed else {
                throw APIError.forbidden("\(APIError.qualified(resource.resource, group: resource.group)) is forbidden: User \"\(user.name)\" cannot \(verb) resource \"\(resource.resource)\" in API group \"\(resource.group)\" at the cluster scope",
                                         resource: resource.resource, group: resource.group)
            }
        }
        return CachedResource(registry: registry, resource: resource)
    }
}
