import KubeModel

extension Registry {
    /// Cascading deletion through `ownerReferences`, carried out as the garbage collector would:
    /// `Foreground` deletes the dependents before the owner, `Background` after it, `Orphan` keeps
    /// them and drops their reference to the owner. (Skiff runs it within the delete request until
    /// the garbage-collector controller takes it over.)
    func cascade(from owner: JSON, resource: ResourceType, policy: String, before: Bool) async throws {
        guard let uid = owner.uid else { return }
        let runsNow = switch policy {
        case "Foreground", "Orphan": before
        default: !before
        }
        guard runsNow else { return }
        for (type, dependent) in try await dependents(of: uid, owner: owner, resource: resource) {
            let (namespace, name) = dependent
            do {
                if policy == "Orphan" {
                    _ = try await guaranteedUpdate(type, namespace: namespace, name: name, expectedRevision: nil,
                                                   dryRun: false) { current in
                        var orphaned = current
                        let references = (current[path: ["metadata", "ownerReferences"]]?.array ?? []).filter { $0["uid"]?.string != uid }
                        orphaned[path: ["metadata", "ownerReferences"]] = references.isEmpty ? nil : .array(references)
                        return orphaned
                    }
                } else {
                    var options = DeleteOptions()
                    options.propagationPolicy = policy
                    _ = try await delete(type, namespace: namespace, name: name, options: options)
                }
            } catch let error as APIError where error.code == 404 {
                continue
            }
        }
    }

    /// Objects whose ownerReferences name `uid`: in the owner's namespace, or anywhere for a cluster-scoped owner.
    /// Each kind's watch cache indexes its objects by owner; a kind whose cache cannot answer is listed.
    func dependents(of uid: String, owner: JSON, resource: ResourceType) async throws -> [(ResourceType, (namespace: String?, name: String))] {
        var found: [(ResourceType, (namespace: String?, name: String))] = []
        // The caches as they are, as the garbage collector reads its informers: waiting for every kind's cache
        // to reach the store's latest revision would cost each delete a round of progress requests.
        let revision: Int64 = 0
        for type in resources.all where (!resource.namespaced || type.namespaced) && type.isStored {
            let namespace = resource.namespaced ? owner.namespace : nil
            if let entries = await cache(for: type).dependents(of: uid, keyPrefix: type.keyPrefix(namespace: namespace), atLeast: revision,
                                                               store: store) {
                found += entries.map { (type, ($0.namespace, $0.name)) }
                continue
            }
            for object in try await listFromStore(type, namespace: namespace, options: ListOptions())
                .items where (object[path: ["metadata", "ownerReferences"]]?.array ?? []).contains(where: { $0["uid"]?.string == uid }) {
                found.append((type, (object.namespace, object.name)))
            }
        }
        return found
    }
}
