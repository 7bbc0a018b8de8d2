import KubeModel

/// The discovery documents kubectl reads to learn what a cluster serves.
enum Discovery {
    static func coreVersions() -> JSON {
        ["kind": "APIVersions", "versions": ["v1"],
         "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": ""]]]
    }

    static func groups(_ table: ResourceTable) -> JSON {
        let groups: [JSON] = table.groups.map { group in
            let versions: [JSON] = group.versions.map { ["groupVersion": .string("\(group.name)/\($0)"), "version": .string($0)] }
            return ["name": .string(group.name), "versions": .array(versions), "preferredVersion": versions[0]]
        }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)]
    }

    static let aggregatedType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    /// Whether the client asks for aggregated discovery (v2) before the plain documents.
    static func wantsAggregated(_ accept: String?) -> Bool {
        guard let first = accept?.split(separator: ",").first else { return false }
        let parameters = first.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        return parameters.contains("as=APIGroupDiscoveryList") && parameters.contains("v=v2") && parameters.contains("g=apidiscovery.k8s.io")
    }

    /// Aggregated discovery: every group, version and resource in one document (`/api` or `/apis`).
    static func aggregated(_ table: ResourceTable, core: Bool) -> JSON {
        var order: [String] = []
        var byGroup: [String: [String: [ResourceType]]] = [:]
        var versionOrder: [String: [String]] = [:]
        for resource in table.all where resource.group.isEmpty == core {
            if byGroup[resource.group] == nil { order.append(resource.group) }
            if byGroup[resource.group]?[resource.version] == nil { versionOrder[resource.group, default: []].append(resource.version) }
            byGroup[resource.group, default: [:]][resource.version, default: []].append(resource)
        }
        let items: [JSON] = order.map { group in
            let versions: [JSON] = (versionOrder[group] ?? []).map { version in
                let resources: [JSON] = (byGroup[group]?[version] ?? []).map { resource in
                    var entry: JSON = [
                        "resource": .string(resource.resource),
                        "responseKind": ["group": .string(resource.group), "version": .string(resource.version), "kind": .string(resource.kind)],
                        "scope": .string(resource.namespaced ? "Namespaced" : "Cluster"),
                        "singularResource": .string(resource.singular),
                        "verbs": .array(resource.verbs.map(JSON.string)),
                    ]
                    if !resource.shortNames.isEmpty { entry["shortNames"] = .array(resource.shortNames.map(JSON.string)) }
                    if !resource.categories.isEmpty { entry["categories"] = .array(resource.categories.map(JSON.string)) }
                    let subresources: [JSON] = resource.subresources.map { subresource in
                        let served = Self.subresource(subresource, of: resource)
                        return ["subresource": .string(subresource),
                                "responseKind": ["group": .string(served.group), "version": .string(served.version), "kind": .string(served.kind)],
                                "verbs": .array(served.verbs.map(JSON.string))]
                    }
                    if !subresources.isEmpty { entry["subresources"] = .array(subresources) }
                    return entry
                }
                return ["version": .string(version), "resources": .array(resources), "freshness": "Current"]
            }
            var metadata: JSON = ["creationTimestamp": nil]
            if !group.isEmpty { metadata["name"] = .string(group) }
            return ["metadata": metadata, "versions": .array(versions)]
        }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": [:], "items": .array(items)]
    }

    /// The kind a subresource reads and writes, and its verbs: `scale` is an autoscaling/v1 Scale,
    /// `binding` and `eviction` are only created, `finalize` only updated, the rest are the resource's own kind.
    static func subresource(_ name: String, of resource: ResourceType) -> (group: String, version: String, kind: String, verbs: [String]) {
        switch name {
        case "scale": ("autoscaling", "v1", "Scale", ["get", "patch", "update"])
        case "binding": (resource.group, resource.version, "Binding", ["create"])
        case "eviction": ("policy", "v1", "Eviction", ["create"])
        case "finalize": (resource.group, resource.version, resource.kind, ["update"])
        default: (resource.group, resource.version, resource.kind, ["get", "patch", "update"])
        }
    }

    /// `/api/v1` or `/apis/GROUP/VERSION` (and `/apis/GROUP` for the group alone).
    static func resourceList(path: String, table: ResourceTable) -> JSON? {
        let parts = path.split(separator: "/").map(String.init)
        let group: String, version: String
        switch (parts.first, parts.count) {
        case ("api", 2): (group, version) = ("", parts[1])
        case ("apis", 3): (group, version) = (parts[1], parts[2])
        case ("apis", 2):
            guard let found = table.groups.first(where: { $0.name == parts[1] }) else { return nil }
            let versions: [JSON] = found.versions.map { ["groupVersion": .string("\(found.name)/\($0)"), "version": .string($0)] }
            return ["kind": "APIGroup", "apiVersion": "v1", "name": .string(found.name), "versions": .array(versions),
                    "preferredVersion": versions[0]]
        default: return nil
        }
        let resources = table.all.filter { $0.group == group && $0.version == version }
        guard !resources.isEmpty else { return nil }
        var entries: [JSON] = []
        for resource in resources {
            var entry: JSON = ["name": .string(resource.resource), "singularName": .string(resource.singular),
                               "namespaced": .bool(resource.namespaced), "kind": .string(resource.kind),
                               "verbs": .array(resource.verbs.map(JSON.string))]
            if !resource.shortNames.isEmpty { entry["shortNames"] = .array(resource.shortNames.map(JSON.string)) }
            if !resource.categories.isEmpty { entry["categories"] = .array(resource.categories.map(JSON.string)) }
            entries.append(entry)
            for subresource in resource.subresources {
                let served = Self.subresource(subresource, of: resource)
                var sub: JSON = ["name": .string("\(resource.resource)/\(subresource)"), "singularName": "",
                                 "namespaced": .bool(resource.namespaced), "kind": .string(served.kind),
                                 "verbs": .array(served.verbs.map(JSON.string))]
                // The legacy document names the group and version only where they differ from the resource's.
                if served.group != resource.group || served.version != resource.version {
                    sub["group"] = .string(served.group)
                    sub["version"] = .string(served.version)
                }
                entries.append(sub)
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
                "resources": .array(entries)]
    }
}
