import KubeModel

/// `Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid` and `Impersonate-Extra-*` (`kubectl --as`,
/// `--as-group`): the request runs as the named user if its sender may impersonate each name given.
enum Impersonation {
    static func apply(_ request: APIRequest, authorizer: any Authorizer) async throws -> APIRequest {
        let groups = (request.header("impersonate-group") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let uid = request.header("impersonate-uid")
        let extras = request.headers.filter { $0.key.hasPrefix("impersonate-extra-") }
        guard let name = request.header("impersonate-user") else {
            guard groups.isEmpty, uid == nil, extras.isEmpty else {
                throw APIError(code: 500, reason: "InternalError",
                               message: "Internal error occurred: requested impersonation of groups or extras without impersonating a user")
            }
            return request
        }
        var checks: [ResourceAttributes] = []
        var impersonatedGroups = groups
        let serviceAccount = name.split(separator: ":", omittingEmptySubsequences: false)
        if serviceAccount.count == 4, serviceAccount[0] == "system", serviceAccount[1] == "serviceaccount" {
            let namespace = String(serviceAccount[2])
            checks.append(attributes("serviceaccounts", group: "", namespace: namespace, name: String(serviceAccount[3])))
            if groups.isEmpty { impersonatedGroups = ["system:serviceaccounts", "system:serviceaccounts:\(namespace)"] }
        } else {
            checks.append(attributes("users", group: "", name: name))
        }
        checks += groups.map { attributes("groups", group: "", name: $0) }
        if let uid { checks.append(attributes("uids", group: "authentication.k8s.io", name: uid)) }
        for (header, value) in extras {
            let key = String(header.dropFirst("impersonate-extra-".count))
            checks.append(attributes("userextras", group: "authentication.k8s.io", subresource: key, name: value))
        }
        for check in checks where await !authorizer.authorize(AuthorizationRequest(user: request.user, resource: check)).allowed {
            let scope = check.namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
            throw APIError.forbidden("\(APIError.qualified(check.resource, group: check.group)) \"\(check.name ?? "")\" is forbidden: User \"\(request.user.name)\" cannot impersonate resource \"\(check.resource)\" in API group \"\(check.group)\" \(scope)",
                                     resource: check.resource, group: check.group, name: check.name ?? "")
        }
        if name != "system:anonymous", !impersonatedGroups.contains("system:authenticated") {
            impersonatedGroups.append("system:authenticated")
        }
        var impersonated = request
        impersonated.user = UserInfo(name: name, groups: impersonatedGroups)
        return impersonated
    }

    static func attributes(_ resource: String, group: String, subresource: String? = nil, namespace: String? = nil,
                           name: String) -> ResourceAttributes {
        ResourceAttributes(verb: "impersonate", group: group, version: "", resource: resource, subresource: subresource,
                           namespace: namespace, name: name)
    }
}
