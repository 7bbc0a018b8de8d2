import Synchronization
import KubeAPI
import KubeClient
import KubeModel

/// The garbage collector: deletes objects whose owners are all gone (`Background`), deletes an owner's
/// blocking dependents before it (`Foreground`, the `foregroundDeletion` finalizer), and releases an
/// owner's dependents (`Orphan`, the `orphan` finalizer), as kube-controller-manager's does. It watches
/// every stored kind through the shared informers and finds dependents by their owners' uids in the
/// watch caches' owner index.
public struct GarbageCollector: Controller {
    public struct Item: Hashable, Sendable {
        /// `group/version/resource`
        let resource: String
        let key: ObjectKey
    }

    let client: KubeClient
    private let informers = InformerTable()

    public init(client: KubeClient) {
        self.client = client
    }

    public var name: String { "garbagecollector" }
    public var workers: Int { 4 }

    static func name(_ resource: ResourceType) -> String { "\(resource.groupVersion)/\(resource.resource)" }

    public func watch(_ shared: SharedInformers, queue: WorkQueue<Item>) async throws {
        for resource in client.storedResources {
            let informer = try await shared.informer(resource)
            informers.add(informer)
            let name = Self.name(resource)
            informer.addHandler { [informers] event in
                switch event {
                case .sync(let key):
                    queue.add(Item(resource: name, key: key))
                    // (Every object on a (re)list: the collector checks what it missed meanwhile.)
                case .change(let change):
                    if change.kind == .deleted {
                        // Its dependents may now be orphans; owners waiting in foreground may now be free.
                        if let uid = change.object.uid {
                            for (dependentResource, dependent) in informers.dependents(of: uid) {
                                queue.add(Item(resource: dependentResource, key: dependent))
                            }
                        }
                        for owner in informers.owners(of: change.object) { queue.add(owner) }
                    } else {
                        // Worth a look: a new object with owners, changed owners, or an object being deleted
                        // (its propagation finalizers are the collector's to carry out).
                        let ownersChanged = change.owners != change.previousOwners
                        if (change.kind == .added && !change.owners.isEmpty) || ownersChanged || change.object.deletionTimestamp != nil {
                            queue.add(Item(resource: name, key: change.key))
                        }
                        if ownersChanged {
                            for owner in informers.owners(of: change.object) { queue.add(owner) }
                        }
                    }
                }
            }
        }
    }

    public func reconcile(_ item: Item) async throws -> Reconciled {
        guard let informer = informers.informer(item.resource), let object = informer.get(item.key) else { return .done }
        let resource = informer.resource
        if object.deletionTimestamp != nil {
            if object.finalizers.contains(GarbageCollection.orphanFinalizer) {
                return try await orphanDependents(of: object, resource: resource)
            }
            if object.finalizers.contains(GarbageCollection.foregroundFinalizer) {
                return try await deleteDependents(of: object, resource: resource)
            }
        }
        return try await collectIfOrphaned(object, resource: resource)
    }

    /// A dependent whose owners are all gone is deleted; references to owners that are gone are dropped.
    func collectIfOrphaned(_ object: JSON, resource: ResourceType) async throws -> Reconciled {
        let references = object.ownerReferences
        guard !references.isEmpty else { return .done }
        var dangling: [OwnerReference] = []
        var foregroundOwner = false
        for reference in references {
            switch try await ownerState(reference, namespace: object.namespace) {
            case .absent: dangling.append(reference)
            case .deletingInForeground: foregroundOwner = true
            case .present: break
            }
        }
        guard !dangling.isEmpty else { return .done }
        if dangling.count == references.count {
            do {
                try await client.delete(resource, object.objectKey, propagationPolicy: foregroundOwner ? "Foreground" : "Background",
                                        preconditionUID: object.uid)
            } catch let error as APIError where error.isNotFound || error.isConflict {}
            return .done
        }
        var kept = object
        kept.ownerReferences = references.filter { !dangling.contains($0) }
        do {
            _ = try await client.update(resource, kept)
        } catch let error as APIError where error.isNotFound {}
        return .done
    }

    enum OwnerState { case present, absent, deletingInForeground }

    /// Whether an owner exists with the referenced uid. The cache can lag behind a just-created owner,
    /// so an absence is confirmed by reading the API, as the real collector does.
    func ownerState(_ reference: OwnerReference, namespace: String?) async throws -> OwnerState {
        guard let resource = client.server.registry.resources.find(group: reference.group, kind: reference.kind) else {
            // A kind the server does not serve (any more): the reference dangles.
            return .absent
        }
        let key = ObjectKey(namespace: resource.namespaced ? namespace : nil, name: reference.name)
        var owner = informers.informer(Self.name(resource))?.get(key)
        if owner?.uid != reference.uid {
            do {
                owner = try await client.get(resource, key)
            } catch let error as APIError where error.isNotFound {
                return .absent
            }
        }
        guard let owner, owner.uid == reference.uid else { return .absent }
        if owner.deletionTimestamp != nil, owner.finalizers.contains(GarbageCollection.foregroundFinalizer) { return .deletingInForeground }
        return .present
    }

    /// `Foreground`: delete the dependents; the owner goes once none that blocks it is left.
    func deleteDependents(of owner: JSON, resource: ResourceType) async throws -> Reconciled {
        let dependents = informers.dependents(of: owner, resource: resource)
        var blocking = 0
        for (dependentResource, dependent) in dependents {
            guard let type = informers.informer(dependentResource)?.resource else { continue }
            let reference = dependent.ownerReferences.first { $0.uid == owner.uid }
            if reference?.blockOwnerDeletion == true { blocking += 1 }
            if dependent.deletionTimestamp == nil {
                do {
                    try await client.delete(type, dependent.objectKey, propagationPolicy: "Foreground", preconditionUID: dependent.uid)
                } catch let error as APIError where error.isNotFound || error.isConflict {}
            }
        }
        guard blocking == 0 else { return .requeue(after: .seconds(1)) }
        try await removeFinalizer(GarbageCollection.foregroundFinalizer, from: owner, resource: resource)
        return .done
    }

    /// `Orphan`: the dependents stop naming the owner, then the owner goes.
    func orphanDependents(of owner: JSON, resource: ResourceType) async throws -> Reconciled {
        for (dependentResource, dependent) in informers.dependents(of: owner, resource: resource) {
            guard let type = informers.informer(dependentResource)?.resource else { continue }
            var released = dependent
            released.ownerReferences = dependent.ownerReferences.filter { $0.uid != owner.uid }
            do {
                _ = try await client.update(type, released)
            } catch let error as APIError where error.isNotFound {}
        }
        try await removeFinalizer(GarbageCollection.orphanFinalizer, from: owner, resource: resource)
        return .done
    }

    func removeFinalizer(_ finalizer: String, from object: JSON, resource: ResourceType) async throws {
        var updated = object
        let remaining = object.finalizers.filter { $0 != finalizer }
        updated[path: ["metadata", "finalizers"]] = remaining.isEmpty ? nil : .array(remaining.map(JSON.string))
        do {
            _ = try await client.update(resource, updated)
        } catch let error as APIError where error.isNotFound {}
    }
}

/// The collector's informers by resource name, filled as it registers them.
final class InformerTable: Sendable {
    private let table = Mutex<[String: Informer]>([:])

    func add(_ informer: Informer) {
        table.withLock { $0[GarbageCollector.name(informer.resource)] = informer }
    }

    func informer(_ name: String) -> Informer? { table.withLock { $0[name] } }

    private var all: [Informer] { table.withLock { Array($0.values) } }

    /// Every object of every kind that names `uid` as an owner.
    func dependents(of uid: String) -> [(String, ObjectKey)] {
        all.flatMap { informer in
            informer.objects.dependents(of: uid).map { (GarbageCollector.name(informer.resource), $0.objectKey) }
        }
    }

    /// The dependents of `owner`: in its namespace, or anywhere for a cluster-scoped owner.
    func dependents(of owner: JSON, resource: ResourceType) -> [(String, JSON)] {
        guard let uid = owner.uid else { return [] }
        return all.flatMap { informer -> [(String, JSON)] in
            guard !resource.namespaced || informer.resource.namespaced else { return [] }
            return informer.objects.dependents(of: uid)
                .filter { !resource.namespaced || $0.namespace == owner.namespace }
                .map { (GarbageCollector.name(informer.resource), $0) }
        }
    }

    /// The owners `object` names, as items of the collector's queue.
    func owners(of object: JSON) -> [GarbageCollector.Item] {
        object.ownerReferences.compactMap { reference in
            let informer = all.first { $0.resource.group == reference.group && $0.resource.kind == reference.kind }
            guard let informer else { return nil }
            let key = ObjectKey(namespace: informer.resource.namespaced ? object.namespace : nil, name: reference.name)
            return GarbageCollector.Item(resource: GarbageCollector.name(informer.resource), key: key)
        }
    }
}
