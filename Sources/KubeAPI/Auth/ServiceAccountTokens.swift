import Foundation
import KubeModel

/// `serviceaccounts/token` (the TokenRequest API, `kubectl create token`): a token for the service account,
/// for the audiences asked (the API server's by default), good for `expirationSeconds` (an hour by default,
/// ten minutes at least), optionally bound to a Pod or Secret so that it dies with it.
struct ServiceAccountTokenRequest: SubresourceHandler {
    static let defaultExpiration: Int64 = 3600
    static let minimumExpiration: Int64 = 600

    func handle(_ request: SubresourceRequest) async throws -> APIResponse {
        guard request.request.method == "POST" else {
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        let registry = request.registry
        guard let issuer = registry.serviceAccountIssuer else {
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource", details: [:])
        }
        var body = try APIServer.decodeBody(request.request)
        if let kind = body["kind"]?.string, !kind.isEmpty, kind != "TokenRequest" {
            throw APIError.badRequest("the body of the request was in an unknown format: expected TokenRequest, got \(kind)")
        }
        let account = try await registry.get(request.resource, namespace: request.namespace, name: request.name)
        let namespace = request.namespace ?? ""
        var spec = body["spec"] ?? [:]
        let audiences = (spec["audiences"]?.array ?? []).compactMap(\.string)
        let expiration = spec["expirationSeconds"]?.int ?? Self.defaultExpiration
        if expiration < Self.minimumExpiration {
            throw APIError.invalid(kind: "TokenRequest", group: "authentication.k8s.io", name: request.name,
                                   causes: [.invalid("spec.expirationSeconds", .int(expiration), "may not specify a duration less than 10 minutes")])
        }
        let now = Date()
        var kubernetes: JSON = ["namespace": .string(namespace),
                                "serviceaccount": ["name": .string(request.name), "uid": .string(account.uid ?? "")]]
        if let bound = spec["boundObjectRef"], let kind = bound["kind"]?.string {
            let plural: String
            switch kind {
            case "Pod": plural = "pods"
            case "Secret": plural = "secrets"
            default:
                throw APIError.invalid(kind: "TokenRequest", group: "authentication.k8s.io", name: request.name,
                                       causes: [.notSupported("spec.boundObjectRef.kind", .string(kind), ["Pod", "Secret"])])
            }
            guard let resource = registry.resources.find(group: "", version: "v1", resource: plural) else { throw APIError.internalError("no \(plural)") }
            let object = try await registry.get(resource, namespace: namespace, name: bound["name"]?.string ?? "")
            if let uid = bound["uid"]?.string, !uid.isEmpty, uid != object.uid {
                throw APIError.conflict(plural, name: object.name, why: "the UID in the bound object reference (\(uid)) does not match the UID in record")
            }
            let reference: JSON = ["name": .string(object.name), "uid": .string(object.uid ?? "")]
            kubernetes[kind == "Pod" ? "pod" : "secret"] = reference
            if kind == "Pod", let node = object[path: ["spec", "nodeName"]]?.string, !node.isEmpty,
               let nodes = registry.resources.find(group: "", version: "v1", resource: "nodes"),
               let nodeObject = try? await registry.get(nodes, namespace: nil, name: node) {
                kubernetes["node"] = ["name": .string(node), "uid": .string(nodeObject.uid ?? "")]
            }
            spec["boundObjectRef"] = ["kind": .string(kind), "apiVersion": "v1", "name": .string(object.name), "uid": .string(object.uid ?? "")]
        }
        let expires = now.addingTimeInterval(TimeInterval(expiration))
        let seconds = Int64(now.timeIntervalSince1970)
        let claims: JSON = [
            "aud": .array((audiences.isEmpty ? issuer.apiAudiences : audiences).map(JSON.string)),
            "exp": .int(Int64(expires.timeIntervalSince1970)), "iat": .int(seconds), "nbf": .int(seconds),
            "iss": .string(issuer.issuer), "jti": .string(UUID().uuidString.lowercased()),
            "kubernetes.io": kubernetes,
            "sub": .string("system:serviceaccount:\(namespace):\(request.name)"),
        ]
        spec["audiences"] = .array((audiences.isEmpty ? issuer.apiAudiences : audiences).map(JSON.string))
        spec["expirationSeconds"] = .int(expiration)
        body["apiVersion"] = "authentication.k8s.io/v1"
        body["kind"] = "TokenRequest"
        body["metadata"] = ["name": .string(request.name), "namespace": .string(namespace), "creationTimestamp": .string(Timestamps.format(now))]
        body["spec"] = spec
        body["status"] = ["token": .string(request.dryRun ? "" : issuer.sign(claims)), "expirationTimestamp": .string(Timestamps.format(expires))]
        return .json(body, status: 201)
    }
}

/// Service-account tokens as bearer tokens: bound tokens this cluster's issuer signed (alive while their
/// service account, and the Pod or Secret they are bound to, still exist with the same uid), and the legacy
/// tokens kept in `kubernetes.io/service-account-token` Secrets (alive while their Secret holds them).
public struct ServiceAccountTokenAuthenticator: Authenticator {
    let issuer: ServiceAccountIssuer
    let registry: Registry

    public init(issuer: ServiceAccountIssuer, registry: Registry) {
        self.issuer = issuer
        self.registry = registry
    }

    public func authenticate(_ credentials: Credentials) async -> Authentication {
        guard let token = credentials.bearerToken, ServiceAccountIssuer.looksLikeJWT(token) else { return .noCredentials }
        guard let claims = issuer.verifiedClaims(token) else { return .noCredentials }
        return await user(for: claims, token: token, audiences: credentials.audiences ?? issuer.apiAudiences).map(Authentication.user) ?? .rejected
    }

    /// The service account of a token signed for `audience` (another service's audience, such as EKS Pod
    /// Identity's `pods.eks.amazonaws.com`), if it is still good.
    public func serviceAccount(of token: String, audience: String) async -> UserInfo? {
        guard let claims = issuer.verifiedClaims(token) else { return nil }
        return await user(for: claims, token: token, audiences: [audience])
    }

    func cached(_ plural: String) -> CachedResource? {
        registry.resources.find(group: "", version: "v1", resource: plural).map(registry.cached)
    }

    /// The service account a verified token names, if the token is still good for one of `audiences`.
    func user(for claims: JSON, token: String, audiences: [String], now: Date = Date()) async -> UserInfo? {
        let seconds = Int64(now.timeIntervalSince1970)
        if claims["iss"]?.string == ServiceAccountIssuer.legacyIssuer { return await legacyUser(claims, token: token) }
        guard claims["iss"]?.string == issuer.issuer,
              let expires = claims["exp"]?.int, expires > seconds, (claims["nbf"]?.int ?? 0) <= seconds + 60 else { return nil }
        let tokenAudiences = claims["aud"]?.array?.compactMap(\.string) ?? claims["aud"]?.string.map { [$0] } ?? []
        guard tokenAudiences.contains(where: audiences.contains) else { return nil }
        let info = claims["kubernetes.io"] ?? [:]
        guard let namespace = info["namespace"]?.string, let name = info[path: ["serviceaccount", "name"]]?.string,
              let uid = info[path: ["serviceaccount", "uid"]]?.string else { return nil }
        guard let accounts = cached("serviceaccounts") else { return nil }
        await accounts.waitUntilLoaded()
        guard accounts.get(ObjectKey(namespace: namespace, name: name))?.uid == uid else { return nil }
        var extra: [String: [String]] = [:]
        if let jti = claims["jti"]?.string { extra["authentication.kubernetes.io/credential-id"] = ["JTI=\(jti)"] }
        for (kind, plural) in [("pod", "pods"), ("secret", "secrets")] {
            guard let bound = info[kind], let boundName = bound["name"]?.string else { continue }
            guard let objects = cached(plural) else { return nil }
            await objects.waitUntilLoaded()
            guard let object = objects.get(ObjectKey(namespace: namespace, name: boundName)), object.uid == bound["uid"]?.string,
                  object.deletionTimestamp == nil else { return nil }
            if kind == "pod" {
                extra["authentication.kubernetes.io/pod-name"] = [boundName]
                extra["authentication.kubernetes.io/pod-uid"] = [bound["uid"]?.string ?? ""]
            }
        }
        if let node = info[path: ["node", "name"]]?.string {
            extra["authentication.kubernetes.io/node-name"] = [node]
            extra["authentication.kubernetes.io/node-uid"] = [info[path: ["node", "uid"]]?.string ?? ""]
        }
        return Self.serviceAccountUser(namespace: namespace, name: name, uid: uid, extra: extra)
    }

    static func serviceAccountUser(namespace: String, name: String, uid: String, extra: [String: [String]] = [:]) -> UserInfo {
        UserInfo(name: "system:serviceaccount:\(namespace):\(name)",
                 groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", "system:authenticated"], uid: uid, extra: extra)
    }

    private func legacyUser(_ claims: JSON, token: String) async -> UserInfo? {
        guard let namespace = claims["kubernetes.io/serviceaccount/namespace"]?.string,
              let secretName = claims["kubernetes.io/serviceaccount/secret.name"]?.string,
              let name = claims["kubernetes.io/serviceaccount/service-account.name"]?.string,
              let uid = claims["kubernetes.io/serviceaccount/service-account.uid"]?.string,
              let secrets = cached("secrets"), let accounts = cached("serviceaccounts") else { return nil }
        await secrets.waitUntilLoaded()
        await accounts.waitUntilLoaded()
        guard let secret = secrets.get(ObjectKey(namespace: namespace, name: secretName)),
              secret[path: ["data", "token"]]?.string.flatMap({ Data(base64Encoded: $0) }) == Data(token.utf8),
              accounts.get(ObjectKey(namespace: namespace, name: name))?.uid == uid else { return nil }
        return Self.serviceAccountUser(namespace: namespace, name: name, uid: uid,
                                       extra: ["authentication.kubernetes.io/credential-id": ["JTI=legacy-\(secret.uid ?? "")"]])
    }

    /// A legacy token for a `kubernetes.io/service-account-token` Secret, as the token controller writes it.
    public static func legacyToken(issuer: ServiceAccountIssuer, secret: JSON, account: JSON) -> String {
        issuer.sign([
            "iss": .string(ServiceAccountIssuer.legacyIssuer),
            "kubernetes.io/serviceaccount/namespace": .string(secret.namespace ?? ""),
            "kubernetes.io/serviceaccount/secret.name": .string(secret.name),
            "kubernetes.io/serviceaccount/service-account.name": .string(account.name),
            "kubernetes.io/serviceaccount/service-account.uid": .string(account.uid ?? ""),
            "sub": .string("system:serviceaccount:\(secret.namespace ?? ""):\(account.name)"),
        ])
    }
}
