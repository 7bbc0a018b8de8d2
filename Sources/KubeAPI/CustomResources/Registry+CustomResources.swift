import KubeStore
import KubeModel

extension ResourceType {
    var isCustomResourceDefinition: Bool { group == "apiextensions.k8s.io" && resource == "customresourcedefinitions" }
    var isCustom: Bool { strategy is CustomResourceStrategy }

    /// An object as this version serves it. A custom resource's versions share their stored objects and,
    /// with conversion strategy None (the only one without a webhook), differ in their apiVersion alone; so do
    /// the built-in versions served beside their storage version (flowcontrol's v1beta3 and v1).
    func convert(_ object: inout JSON) {
        guard isCustom || storageVersion != nil, object["apiVersion"]?.string != groupVersion else { return }
        object["apiVersion"] = .string(groupVersion)
    }

    /// An object as it is stored: a custom resource in its definition's storage version, a built-in one in its own.
    func convertForStorage(_ object: inout JSON) {
        let storage = (strategy as? CustomResourceStrategy)?.storageVersion ?? storageVersion.map { "\(group)/\($0)" }
        guard let storage, object["apiVersion"]?.string != storage else { return }
        object["apiVersion"] = .string(storage)
    }
}

extension Registry {
    /// Serves exactly the kinds the stored definitions define (after any definition changes, and at start).
    public func syncCustomResources() async throws {
        guard let definitions = resources.all.first(where: \.isCustomResourceDefinition) else { return }
        let stored = try await list(definitions, namespace: nil, options: ListOptions()).items
        let served = stored.flatMap(CustomResourceDefinitionStrategy.resourceTypes)
        updateResources { table in
            for resource in table.all where resource.isCustom { table.remove(group: resource.group, resource: resource.resource) }
            for resource in served { table.add(resource) }
        }
    }

    /// Deleting a definition deletes its custom resources first, as the API server's cleanup finalizer does.
    func deleteCustomResources(of definition: JSON) async throws {
        guard let resource = CustomResourceDefinitionStrategy.resourceTypes(definition).first else { return }
        let all = try await list(resource, namespace: nil, options: ListOptions()).items
        for object in all {
            do {
                _ = try await store.delete(resource.key(namespace: object.namespace, name: object.name), expectedRevision: nil)
            } catch StoreError.keyNotFound {
                continue  // deleted meanwhile
            }
        }
    }
}
