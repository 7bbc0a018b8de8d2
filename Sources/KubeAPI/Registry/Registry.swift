import Foundation
import KubeStore
import Synchronization
import KubeModel

/// Create, read, update, delete, list and watch for every resource, once:
/// the object-metadata rules the real API server applies to all kinds, with
/// each kind's particulars coming from its `ResourceStrategy`.
public final class Registry: Sendable {
    let store: any KubeStore
    private let table: Mutex<ResourceTable>
    /// The cluster's service CIDR, from which Services get their cluster IPs.
    let serviceNetwork: ServiceNetwork?
    /// What every create passes through before it is stored.
    let admission: [any AdmissionPlugin]
    /// Watch caches by served version and key prefix, started on a resource's first list or watch.
    private let caches = Mutex<[String: WatchCache]>([:])
    private let shutdownHandlers = Mutex<[@Sendable () -> Void]>([])

    /// Largest object stored, as etcd's request limit makes it on a real cluster.
    public static let maxObjectSize = 1_572_864

    /// How often a watch that asked for bookmarks gets one (about a minute, as from a real API server).
    let bookmarkInterval: Duration

    /// Signs and verifies the cluster's service-account tokens (nil: TokenRequest is refused).
    public let serviceAccountIssuer: ServiceAccountIssuer?

    public init(store: any KubeStore, resources: ResourceTable = .builtIn, serviceNetwork: ServiceNetwork? = nil,
                admission: [any AdmissionPlugin] = Admission.defaultPlugins, bookmarkInterval: Duration = .seconds(60),
                serviceAccountIssuer: ServiceAccountIssuer? = nil) {
        self.serviceAccountIssuer = serviceAccountIssuer
        self.store = store
        table = Mutex(resources)
        self.serviceNetwork = serviceNetwork
        self.admission = admission
        self.bookmarkInterval = bookmarkInterval
    }

    public var resources: ResourceTable { table.withLock { $0 } }

    /// One resource's watch cache, read by the API server's own parts (authenticators, authorizers) without
    /// authorization; components use `APIServer.cachedResource(_:for:)`, which authorizes them.
    public func cached(_ resource: ResourceType) -> CachedResource {
        CachedResource(registry: self, resource: resource)
    }

    /// Objects per resource (`pods`, `deployments.apps`), as the watch caches running now hold them:
    /// kube-apiserver's `apiserver_storage_objects`.
    public func storedObjectCounts() -> [String: Int] {
        let running = caches.withLock { caches in caches.map { ($0.key, $0.value) } }
        var counts: [String: Int] = [:]
        for (name, cache) in running {
            // `GROUP/VERSION /registry/GROUP/RESOURCE/`
            let parts = name.split(separator: "/")
            guard parts.count >= 3 else { continue }
            let group = String(parts[parts.count - 2]), resource = String(parts[parts.count - 1])
            counts[group == "core" ? resource : "\(resource).\(group)"] = cache.count
        }
        return counts
    }

    /// Stops the watch caches (the cluster's control plane is stopping).
    public func shutdown() {
        let all = caches.withLock { caches in
            defer { caches.removeAll() }
            return Array(caches.values)
        }
        for cache in all { cache.stop() }
        for handler in shutdownHandlers.withLock({ $0 }) { handler() }
    }

    /// Runs `handler` when the registry shuts down (what follows its caches stops then).
    public func onShutdown(_ handler: @escaping @Sendable () -> Void) {
        shutdownHandlers.withLock { $0.append(handler) }
    }

    func cache(for resource: ResourceType) -> WatchCache {
        caches.withLock { caches in
            // Per served version: a custom resource's versions share their objects but not their apiVersion.
            let name = resource.groupVersion + " " + resource.keyPrefix(namespace: nil)
            if let cache = caches[name], cache.isUsable { return cache }
            let cache = WatchCache(resource: resource, store: store)
            caches[name] = cache
            return cache
        }
    }

    public func updateResources(_ change: (inout ResourceTable) -> Void) {
        table.withLock { change(&$0) }
    }

    // MARK: Reading stored objects

    /// A stored object as `resource` serves it.
    func object(from kv: KeyValue, as resource: ResourceType? = nil) throws -> JSON {
        var object = try JSONCoding.decode(kv.value)
        object.resourceVersion = String(kv.modRevision)
        resource?.convert(&object)
        return object
    }

    /// The object as a write stored it: what it was, at the write's revision (not decoded again).
    func written(_ object: JSON, _ kv: KeyValue) -> JSON {
        var object = object
        object.resourceVersion = String(kv.modRevision)
        return object
    }

    func stored(_ object: JSON, as resource: ResourceType) throws(APIError) -> [UInt8] {
        var object = object
        object[path: ["metadata", "resourceVersion"]] = nil
        resource.convertForStorage(&object)
        let bytes = JSONCoding.encode(object)
        if bytes.count > Self.maxObjectSize { throw .tooLarge("Request entity too large: limit is 3145728") }
        return bytes
    }

    static func revision(_ text: String?) throws(APIError) -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw .badRequest("invalid resource version \"\(text)\": strconv.ParseUint: parsing \"\(text)\": invalid syntax")
        }
        return value
    }

    // MARK: Get

    public func get(_ resource: ResourceType, namespace: String?, name: String) async throws -> JSON {
        guard let kv = try await store.get(resource.key(namespace: namespace, name: name)) else {
            throw APIError.notFound(resource.resource, group: resource.group, name: name)
        }
        return try object(from: kv, as: resource)
    }

    // MARK: Create

    public func create(_ resource: ResourceType, namespace: String?, body: JSON, dryRun: Bool = false,
                       fieldManager: String? = nil) async throws -> JSON {
        var object = body
        try checkTypeMeta(object, resource: resource)
        object["apiVersion"] = .string(resource.groupVersion)
        object["kind"] = .string(resource.kind)
        if object["metadata"]?.object == nil { object["metadata"] = [:] }
        if resource.namespaced {
            let namespace = namespace ?? "default"
            if let given = object.namespace, !given.isEmpty, given != namespace {
                throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            object.namespace = namespace
        } else {
            object[path: ["metadata", "namespace"]] = nil
        }
        if object.name.isEmpty, let generateName = object[path: ["metadata", "generateName"]]?.string, !generateName.isEmpty {
            object.name = Self.generatedName(generateName)
        }
        object[path: ["metadata", "uid"]] = .string(UUID().uuidString.lowercased())
        object[path: ["metadata", "creationTimestamp"]] = .string(Timestamps.format(Date()))
        for field in ["resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"] {
            object[path: ["metadata", field]] = nil
        }
        if object["spec"] != nil { object[path: ["metadata", "generation"]] = 1 }
        resource.strategy.applyDefaults(&object)
        for plugin in admission { try await plugin.admit(&object, resource: resource, namespace: object.namespace, registry: self) }
        // A new object's status is the system's to fill in, not the client's (a Node's is its kubelet's).
        if resource.strategy.hasStatus, !resource.strategy.keepsStatusOnCreate { object["status"] = [:] }
        resource.strategy.prepareForCreate(&object)
        if let fieldManager { Self.recordUpdate(&object, from: nil, manager: fieldManager, resource: resource, target: .main) }
        try validate(object, resource: resource, errors: resource.strategy.validate(object))
        let key = resource.key(namespace: object.namespace, name: object.name)
        let finish = try await resource.strategy.beginCreate(&object, context: WriteContext(registry: self, dryRun: dryRun))
        if dryRun {
            await finish?(false)
            return object
        }
        do {
            let created = written(object, try await store.create(key, value: try stored(object, as: resource)))
            await finish?(true)
            return created
        } catch StoreError.keyExists {
            await finish?(false)
            throw APIError.alreadyExists(resource.resource, group: resource.group, name: object.name)
        } catch {
            await finish?(false)
            throw error
        }
    }

    func checkTypeMeta(_ object: JSON, resource: ResourceType) throws(APIError) {
        guard object.object != nil else { throw .badRequest("the body of the request must be a JSON object") }
        if let kind = object["kind"]?.string, !kind.isEmpty, kind != resource.kind {
            throw Self.wrongKind(kind, apiVersion: object["apiVersion"]?.string ?? resource.groupVersion, for: resource)
        }
        if let apiVersion = object["apiVersion"]?.string, !apiVersion.isEmpty, apiVersion != resource.groupVersion {
            throw .badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(resource.groupVersion))")
        }
    }

    /// A body of another kind than the resource's, as the API server's decoder refuses it.
    static func wrongKind(_ kind: String, apiVersion: String, for resource: ResourceType) -> APIError {
        let version = apiVersion.split(separator: "/").last.map(String.init) ?? apiVersion
        // Go's package names: `v1` for the wire version, the group's first label (`core` for the legacy group) internally.
        let internalPackage = resource.group.isEmpty ? "core" : String(resource.group.split(separator: ".")[0])
        return .badRequest("\(kind) in version \"\(version)\" cannot be handled as a \(resource.kind): converting (\(version).\(kind)) to (\(internalPackage).\(resource.kind)): unknown conversion")
    }

    func validate(_ object: JSON, resource: ResourceType, errors: [FieldError]) throws(APIError) {
        var all = Names.validate(object.name, rule: resource.nameRule) + Names.validateLabels(object.labels)
        if resource.namespaced, let namespace = object.namespace, !Names.isDNSLabel(namespace) {
            all.append(.invalid("metadata.namespace", .string(namespace), Names.labelMessage))
        }
        all += errors
        if !all.isEmpty { throw .invalid(kind: resource.kind, group: resource.group, name: object.name, causes: all) }
    }

    /// `generateName` plus five random characters from the alphabet Kubernetes uses (no vowels, no look-alikes).
    static func generatedName(_ base: String) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String(base.prefix(58)) + String((0..<5).map { _ in alphabet.randomElement()! })
    }

    // MARK: Update

    public enum UpdateTarget: Sendable {
        case main
        case status
        /// The `scale` subresource: a change of `spec.replicas`, recorded as the subresource's in managedFields.
        case scale

        /// The name managedFields record the write under.
        var subresource: String? {
            switch self {
            case .main: nil
            case .status: "status"
            case .scale: "scale"
            }
        }
    }

    /// Replaces an object (PUT). A `resourceVersion` in the body must be the current one.
    public func update(_ resource: ResourceType, namespace: String?, name: String, body: JSON, target: UpdateTarget = .main,
                       dryRun: Bool = false, fieldManager: String? = nil) async throws -> JSON {
        try checkTypeMeta(body, resource: resource)
        if !body.name.isEmpty, body.name != name {
            throw APIError.badRequest("the name of the object (\(body.name)) does not match the name on the URL (\(name))")
        }
        let expected = try Self.revision(body.resourceVersion)
        return try await guaranteedUpdate(resource, namespace: namespace, name: name, expectedRevision: expected, dryRun: dryRun) { current in
            var object = body
            object.name = name
            return try self.merge(update: &object, over: current, resource: resource, target: target, fieldManager: fieldManager)
        }
    }

    /// Applies `change` to the current object and writes it, retrying on a concurrent write unless
    /// the caller named the revision it changed.
    func guaranteedUpdate(_ resource: ResourceType, namespace: String?, name: String, expectedRevision: Int64?, dryRun: Bool,
                          _ change: @Sendable (JSON) throws -> JSON) async throws -> JSON {
        let key = resource.key(namespace: namespace, name: name)
        for _ in 0..<16 {
            guard let kv = try await store.get(key) else {
                throw APIError.notFound(resource.resource, group: resource.group, name: name)
            }
            if let expectedRevision, expectedRevision != kv.modRevision {
                throw APIError.conflict(resource.resource, group: resource.group, name: name)
            }
            let current = try object(from: kv, as: resource)
            var updated = try change(current)
            // Nothing changed: no write, the same resourceVersion, as the real API server does.
            if updated == current { return current }
            let finish = try await resource.strategy.beginUpdate(&updated, old: current, context: WriteContext(registry: self, dryRun: dryRun))
            if dryRun {
                await finish?(false)
                return updated
            }
            do {
                // The last finalizer gone from an object being deleted: it goes.
                if updated.deletionTimestamp != nil, resource.strategy.pendingFinalizers(updated).isEmpty {
                    let (deleted, revision) = try await store.delete(key, expectedRevision: kv.modRevision)
                    await finish?(true)
                    updated = try object(from: deleted, as: resource)
                    updated.resourceVersion = String(revision)
                    await resource.strategy.afterDelete(updated, context: WriteContext(registry: self, dryRun: false))
                    return updated
                }
                let result = written(updated, try await store.update(key, value: try stored(updated, as: resource), expectedRevision: kv.modRevision))
                await finish?(true)
                return result
            } catch StoreError.conflict {
                await finish?(false)
                if expectedRevision != nil { throw APIError.conflict(resource.resource, group: resource.group, name: name) }
                continue
            } catch StoreError.keyNotFound {
                await finish?(false)
                throw APIError.notFound(resource.resource, group: resource.group, name: name)
            } catch {
                await finish?(false)
                throw error
            }
        }
        throw APIError.conflict(resource.resource, group: resource.group, name: name)
    }

    /// Carries over what an update may not change and checks the result.
    func merge(update object: inout JSON, over current: JSON, resource: ResourceType, target: UpdateTarget,
               fieldManager: String?) throws -> JSON {
        object["apiVersion"] = .string(resource.groupVersion)
        object["kind"] = .string(resource.kind)
        if object["metadata"]?.object == nil { object["metadata"] = [:] }
        if let namespace = object.namespace, namespace != (current.namespace ?? ""), resource.namespaced {
            throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        if let uid = object.uid, !uid.isEmpty, uid != current.uid {
            throw APIError.conflict(resource.resource, group: resource.group, name: current.name,
                                    why: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(current.uid ?? "")")
        }
        for field in ["uid", "creationTimestamp", "namespace", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] {
            object[path: ["metadata", field]] = current[path: ["metadata", field]]
        }
        if resource.strategy.hasStatus {
            switch target {
            case .main, .scale:
                object["status"] = current["status"]
            case .status:
                // Only status changes through the status subresource; metadata but labels, annotations and finalizers as before.
                var kept = current
                kept["status"] = object["status"]
                for field in ["labels", "annotations", "finalizers", "ownerReferences"] {
                    kept[path: ["metadata", field]] = object[path: ["metadata", field]] ?? current[path: ["metadata", field]]
                }
                object = kept
            }
        }
        // A finalizer may not be added to an object already being deleted.
        if current.deletionTimestamp != nil, !Set(object.finalizers).isSubset(of: Set(current.finalizers)) {
            throw APIError.invalid(kind: resource.kind, group: resource.group, name: current.name,
                                   causes: [.forbidden("metadata.finalizers", "no new finalizers can be added if the object is being deleted")])
        }
        resource.strategy.applyDefaults(&object)
        resource.strategy.prepareForUpdate(&object, old: current)
        if object["spec"] != nil, object["spec"] != current["spec"] {
            object[path: ["metadata", "generation"]] = .int(current.generation + 1)
        }
        try validate(object, resource: resource, errors: resource.strategy.validateUpdate(object, old: current))
        if let fieldManager {
            Self.recordUpdate(&object, from: current, manager: fieldManager, resource: resource, target: target)
        } else if object[path: ["metadata", "managedFields"]] == nil {
            object[path: ["metadata", "managedFields"]] = current[path: ["metadata", "managedFields"]]
        }
        object.resourceVersion = current.resourceVersion
        return object
    }

    // MARK: Delete

    public struct DeleteOptions: Sendable {
        public var preconditionUID: String?
        public var preconditionResourceVersion: String?
        public var propagationPolicy: String?
        public var gracePeriodSeconds: Int64?
        public var dryRun = false

        public init() {}
    }

    /// Deletes an object, or marks it for deletion while finalizers remain. Returns it as it was last stored.
    /// Dependents are the garbage collector's: `Foreground` and `Orphan` leave a finalizer on the object that
    /// it clears once it has deleted or released them; `Background` (the default) deletes the object at once.
    public func delete(_ resource: ResourceType, namespace: String?, name: String, options: DeleteOptions = DeleteOptions()) async throws -> JSON {
        let key = resource.key(namespace: namespace, name: name)
        let context = WriteContext(registry: self, dryRun: options.dryRun)
        for _ in 0..<16 {
            guard let kv = try await store.get(key) else {
                throw APIError.notFound(resource.resource, group: resource.group, name: name)
            }
            var current = try object(from: kv, as: resource)
            if let uid = options.preconditionUID, uid != current.uid {
                throw APIError.conflict(resource.resource, group: resource.group, name: name,
                                        why: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(current.uid ?? "")")
            }
            if let version = options.preconditionResourceVersion, version != current.resourceVersion {
                throw APIError.conflict(resource.resource, group: resource.group, name: name,
                                        why: "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(current.resourceVersion ?? "")")
            }
            try await resource.strategy.beginDelete(current, context: context)
            var finalizers = current.finalizers
            let collectorFinalizer: String? = switch options.propagationPolicy {
            case "Foreground": GarbageCollection.foregroundFinalizer
            case "Orphan": GarbageCollection.orphanFinalizer
            default: nil
            }
            if let collectorFinalizer, !finalizers.contains(collectorFinalizer) { finalizers.append(collectorFinalizer) }
            var marked = current
            marked[path: ["metadata", "finalizers"]] = finalizers.isEmpty ? nil : .array(finalizers.map(JSON.string))
            if !resource.strategy.pendingFinalizers(marked).isEmpty {
                // Already being deleted, with nothing new to wait for: as it is.
                if current.deletionTimestamp != nil, finalizers == current.finalizers { return current }
                if current.deletionTimestamp == nil {
                    marked[path: ["metadata", "deletionTimestamp"]] = .string(Timestamps.format(Date()))
                    marked[path: ["metadata", "deletionGracePeriodSeconds"]] = 0
                    resource.strategy.prepareForDeletion(&marked)
                }
                if options.dryRun { return marked }
                do {
                    return written(marked, try await store.update(key, value: try stored(marked, as: resource), expectedRevision: kv.modRevision))
                } catch StoreError.conflict {
                    continue
                }
            }
            if options.dryRun { return current }
            do {
                let (deleted, revision) = try await store.delete(key, expectedRevision: kv.modRevision)
                current = try object(from: deleted, as: resource)
                current.resourceVersion = String(revision)
                await resource.strategy.afterDelete(current, context: context)
                return current
            } catch StoreError.conflict {
                continue
            } catch StoreError.keyNotFound {
                throw APIError.notFound(resource.resource, group: resource.group, name: name)
            }
        }
        throw APIError.conflict(resource.resource, group: resource.group, name: name)
    }

    /// Deletes every object a list with these options returns.
    public func deleteCollection(_ resource: ResourceType, namespace: String?, listOptions: ListOptions,
                                 options: DeleteOptions) async throws -> ObjectList {
        var deleted: [JSON] = []
        for object in try await list(resource, namespace: namespace, options: listOptions).items {
            do {
                deleted.append(try await delete(resource, namespace: object.namespace, name: object.name, options: options))
            } catch let error as APIError where error.code == 404 {
                continue
            }
        }
        return ObjectList(items: deleted, resourceVersion: String(try await store.currentRevision()), continueToken: nil,
                          remainingItemCount: nil)
    }
}
