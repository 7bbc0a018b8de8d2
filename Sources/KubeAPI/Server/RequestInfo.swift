/// What a resource request's path names: `/api/v1/namespaces/ns/pods/name/status`,
/// `/apis/apps/v1/deployments`, and the legacy `/watch/` forms.
struct RequestInfo: Equatable {
    var group: String
    var version: String
    var namespace: String?
    var resource: String
    var name: String?
    var subresource: String?
    /// A `/watch/` path (older clients).
    var watchPath = false

    /// Parses a resource path; nil for paths that are not (discovery, health, version…).
    static func parse(_ path: String) -> RequestInfo? {
        var parts = path.split(separator: "/").map(String.init)
        guard let prefix = parts.first else { return nil }
        var info = RequestInfo(group: "", version: "", resource: "")
        switch prefix {
        case "api":
            guard parts.count >= 3 else { return nil }
            info.version = parts[1]
            parts.removeFirst(2)
        case "apis":
            guard parts.count >= 4 else { return nil }
            info.group = parts[1]
            info.version = parts[2]
            parts.removeFirst(3)
        default:
            return nil
        }
        if parts.first == "watch" {
            info.watchPath = true
            parts.removeFirst()
        }
        // `namespaces/NAME/RESOURCE…` is a namespaced request, unless it is the namespace itself
        // (`namespaces/NAME` or `namespaces/NAME/status`).
        if parts.first == "namespaces", parts.count >= 3, !["status", "finalize"].contains(parts[2]) || parts.count > 3 {
            info.namespace = parts[1]
            parts.removeFirst(2)
        }
        guard let resource = parts.first else { return nil }
        info.resource = resource
        if parts.count > 1 { info.name = parts[1] }
        if parts.count > 2 { info.subresource = parts[2] }
        if parts.count > 3 { return nil }
        return info
    }
}
