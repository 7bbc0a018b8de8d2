import Foundation
import KubeModel


/// The Kubernetes REST surface of one cluster: discovery, version, health and
/// every resource verb, answered from the registry.
public struct APIServer: Sendable {
    public let registry: Registry
    public let version: VersionInfo
    let authorizer: any Authorizer
    let openAPICache = OpenAPICache()
    let priorityAndFairness = (flowSchemaUID: UUID().uuidString.lowercased(), priorityLevelUID: UUID().uuidString.lowercased())
    /// Request bodies over 3 MiB are refused, as by the real API server.
    public static let maxRequestBody = 3 * 1024 * 1024

    /// The authenticators of bearer tokens, for `TokenReview` (the transport authenticates requests before they arrive).
    let authenticator: (any Authenticator)?
    /// Where each request's audit event goes; nil audits nothing.
    let audit: (any AuditBackend)?
    /// The request metrics and `/metrics`; nil counts nothing.
    let metrics: APIMetrics?

    /// - Parameter authorizer: nil for kube-apiserver's default: `system:masters`, then Node, then RBAC.
    public init(registry: Registry, version: VersionInfo, authorizer: (any Authorizer)? = nil, authenticator: (any Authenticator)? = nil,
                audit: (any AuditBackend)? = nil, metrics: APIMetrics? = nil) {
        self.registry = registry
        self.version = version
        self.authorizer = authorizer ?? Self.defaultAuthorizer(registry)
        self.authenticator = authenticator
        self.audit = audit
        self.metrics = metrics
    }

    public static func defaultAuthorizer(_ registry: Registry) -> AuthorizerChain {
        AuthorizerChain([MastersAuthorizer(), NodeAuthorizer(registry: registry), RBACAuthorizer(registry: registry)])
    }

    public func handle(_ request: APIRequest) async -> APIResponse {
        let record = audit == nil && metrics == nil ? nil : AuditRecord()
        let started = ContinuousClock.now
        let inflight = metrics?.started(method: request.method)
        var response = await AuditRecord.$current.withValue(record) { await answer(request) }
        if let metrics, let record, let inflight {
            metrics.finished(record.snapshot, request: request, status: response.status, elapsed: ContinuousClock.now - started, inflight: inflight)
        }
        if let audit, let record {
            let stage = if case .stream = response.body { "ResponseStarted" } else { "ResponseComplete" }
            if let line = AuditEvent.line(record: record, request: request, user: request.user, response: response, stage: stage) {
                audit.record(line)
            }
            // A watch's ResponseComplete comes when its stream ends, whoever ends it.
            if case .stream(let chunks) = response.body {
                let started = response
                response.body = .stream(AsyncThrowingStream { continuation in
                    let relay = Task {
                        do {
                            for try await chunk in chunks { continuation.yield(chunk) }
                            continuation.finish()
                        } catch {
                            continuation.finish(throwing: error)
                        }
                    }
                    continuation.onTermination = { _ in
                        relay.cancel()
                        if let line = AuditEvent.line(record: record, request: request, user: request.user, response: started,
                                                      stage: "ResponseComplete") {
                            audit.record(line)
                        }
                    }
                })
            }
            response.headers.append(("Audit-Id", record.id))
        }
        // API Priority and Fairness classified the request, as on every current cluster: clients that see these
        // headers (controller-runtime, Flux) leave rate limiting to the server.
        response.headers += [("X-Kubernetes-Pf-Flowschema-Uid", priorityAndFairness.flowSchemaUID),
                             ("X-Kubernetes-Pf-Prioritylevel-Uid", priorityAndFairness.priorityLevelUID)]
        return response
    }

    /// The audit event of a request whose credentials nobody accepted (its 401), as kube-apiserver audits
    /// failed authentication.
    public func auditFailedAuthentication(_ request: APIRequest) {
        guard let audit else { return }
        let record = AuditRecord()
        if let info = RequestInfo.parse(request.path) {
            let isWatch = info.watchPath || ["true", "1"].contains(request.query["watch"] ?? "")
            record.authorized(verb: Self.verb(method: request.method, named: info.name != nil, watch: isWatch),
                              objectRef: AuditRecord.ObjectRef(resource: info.resource, group: info.group, version: info.version,
                                                               namespace: info.namespace, name: info.name, subresource: info.subresource),
                              decision: nil)
        }
        if let line = AuditEvent.line(record: record, request: request, user: UserInfo(name: "", groups: []),
                                      response: .error(.unauthorized), stage: "ResponseComplete") {
            audit.record(line)
        }
    }

    private func answer(_ request: APIRequest) async -> APIResponse {
        do {
            if request.body.count > Self.maxRequestBody { throw APIError.tooLarge() }
            let impersonated = try await Impersonation.apply(request, authorizer: authorizer)
            if impersonated.user != request.user { AuditRecord.current?.impersonating(impersonated.user) }
            return try await Requester.$current.withValue(Requester(user: impersonated.user, authorizer: authorizer)) {
                try await route(impersonated)
            }
        } catch let error as APIError {
            return .error(error)
        } catch {
            return .error(.internalError(String(describing: error)))
        }
    }

    private func route(_ request: APIRequest) async throws -> APIResponse {
        let path = request.path.count > 1 && request.path.hasSuffix("/") ? String(request.path.dropLast()) : request.path
        // The issuer's documents are public, as EKS publishes them at the cluster's OIDC issuer.
        if let issuer = registry.serviceAccountIssuer, request.method == "GET", !issuer.issuerPath.isEmpty {
            if path == issuer.discoveryPath { return .json(issuer.discoveryDocument) }
            if path == issuer.keysPath { return .json(issuer.keySet) }
        }
        if RequestInfo.parse(path) == nil {
            // Discovery, OpenAPI, health and version are non-resource paths, authorized by path.
            let verb = request.method.lowercased()
            let decision = await authorizer.authorize(AuthorizationRequest(user: request.user,
                                                                           nonResource: NonResourceAttributes(verb: verb, path: request.path)))
            AuditRecord.current?.authorized(verb: verb, objectRef: nil, decision: decision)
            guard decision.allowed else {
                throw APIError(code: 403, reason: "Forbidden", message: "forbidden: User \"\(request.user.name)\" cannot \(verb) path \"\(request.path)\"",
                               details: [:])
            }
        }
        if let health = Health.response(path: path, verbose: request.query["verbose"] != nil) { return health }
        switch path {
        case "/version":
            return .json(version.json)
        case "/metrics" where metrics != nil:
            return APIResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                               body: .bytes(metrics!.render(storedObjects: registry.storedObjectCounts())))
        case "/.well-known/openid-configuration" where registry.serviceAccountIssuer != nil:
            var document = registry.serviceAccountIssuer!.discoveryDocument
            document["jwks_uri"] = .string(registry.serviceAccountIssuer!.issuer + "/keys")
            return .json(document)
        case "/openid/v1/jwks" where registry.serviceAccountIssuer != nil:
            return APIResponse(status: 200, headers: [("Content-Type", "application/jwk-set+json")],
                               body: .bytes(JSONCoding.encode(registry.serviceAccountIssuer!.keySet)))
        case "/api", "/apis":
            if Discovery.wantsAggregated(request.header("accept")) {
                return APIResponse(status: 200, headers: [("Content-Type", Discovery.aggregatedType)],
                                   body: .bytes(JSONCoding.encode(Discovery.aggregated(registry.resources, core: path == "/api"))))
            }
            return .json(path == "/api" ? Discovery.coreVersions() : Discovery.groups(registry.resources))
        case "/openapi/v2":
            let wantsProtobuf = request.header("accept")?.contains(OpenAPIv2Protobuf.contentType) == true
            return openAPICache.v2(registry.resources, protobuf: wantsProtobuf)
        case "/openapi/v3":
            return openAPICache.v3(registry.resources, path: nil) ?? .json(["paths": [:]])
        default:
            break
        }
        if path.hasPrefix("/openapi/v3/") {
            guard let document = openAPICache.v3(registry.resources, path: String(path.dropFirst("/openapi/v3/".count))) else {
                throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
            }
            return document
        }
        if let list = Discovery.resourceList(path: path, table: registry.resources) {
            return .json(list)
        }
        guard let info = RequestInfo.parse(path) else {
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
        }
        let response = try await resourceRequest(info, request)
        if let deprecation = APIDeprecation.of(group: info.group, version: info.version, resource: info.resource) {
            return response.warning([deprecation.warning])
        }
        return response
    }

    // MARK: Resources

    private func resourceRequest(_ info: RequestInfo, _ request: APIRequest) async throws -> APIResponse {
        guard let resource = registry.resources.find(group: info.group, version: info.version, resource: info.resource) else {
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
        }
        if let subresource = info.subresource, !resource.subresources.contains(subresource) {
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
        }
        let namespace = resource.namespaced ? info.namespace : nil
        if !resource.namespaced, info.namespace != nil {
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
        }
        let isWatch = info.watchPath || ["true", "1"].contains(request.query["watch"] ?? "")
        let verb = Self.verb(method: request.method, named: info.name != nil, watch: isWatch)
        let attributes = ResourceAttributes(verb: verb, group: resource.group, version: resource.version, resource: resource.resource,
                                            subresource: info.subresource, namespace: namespace, name: info.name)
        let decision = await authorizer.authorize(AuthorizationRequest(user: request.user, resource: attributes))
        AuditRecord.current?.authorized(verb: verb, objectRef: AuditRecord.ObjectRef(
            resource: resource.resource, group: resource.group, version: resource.version, namespace: namespace, name: info.name,
            subresource: info.subresource), decision: decision)
        guard decision.allowed else {
            // As kube-apiserver words it: the subresource beside its resource, the authorizer's reason after.
            let scope = namespace.map { " in the namespace \"\($0)\"" } ?? " at the cluster scope"
            let named = info.subresource.map { "\(resource.resource)/\($0)" } ?? resource.resource
            let reason = decision.reason.isEmpty ? "" : ": \(decision.reason)"
            throw APIError.forbidden("\(APIError.qualified(resource.resource, group: resource.group))\(info.name.map { " \"\($0)\"" } ?? "") is forbidden: User \"\(request.user.name)\" cannot \(verb) resource \"\(named)\" in API group \"\(resource.group)\"\(scope)\(reason)",
                                     resource: resource.resource, group: resource.group, name: info.name ?? "")
        }
        let dryRun = request.query["dryRun"] == "All"
        let asTable = Self.wantsTable(request.header("accept"))
        let manager = Self.fieldManager(request)

        if info.subresource == "scale" {
            return try await ScaleSubresource.handle(request, resource: resource, namespace: namespace, name: info.name ?? "",
                                                     registry: registry, dryRun: dryRun, manager: manager)
        }
        if let subresource = info.subresource, let name = info.name, let handler = resource.strategy.subresource(subresource) {
            return try await handler.handle(SubresourceRequest(request: request, resource: resource, namespace: namespace, name: name,
                                                               registry: registry))
        }
        let target: Registry.UpdateTarget = info.subresource == "status" ? .status : .main
        if !resource.isStored {
            guard request.method == "POST", info.name == nil else {
                throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
            }
            let review = try await AccessReviews.review(resource, body: try Self.decodeBody(request), user: request.user,
                                                        namespace: namespace, authorizer: authorizer, authenticator: authenticator)
            return .json(review, status: 201)
        }

        switch (request.method, info.name) {
        case ("GET", nil) where isWatch, ("GET", .some) where isWatch:
            var options = try ListOptions(query: request.query)
            if let name = info.name { options.fieldSelector = FieldSelector(terms: options.fieldSelector.terms + [.init(field: "metadata.name", value: name, equal: true)]) }
            let events = try await registry.watch(resource, namespace: namespace, options: options)
            return WatchEncoding.response(events, resource: resource, asTable: asTable, options: options)
        case ("GET", nil):
            let options = try ListOptions(query: request.query)
            let list = try await registry.list(resource, namespace: namespace, options: options)
            if asTable {
                return .json(Tables.table(list.items, resource: resource, resourceVersion: list.resourceVersion,
                                          continueToken: list.continueToken))
            }
            return APIResponse(status: 200, headers: [("Content-Type", "application/json")], body: .bytes(Self.listBytes(list, resource: resource)))
        case ("GET", let name?):
            let object = try await registry.get(resource, namespace: namespace, name: name)
            return .json(asTable ? Tables.table([object], resource: resource, resourceVersion: object.resourceVersion ?? "", continueToken: nil) : object)
        case ("POST", nil):
            let (body, warnings) = try Self.validatedBody(request, resource: resource)
            let created = try await registry.create(resource, namespace: namespace, body: body, dryRun: dryRun, fieldManager: manager)
            return .json(created, status: 201).warning(warnings)
        case ("PUT", let name?):
            let (body, warnings) = try Self.validatedBody(request, resource: resource)
            return .json(try await registry.update(resource, namespace: namespace, name: name, body: body, target: target, dryRun: dryRun,
                                                   fieldManager: manager))
                .warning(warnings)
        case ("PATCH", let name?):
            let contentType = request.contentType
            let validation = FieldValidation(rawValue: request.query["fieldValidation"] ?? "Warn") ?? .warn
            if contentType == "application/apply-patch+yaml" {
                guard let manager = request.query["fieldManager"], !manager.isEmpty else {
                    throw APIError.badRequest("PATCH, application/apply-patch+yaml requests must include the fieldManager query parameter")
                }
                let applied = try Self.decodeBody(request)
                let object = try await registry.apply(resource, namespace: namespace, name: name, applied: applied, manager: manager,
                                                      force: request.query["force"] == "true", target: target, dryRun: dryRun,
                                                      fieldValidation: request.query["fieldValidation"].flatMap(FieldValidation.init) ?? .strict)
                return .json(object)
            }
            guard let type = Registry.PatchType(rawValue: contentType) else { throw APIError.unsupportedMediaType(contentType) }
            let patch = try Self.decodeBody(request, allowArray: type == .json)
            return .json(try await registry.patch(resource, namespace: namespace, name: name, type: type, patch: patch, target: target,
                                                  dryRun: dryRun, fieldValidation: validation, fieldManager: manager))
        case ("DELETE", let name?):
            let options = try Self.deleteOptions(request)
            return .json(try await registry.delete(resource, namespace: namespace, name: name, options: options))
        case ("DELETE", nil):
            let list = try await registry.deleteCollection(resource, namespace: namespace, listOptions: try ListOptions(query: request.query),
                                                           options: try Self.deleteOptions(request))
            return APIResponse(status: 200, headers: [("Content-Type", "application/json")], body: .bytes(Self.listBytes(list, resource: resource)))
        default:
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    /// The manager a write is recorded under: `fieldManager`, else the client's user agent up to its first `/`.
    static func fieldManager(_ request: APIRequest) -> String {
        if let manager = request.query["fieldManager"], !manager.isEmpty { return String(manager.prefix(128)) }
        let agent = request.header("user-agent") ?? "unknown"
        return String((agent.split(separator: "/").first.map(String.init) ?? agent).prefix(128))
    }

    static func verb(method: String, named: Bool, watch: Bool) -> String {
        switch method {
        case "GET": watch ? "watch" : (named ? "get" : "list")
        case "POST": "create"
        case "PUT": "update"
        case "PATCH": "patch"
        case "DELETE": named ? "delete" : "deletecollection"
        default: method.lowercased()
        }
    }

    static func wantsTable(_ accept: String?) -> Bool {
        guard let accept else { return false }
        // The first acceptable type wins; kubectl lists Table first and plain JSON as the fallback.
        for type in accept.split(separator: ",") {
            let parameters = type.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            if parameters.contains("as=Table") && parameters.contains("g=meta.k8s.io") { return true }
            if parameters.first == "application/json" && !parameters.contains(where: { $0.hasPrefix("as=") }) { return false }
        }
        return false
    }

    static func decodeBody(_ request: APIRequest, allowArray: Bool = false) throws(APIError) -> JSON {
        guard !request.body.isEmpty else { throw .badRequest("the body of the request is empty") }
        if request.header("content-type")?.hasPrefix(KubernetesProtobuf.contentType) == true {
            return try KubernetesProtobuf.decode(request.body)
        }
        let body: JSON
        do {
            body = try JSONCoding.decode(request.body)
        } catch {
            // YAML where the API server takes it (JSON is YAML, so JSON is tried first).
            guard ["application/yaml", "application/apply-patch+yaml"].contains(request.contentType) else {
                throw .badRequest("the object provided is unrecognized (must be of type JSON): \(error)")
            }
            body = try YAMLDocument.json(from: String(decoding: request.body, as: UTF8.self))
        }
        if !allowArray, body.object == nil { throw .badRequest("the body of the request must be a JSON object") }
        return body
    }

    /// The body, checked for fields its kind does not have, as `fieldValidation` asks (Warn when not given).
    static func validatedBody(_ request: APIRequest, resource: ResourceType) throws(APIError) -> (JSON, [String]) {
        var body = try decodeBody(request)
        let mode = FieldValidation(rawValue: request.query["fieldValidation"] ?? "Warn") ?? .warn
        guard mode != .ignore else { return (body, []) }
        body["apiVersion"] = body["apiVersion"] ?? .string(resource.groupVersion)
        body["kind"] = body["kind"] ?? .string(resource.kind)
        let unknown = resource.strategy.unknownFields(body)
        guard !unknown.isEmpty else { return (body, []) }
        if mode == .strict {
            throw .badRequest("strict decoding error: " + unknown.map { "unknown field \"\($0)\"" }.joined(separator: ", "))
        }
        return (body, unknown.map { "unknown field \"\($0)\"" })
    }

    static func deleteOptions(_ request: APIRequest) throws(APIError) -> Registry.DeleteOptions {
        var options = Registry.DeleteOptions()
        options.dryRun = request.query["dryRun"] == "All"
        options.propagationPolicy = request.query["propagationPolicy"]
        if let grace = request.query["gracePeriodSeconds"] { options.gracePeriodSeconds = Int64(grace) }
        if !request.body.isEmpty, let body = try? JSONCoding.decode(request.body) {
            options.propagationPolicy = body["propagationPolicy"]?.string ?? options.propagationPolicy
            options.gracePeriodSeconds = body["gracePeriodSeconds"]?.int ?? options.gracePeriodSeconds
            options.preconditionUID = body[path: ["preconditions", "uid"]]?.string
            options.preconditionResourceVersion = body[path: ["preconditions", "resourceVersion"]]?.string
            if body["dryRun"]?.array?.contains("All") == true { options.dryRun = true }
        }
        return options
    }

    /// A list response spliced from its items' encoded bytes, keys in the sorted order every object is written in.
    static func listBytes(_ list: ObjectList, resource: ResourceType) -> [UInt8] {
        var metadata: JSON = ["resourceVersion": .string(list.resourceVersion)]
        if let token = list.continueToken { metadata["continue"] = .string(token) }
        if let remaining = list.remainingItemCount { metadata["remainingItemCount"] = .int(remaining) }
        let items = list.encodedItems
        var bytes: [UInt8] = []
        bytes.reserveCapacity(items.reduce(256) { $0 + $1.count + 1 })
        bytes += Array(#"{"apiVersion":"\#(resource.groupVersion)","items":["#.utf8)
        for (index, item) in items.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += item
        }
        bytes += Array(#"],"kind":"\#(resource.kind)List","metadata":"#.utf8)
        bytes += JSONCoding.encode(metadata)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}

extension ListOptions {
    init(query: [String: String]) throws(APIError) {
        self.init()
        if let text = query["labelSelector"] { labelSelector = try LabelSelector(parsing: text) }
        if let text = query["fieldSelector"] { fieldSelector = try FieldSelector(parsing: text) }
        if let text = query["limit"], let value = Int(text), value > 0 { limit = value }
        continueToken = query["continue"].flatMap { $0.isEmpty ? nil : $0 }
        resourceVersion = query["resourceVersion"]
        resourceVersionMatch = query["resourceVersionMatch"]
        allowWatchBookmarks = query["allowWatchBookmarks"] == "true"
        sendInitialEvents = query["sendInitialEvents"].map { $0 == "true" }
        timeoutSeconds = query["timeoutSeconds"].flatMap(Int.init)
    }
}
