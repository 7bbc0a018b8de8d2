import KubeAPI
import KubeModel
import Synchronization

/// What an informer tells its handlers.
public enum InformerEvent: Sendable {
    /// The object exists: on start, and again for every object after the informer lists anew.
    case sync(ObjectKey)
    /// One change, with the object's state before and after it.
    case change(CachedResource.Event)

    public var key: ObjectKey {
        switch self {
        case .sync(let key): key
        case .change(let event): event.key
        }
    }
}

/// One resource's informer: reads objects from the API server's watch cache and calls each handler,
/// in order, for every change. Shared by every controller of a control plane.
public final class Informer: Sendable {
    public typealias Handler = @Sendable (InformerEvent) -> Void

    public let objects: CachedResource
    private let handlers = Mutex<[Handler]>([])
    private let synced = Mutex(false)

    init(objects: CachedResource) {
        self.objects = objects
    }

    public var resource: ResourceType { objects.resource }

    /// Adds a handler; it is first told of every object there is now, then of every change.
    public func addHandler(_ handler: @escaping Handler) {
        let replay = handlers.withLock { handlers -> Bool in
            handlers.append(handler)
            return synced.withLock { $0 }
        }
        if replay { for key in objects.keys() { handler(.sync(key)) } }
    }

    public var hasSynced: Bool { synced.withLock { $0 } }

    public func get(_ key: ObjectKey) -> JSON? { objects.get(key) }

    public func list(namespace: String? = nil, selector: LabelSelector = .everything) -> [JSON] {
        objects.list(namespace: namespace, selector: selector)
    }

    /// The object an event is about as it is after the event: nil once it is deleted.
    public func current(_ event: InformerEvent) -> JSON? {
        switch event {
        case .sync(let key): get(key)
        case .change(let change) where change.kind == .deleted: nil
        case .change(let change): change.object
        }
    }

    /// Follows the cache until cancelled; lists again whenever the cache starts over or cuts it off.
    func run() async {
        while !Task.isCancelled {
            guard let subscription = await objects.subscribe() else {
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            let current = handlers.withLock { handlers in
                synced.withLock { $0 = true }
                return handlers
            }
            for key in subscription.initial {
                for handler in current { handler(.sync(key)) }
            }
            for await event in subscription.events {
                for handler in handlers.withLock({ $0 }) { handler(.change(event)) }
            }
        }
    }
}

/// The informers of one client, one per resource, started together: what a controller manager gives
/// each of its controllers (client-go's shared informer factory).
public final class SharedInformers: Sendable {
    public let client: KubeClient
    private let informers = Mutex<[String: Informer]>([:])
    private let started = Mutex(false)
    private let running = Mutex<[Task<Void, Never>]>([])

    public init(client: KubeClient) {
        self.client = client
    }

    /// The informer of a resource (authorized for list and watch as the client's user).
    public func informer(_ resource: ResourceType) async throws -> Informer {
        let name = "\(resource.groupVersion)/\(resource.resource)"
        if let existing = informers.withLock({ $0[name] }) { return existing }
        let objects = try await client.cached(resource)
        let (informer, isNew) = informers.withLock { informers -> (Informer, Bool) in
            if let existing = informers[name] { return (existing, false) }
            let informer = Informer(objects: objects)
            informers[name] = informer
            return (informer, true)
        }
        if isNew, started.withLock({ $0 }) { start(informer) }
        return informer
    }

    public func informer(_ plural: String, group: String = "", version: String = "v1") async throws -> Informer {
        try await informer(try client.resource(plural, group: group, version: version))
    }

    /// Starts every informer (and any created later); they run until `stop`.
    public func start() {
        let all = informers.withLock { informers in
            started.withLock { $0 = true }
            return Array(informers.values)
        }
        for informer in all { start(informer) }
    }

    private func start(_ informer: Informer) {
        // Each informer's loop is owned here and cancelled by `stop`, which the controller manager calls.
        let task = Task { await informer.run() }
        running.withLock { $0.append(task) }
    }

    /// Waits until every informer has listed its objects once.
    public func waitForSync() async {
        while !Task.isCancelled, !informers.withLock({ $0.values.allSatisfy(\.hasSynced) }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    public func stop() async {
        let tasks = running.withLock { running in
            defer { running.removeAll() }
            return running
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}
