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
                               "verbs": .array(ResourceType.verbs.map(JSON.string))]
            if !resource.shortNames.isEmpty { entry["shortNames"] = .array(resource.shortNames.map(JSON.string)) }
            if !resource.categories.isEmpty { entry["categories"] = .array(resource.categories.map(JSON.string)) }
            entries.append(entry)
            for subresource in resource.subresources {
                var sub: JSON = ["name": .string("\(resource.resource)/\(subresource)"), "singularName": "",
                                 "namespaced": .bool(resource.namespaced), "kind": .string(resource.kind),
                                 "verbs": ["get", "patch", "update"]]
                switch subresource {
                case "scale":
                    sub["kind"] = "Scale"
                    sub["group"] = "autoscaling"
                    sub["version"] = "v1"
                case "binding":
                    sub["kind"] = "Binding"
                    sub["verbs"] = ["create"]
                case "eviction":
                    sub["kind"] = "Eviction"
                    sub["group"] = "policy"
                    sub["version"] = "v1"
                    sub["verbs"] = ["create"]
                default:
                    break
                }
                entries.append(sub)
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
                "resources": .array(entries)]
    }
}
