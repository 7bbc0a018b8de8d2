import Foundation
import KubeModel

/// Roles and ClusterRoles: rules validated as the RBAC API validates them, and escalation prevented: a user
/// may write a role only with rules it holds itself, unless it may `escalate` roles.
struct RoleStrategy: ResourceStrategy {
    let clusterScoped: Bool
    private let printing = PrintColumns.nameAndCreated()

    var columns: [TableColumn] { printing.columns }
    func cells(_ object: JSON, now: Date) -> [JSON] { printing.cells(object, now: now) }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        for (index, rule) in (object["rules"]?.array ?? []).enumerated() {
            let path = "rules[\(index)]"
            func strings(_ key: String) -> [String] { (rule[key]?.array ?? []).compactMap(\.string) }
            if strings("verbs").isEmpty { errors.append(.required("\(path).verbs", "verbs must contain at least one value")) }
            let urls = strings("nonResourceURLs")
            if !urls.isEmpty {
                if !clusterScoped {
                    errors.append(.invalid("\(path).nonResourceURLs", rule["nonResourceURLs"] ?? .null, "namespaced rules cannot apply to non-resource URLs"))
                } else if !strings("resources").isEmpty || !strings("apiGroups").isEmpty {
                    errors.append(.invalid("\(path).nonResourceURLs", rule["nonResourceURLs"] ?? .null,
                                           "rules cannot apply to both regular resources and non-resource URLs"))
                }
            } else {
                if strings("resources").isEmpty { errors.append(.required("\(path).resources", "resource rules must supply at least one resource")) }
                if rule["apiGroups"]?.array == nil {
                    errors.append(.required("\(path).apiGroups", "resource rules must supply at least one api group"))
                }
            }
        }
        return errors
    }

    func beginCreate(_ object: inout JSON, context: WriteContext) async throws -> FinishWrite? {
        try await Escalation.checkRole(object, clusterScoped: clusterScoped, context: context)
        return nil
    }

    func beginUpdate(_ object: inout JSON, old: JSON, context: WriteContext) async throws -> FinishWrite? {
        if object["rules"] != old["rules"] { try await Escalation.checkRole(object, clusterScoped: clusterScoped, context: context) }
        return nil
    }
}

/// RoleBindings and ClusterRoleBindings: a fixed `roleRef`, and no binding of a role the user could not
/// grant itself, unless it may `bind` that role.
struct RoleBindingStrategy: ResourceStrategy {
    let clusterScoped: Bool

    var columns: [TableColumn] { PrintColumns.roleBinding.columns }
    func cells(_ object: JSON, now: Date) -> [JSON] { PrintColumns.roleBinding.cells(object, now: now) }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let ref = object["roleRef"]
        if ref?["apiGroup"]?.string != "rbac.authorization.k8s.io" {
            errors.append(.notSupported("roleRef.apiGroup", ref?["apiGroup"] ?? .string(""), ["rbac.authorization.k8s.io"]))
        }
        let kinds = clusterScoped ? ["ClusterRole"] : ["ClusterRole", "Role"]
        if let kind = ref?["kind"]?.string, !kinds.contains(kind) {
            errors.append(.notSupported("roleRef.kind", .string(kind), kinds))
        } else if ref?["kind"]?.string == nil {
            errors.append(.notSupported("roleRef.kind", .string(""), kinds))
        }
        if (ref?["name"]?.string ?? "").isEmpty { errors.append(.required("roleRef.name", "")) }
        for (index, subject) in (object["subjects"]?.array ?? []).enumerated() {
            let path = "subjects[\(index)]"
            if (subject["name"]?.string ?? "").isEmpty { errors.append(.required("\(path).name", "")) }
            switch subject["kind"]?.string {
            case "ServiceAccount":
                if clusterScoped, (subject["namespace"]?.string ?? "").isEmpty { errors.append(.required("\(path).namespace", "")) }
            case "User", "Group":
                break
            default:
                errors.append(.notSupported("\(path).kind", subject["kind"] ?? .string(""), ["ServiceAccount", "User", "Group"]))
            }
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if object["roleRef"] != old["roleRef"] {
            errors.append(.invalid("roleRef", object["roleRef"] ?? .null, "cannot change roleRef"))
        }
        return errors
    }

    func beginCreate(_ object: inout JSON, context: WriteContext) async throws -> FinishWrite? {
        try await Escalation.checkBinding(object, clusterScoped: clusterScoped, context: context)
        return nil
    }

    func beginUpdate(_ object: inout JSON, old: JSON, context: WriteContext) async throws -> FinishWrite? {
        try await Escalation.checkBinding(object, clusterScoped: clusterScoped, context: context)
        return nil
    }
}

/// RBAC's escalation prevention: what a user writes into a role, or binds, must be covered by what it holds.
enum Escalation {
    static let group = "rbac.authorization.k8s.io"

    static func checkRole(_ role: JSON, clusterScoped: Bool, context: WriteContext) async throws {
        guard let requester = context.requester, !MastersAuthorizer.isPrivileged(requester.user) else { return }
        let resource = clusterScoped ? "clusterroles" : "roles"
        if await allowed(requester, "escalate", resource: resource, namespace: role.namespace, name: role.name) { return }
        let held = await requester.authorizer.rules(for: requester.user, namespace: clusterScoped ? "" : role.namespace ?? "").policyRules
        try refuseUncovered(RBACAuthorizer.rules(role), held: held, by: requester.user, resource: resource, name: role.name)
    }

    static func checkBinding(_ binding: JSON, clusterScoped: Bool, context: WriteContext) async throws {
        guard let requester = context.requester, !MastersAuthorizer.isPrivileged(requester.user) else { return }
        let kind = binding[path: ["roleRef", "kind"]]?.string ?? ""
        let roleName = binding[path: ["roleRef", "name"]]?.string ?? ""
        let roleResource = kind == "Role" ? "roles" : "clusterroles"
        let namespace = clusterScoped ? nil : binding.namespace
        if await allowed(requester, "bind", resource: roleResource, namespace: namespace, name: roleName) { return }
        let granted: [PolicyRule]
        if let resource = context.registry.resources.find(group: group, version: "v1", resource: roleResource),
           let role = try? await context.registry.get(resource, namespace: kind == "Role" ? namespace : nil, name: roleName) {
            granted = RBACAuthorizer.rules(role)
        } else {
            granted = []
        }
        let held = await requester.authorizer.rules(for: requester.user, namespace: namespace ?? "").policyRules
        try refuseUncovered(granted, held: held, by: requester.user, resource: clusterScoped ? "clusterrolebindings" : "rolebindings",
                            name: binding.name)
    }

    static func allowed(_ requester: Requester, _ verb: String, resource: String, namespace: String?, name: String) async -> Bool {
        await requester.authorizer.authorize(AuthorizationRequest(user: requester.user, resource: ResourceAttributes(
            verb: verb, group: group, version: "v1", resource: resource, subresource: nil, namespace: namespace, name: name))).allowed
    }

    static func refuseUncovered(_ rules: [PolicyRule], held: [PolicyRule], by user: UserInfo, resource: String, name: String) throws {
        let missing = uncovered(rules, by: held)
        guard !missing.isEmpty else { return }
        let groups = user.groups.map { "\"\($0)\"" }.joined(separator: " ")
        throw APIError.forbidden("\(resource).\(group) \"\(name)\" is forbidden: user \"\(user.name)\" (groups=[\(groups)]) is attempting to grant RBAC permissions not currently held:\n"
                                 + missing.map(compactString).joined(separator: "\n"),
                                 resource: resource, group: group, name: name)
    }

    /// The parts of `rules` that no rule in `held` covers, one per group, resource and name (or URL), with their verbs.
    static func uncovered(_ rules: [PolicyRule], by held: [PolicyRule]) -> [PolicyRule] {
        var missing: [PolicyRule] = []
        for rule in rules {
            if !rule.nonResourceURLs.isEmpty {
                for url in rule.nonResourceURLs {
                    let verbs = rule.verbs.filter { verb in !held.contains { covers($0, url: url, verb: verb) } }
                    if !verbs.isEmpty { missing.append(PolicyRule(verbs: verbs, nonResourceURLs: [url])) }
                }
                continue
            }
            for group in rule.apiGroups {
                for resource in rule.resources {
                    for name in rule.resourceNames.isEmpty ? [nil] : rule.resourceNames.map(Optional.some) {
                        let verbs = rule.verbs.filter { verb in
                            !held.contains { covers($0, group: group, resource: resource, name: name, verb: verb) }
                        }
                        if !verbs.isEmpty {
                            missing.append(PolicyRule(verbs: verbs, apiGroups: [group], resources: [resource], resourceNames: name.map { [$0] } ?? []))
                        }
                    }
                }
            }
        }
        return missing
    }

    /// Whether an owner's rule covers one grant, by RBAC's rule: a wildcard covers only what it names
    /// (a grant of `*` needs a held `*`; `*/sub` covers any resource's `sub`).
    static func covers(_ owner: PolicyRule, group: String, resource: String, name: String?, verb: String) -> Bool {
        guard owner.nonResourceURLs.isEmpty,
              owner.verbs.contains("*") || owner.verbs.contains(verb),
              owner.apiGroups.contains("*") || owner.apiGroups.contains(group) else { return false }
        let resourceCovered = owner.resources.contains { held in
            if held == "*" || held == resource { return true }
            if held.hasPrefix("*/"), let slash = resource.firstIndex(of: "/") { return held.dropFirst(2) == resource[resource.index(after: slash)...] }
            return false
        }
        guard resourceCovered else { return false }
        return owner.resourceNames.isEmpty || name.map(owner.resourceNames.contains) == true
    }

    /// A URL grant is covered exactly when the owner's rule would allow a request for it.
    static func covers(_ owner: PolicyRule, url: String, verb: String) -> Bool {
        owner.allows(NonResourceAttributes(verb: verb, path: url))
    }

    /// A rule as RBAC's error messages print it.
    static func compactString(_ rule: PolicyRule) -> String {
        func list(_ values: [String]) -> String { "[" + values.map { "\"\($0)\"" }.joined(separator: " ") + "]" }
        var parts: [String] = []
        if !rule.apiGroups.isEmpty || rule.nonResourceURLs.isEmpty { parts.append("APIGroups:\(list(rule.apiGroups))") }
        if !rule.resources.isEmpty { parts.append("Resources:\(list(rule.resources))") }
        if !rule.resourceNames.isEmpty { parts.append("ResourceNames:\(list(rule.resourceNames))") }
        if !rule.nonResourceURLs.isEmpty { parts.append("NonResourceURLs:\(list(rule.nonResourceURLs))") }
        parts.append("Verbs:\(list(rule.verbs))")
        return "{" + parts.joined(separator: ", ") + "}"
    }
}

extension AuthorizationRules {
    /// The rules in RBAC's own shape.
    var policyRules: [PolicyRule] {
        resourceRules.map { PolicyRule(verbs: $0.verbs, apiGroups: $0.apiGroups, resources: $0.resources, resourceNames: $0.resourceNames) }
            + nonResourceRules.map { PolicyRule(verbs: $0.verbs, nonResourceURLs: $0.nonResourceURLs) }
    }
}
