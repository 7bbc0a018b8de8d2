import KubeModel

/// The review resources the API server answers without storing anything: who the caller is
/// (`SelfSubjectReview`, `kubectl auth whoami`) and what a user may do (`SubjectAccessReview` and its
/// self and local forms, `kubectl auth can-i`; `SelfSubjectRulesReview`, `kubectl auth can-i --list`).
enum AccessReviews {
    static func review(_ resource: ResourceType, body: JSON, user: UserInfo, namespace: String?,
                       authorizer: any Authorizer, authenticator: (any Authenticator)? = nil) async throws -> JSON {
        if let kind = body["kind"]?.string, !kind.isEmpty, kind != resource.kind {
            throw Registry.wrongKind(kind, apiVersion: body["apiVersion"]?.string ?? resource.groupVersion, for: resource)
        }
        var review = body
        review["apiVersion"] = .string(resource.groupVersion)
        review["kind"] = .string(resource.kind)
        var metadata = review["metadata"]?.object ?? [:]
        metadata["creationTimestamp"] = .null
        if let namespace { metadata["namespace"] = .string(namespace) }
        review["metadata"] = .object(metadata)
        let spec = body["spec"] ?? [:]
        switch resource.resource {
        case "tokenreviews":
            guard let token = spec["token"]?.string, !token.isEmpty else {
                throw APIError.invalid(kind: resource.kind, group: resource.group, name: "", causes: [.required("spec.token", "")])
            }
            // Audiences asked for must be the token's; none asked means the API server's own.
            let asked = (spec["audiences"]?.array ?? []).compactMap(\.string)
            let result = await authenticator?.authenticate(Credentials(clientCertificate: nil, bearerToken: token,
                                                                       audiences: asked.isEmpty ? nil : asked))
            if case .user(let reviewed) = result, reviewed != .anonymous {
                // The audiences reported are those asked for that the token is for (one asked: it passed already).
                var valid = asked.isEmpty ? ["https://kubernetes.default.svc"] : asked
                if asked.count > 1 {
                    valid = []
                    for audience in asked {
                        let single = Credentials(clientCertificate: nil, bearerToken: token, audiences: [audience])
                        if case .user = await authenticator?.authenticate(single) { valid.append(audience) }
                    }
                }
                review["status"] = ["authenticated": true, "user": userInfo(reviewed), "audiences": .array(valid.map(JSON.string))]
            } else {
                review["status"] = ["authenticated": false, "error": "invalid bearer token", "user": [:]]
            }
        case "selfsubjectreviews":
            review["status"] = ["userInfo": userInfo(user)]
        case "selfsubjectrulesreviews":
            let rules = await authorizer.rules(for: user, namespace: spec["namespace"]?.string ?? "")
            review["status"] = status(of: rules)
        case "selfsubjectaccessreviews":
            review["status"] = try await decide(spec, user: user, kind: resource.kind, namespace: nil, authorizer: authorizer)
        default:
            // subjectaccessreviews and localsubjectaccessreviews: about the user the spec names.
            let subject = UserInfo(name: spec["user"]?.string ?? "", groups: (spec["groups"]?.array ?? []).compactMap(\.string))
            if subject.name.isEmpty, subject.groups.isEmpty {
                throw APIError.invalid(kind: resource.kind, group: resource.group, name: "",
                                       causes: [.invalid("spec.user", "", "at least one of user or group must be specified")])
            }
            review["status"] = try await decide(spec, user: subject, kind: resource.kind, namespace: namespace, authorizer: authorizer)
        }
        return review
    }

    static func userInfo(_ user: UserInfo) -> JSON {
        var info: JSON = ["username": .string(user.name), "groups": .array(user.groups.map(JSON.string))]
        if !user.uid.isEmpty { info["uid"] = .string(user.uid) }
        if !user.extra.isEmpty { info["extra"] = .object(user.extra.mapValues { .array($0.map(JSON.string)) }) }
        return info
    }

    /// The decision on a review's resource or non-resource attributes (exactly one of them is given).
    static func decide(_ spec: JSON, user: UserInfo, kind: String, namespace: String?, authorizer: any Authorizer) async throws -> JSON {
        let resource = spec["resourceAttributes"]?.object
        let nonResource = spec["nonResourceAttributes"]?.object
        guard (resource == nil) != (nonResource == nil) else {
            throw APIError.invalid(kind: kind, group: "authorization.k8s.io", name: "",
                                   causes: [.invalid("spec.resourceAttributes", spec["resourceAttributes"] ?? .null,
                                                     "exactly one of nonResourceAttributes or resourceAttributes must be specified")])
        }
        let request: AuthorizationRequest
        if let resource {
            func text(_ key: String) -> String? { resource[key]?.string.flatMap { $0.isEmpty ? nil : $0 } }
            if let namespace, let named = text("namespace"), named != namespace {
                throw APIError.invalid(kind: kind, group: "authorization.k8s.io", name: "",
                                       causes: [.invalid("spec.resourceAttributes.namespace", .string(named), "must match metadata.namespace")])
            }
            request = AuthorizationRequest(user: user, resource: ResourceAttributes(
                verb: text("verb") ?? "", group: text("group") ?? "", version: text("version") ?? "", resource: text("resource") ?? "",
                subresource: text("subresource"), namespace: namespace ?? text("namespace"), name: text("name")))
        } else {
            request = AuthorizationRequest(user: user, nonResource: NonResourceAttributes(
                verb: nonResource?["verb"]?.string ?? "", path: nonResource?["path"]?.string ?? ""))
        }
        let decision = await authorizer.authorize(request)
        var status: JSON = ["allowed": .bool(decision.allowed)]
        if !decision.reason.isEmpty { status["reason"] = .string(decision.reason) }
        return status
    }

    static func status(of rules: AuthorizationRules) -> JSON {
        func strings(_ values: [String]) -> JSON { .array(values.map(JSON.string)) }
        return [
            "resourceRules": .array(rules.resourceRules.map { rule in
                var json: JSON = ["verbs": strings(rule.verbs), "apiGroups": strings(rule.apiGroups), "resources": strings(rule.resources)]
                if !rule.resourceNames.isEmpty { json["resourceNames"] = strings(rule.resourceNames) }
                return json
            }),
            "nonResourceRules": .array(rules.nonResourceRules.map { ["verbs": strings($0.verbs), "nonResourceURLs": strings($0.nonResourceURLs)] }),
            "incomplete": .bool(rules.incomplete),
        ]
    }
}
