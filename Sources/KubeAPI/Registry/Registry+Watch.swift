import Foundation
import KubeStore

extension Registry {
    public typealias EventStream = AsyncThrowingStream<ObjectEvent, any Error>

    /// Watches a resource. Without a resource version (or with "0") it starts with the current
    /// objects as ADDED events, as the real API server does; with one, it sends every change after it.
    public func watch(_ resource: ResourceType, namespace: String?, options: ListOptions) async throws -> EventStream {
        let prefix = resource.keyPrefix(namespace: namespace)
        var initial: [JSON] = []
        var after: Int64
        let requested = try Self.revision(options.resourceVersion)
        let sendInitial = options.sendInitialEvents ?? (requested == nil || requested == 0)
        if sendInitial {
            var listOptions = options
            listOptions.limit = nil
            listOptions.continueToken = nil
            listOptions.resourceVersionMatch = nil
            let list = try await self.list(resource, namespace: namespace, options: listOptions)
            initial = list.items
            after = Int64(list.resourceVersion) ?? 0
        } else {
            after = requested ?? 0
        }
        let source = try await store.watch(prefix: prefix, afterRevision: after)
        let (stream, continuation) = EventStream.makeStream()
        let bookmarkInitialEnd = options.sendInitialEvents == true && options.allowWatchBookmarks
        let task = Task { [self] in
            // Keys that currently match the selectors, so that an object leaving the selection is DELETED for this watcher.
            var matching = Set(initial.map { resource.key(namespace: $0.namespace, name: $0.name) })
            for object in initial { continuation.yield(ObjectEvent(type: .added, object: object)) }
            if bookmarkInitialEnd {
                continuation.yield(bookmark(resource, revision: after, initialEventsEnd: true))
            }
            do {
                for try await event in source {
                    switch event {
                    case .put(let kv):
                        let object = try self.object(from: kv)
                        let matches = self.matches(object, resource: resource, options: options)
                        let wasMatching = matching.contains(kv.key)
                        if matches {
                            matching.insert(kv.key)
                            // An object is ADDED for this watcher when it is new, or when it enters the selection
                            // (known only when the watch began from a full list).
                            let added = !wasMatching && (kv.version == 1 || sendInitial)
                            continuation.yield(ObjectEvent(type: added ? .added : .modified, object: object))
                        } else if wasMatching {
                            matching.remove(kv.key)
                            continuation.yield(ObjectEvent(type: .deleted, object: object))
                        }
                    case .delete(let kv, let revision):
                        var object = try self.object(from: kv)
                        object.resourceVersion = String(revision)
                        if matching.remove(kv.key) != nil || self.matches(object, resource: resource, options: options) {
                            continuation.yield(ObjectEvent(type: .deleted, object: object))
                        }
                    case .progress:
                        continue
                    }
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
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    func bookmark(_ resource: ResourceType, revision: Int64, initialEventsEnd: Bool = false) -> ObjectEvent {
        var metadata: JSON = ["resourceVersion": .string(String(revision))]
        if initialEventsEnd { metadata["annotations"] = ["k8s.io/initial-events-end": "true"] }
        return ObjectEvent(type: .bookmark, object: ["kind": .string(resource.kind), "apiVersion": .string(resource.groupVersion),
                                                     "metadata": metadata])
    }
}

extension Registry {
    /// The namespaces every cluster starts with; the first two may never be deleted.
    public static let initialNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"]

    /// Creates what every cluster starts with, where missing: the initial namespaces and the
    /// `kubernetes` service, which takes the first address of the service CIDR.
    public func bootstrap() async throws {
        guard let namespaces = resources.find(group: "", version: "v1", resource: "namespaces"),
              let services = resources.find(group: "", version: "v1", resource: "services") else { return }
        var initial: [(ResourceType, String?, JSON)] = Self.initialNamespaces.map {
            (namespaces, nil, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string($0)]])
        }
        if let network = serviceNetwork {
            initial.append((services, "default", [
                "apiVersion": "v1", "kind": "Service",
                "metadata": ["name": "kubernetes", "labels": ["component": "apiserver", "provider": "kubernetes"]],
                "spec": ["clusterIP": .string(network.apiServiceIP), "type": "ClusterIP",
                         "ports": [["name": "https", "port": 443, "protocol": "TCP", "targetPort": 443]]],
            ]))
        }
        for (resource, namespace, body) in initial {
            do {
                _ = try await create(resource, namespace: namespace, body: body)
            } catch let error as APIError where error.reason == "AlreadyExists" {
                continue
            }
        }
        try await syncCustomResources()
    }

    /// Deletes a namespace: marks it Terminating, deletes everything in it, and removes it once empty.
    public func deleteNamespace(_ name: String, options: DeleteOptions) async throws -> JSON {
        guard let namespaces = resources.find(group: "", version: "v1", resource: "namespaces") else {
            throw APIError.notFound("namespaces", name: name)
        }
        if ["default", "kube-system", "kube-public"].contains(name) {
            throw APIError.forbidden("namespaces \"\(name)\" is forbidden: this namespace may not be deleted",
                                     resource: "namespaces", name: name)
        }
        let marked = try await delete(namespaces, namespace: nil, name: name, options: options)
        if options.dryRun { return marked }
        try await finalizeNamespace(name)
        return marked
    }

    /// The namespace controller's work: delete the contents of a Terminating namespace, then the namespace.
    public func finalizeNamespace(_ name: String) async throws {
        guard let namespaces = resources.find(group: "", version: "v1", resource: "namespaces") else { return }
        var remaining = 0
        for resource in resources.all where resource.namespaced {
            let list = try await self.list(resource, namespace: name, options: ListOptions())
            for object in list.items {
                do {
                    let result = try await delete(resource, namespace: name, name: object.name)
                    if !result.finalizers.isEmpty { remaining += 1 }
                } catch let error as APIError where error.code == 404 {
                    continue
                }
            }
        }
        guard remaining == 0 else { return }
        let key = namespaces.key(namespace: nil, name: name)
        if let kv = try await store.get(key) {
            _ = try? await store.delete(key, expectedRevision: kv.modRevision)
        }
    }
}
