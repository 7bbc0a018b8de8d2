import Foundation
import KubeAPI
import KubeModel

/// The Kubernetes API as a cluster's own components reach it: every call goes through the API server's
/// request path (authorization, admission, validation) as the component's own user, exactly as an
/// HTTPS request would, without a socket. Errors are the `APIError`s a remote client would decode.
public struct KubeClient: Sendable {
    public let server: APIServer
    public let user: UserInfo
    /// Sent as `User-Agent`: what managedFields record this client's writes under.
    public let userAgent: String

    public init(server: APIServer, user: UserInfo, userAgent: String) {
        self.server = server
        self.user = user
        self.userAgent = userAgent
    }

    /// The same server as another user (each controller acts as its own service account).
    public func `as`(_ user: UserInfo) -> KubeClient {
        KubeClient(server: server, user: user, userAgent: userAgent)
    }

    /// A served resource by group, version and plural.
    public func resource(_ plural: String, group: String = "", version: String = "v1") throws -> ResourceType {
        guard let resource = server.registry.resources.find(group: group, version: version, resource: plural) else {
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
        }
        return resource
    }

    /// Every stored resource the server serves (for the garbage collector and the namespace controller).
    public var storedResources: [ResourceType] { server.registry.resources.all.filter(\.isStored) }

    // MARK: Verbs

    public func get(_ resource: ResourceType, _ key: ObjectKey) async throws -> JSON {
        try await send("GET", path(resource, key.namespace, key.name))
    }

    public func list(_ resource: ResourceType, namespace: String? = nil, labelSelector: String? = nil,
                     fieldSelector: String? = nil) async throws -> [JSON] {
        var query: [String: String] = [:]
        if let labelSelector { query["labelSelector"] = labelSelector }
        if let fieldSelector { query["fieldSelector"] = fieldSelector }
        return try await send("GET", path(resource, namespace, nil), query: query)["items"]?.array ?? []
    }

    public func create(_ resource: ResourceType, _ object: JSON) async throws -> JSON {
        try await send("POST", path(resource, object.namespace, nil), body: object)
    }

    /// Replaces the object; its `resourceVersion` makes this a compare-and-swap.
    public func update(_ resource: ResourceType, _ object: JSON) async throws -> JSON {
        try await send("PUT", path(resource, object.namespace, object.name), body: object)
    }

    public func updateStatus(_ resource: ResourceType, _ object: JSON) async throws -> JSON {
        try await send("PUT", path(resource, object.namespace, object.name, "status"), body: object)
    }

    public func patch(_ resource: ResourceType, _ key: ObjectKey, _ patch: JSON, type: Registry.PatchType = .merge,
                      subresource: String? = nil) async throws -> JSON {
        try await send("PATCH", path(resource, key.namespace, key.name, subresource), body: patch, contentType: type.rawValue)
    }

    /// Server-side apply of `configuration` as `manager`; a dry run checks it (conflicts included) and stores nothing.
    public func apply(_ resource: ResourceType, _ configuration: JSON, manager: String, force: Bool = true,
                      dryRun: Bool = false) async throws -> JSON {
        var query = ["fieldManager": manager, "force": String(force)]
        if dryRun { query["dryRun"] = "All" }
        return try await send("PATCH", path(resource, configuration.namespace, configuration.name), query: query,
                              body: configuration, contentType: "application/apply-patch+yaml")
    }

    @discardableResult
    public func delete(_ resource: ResourceType, _ key: ObjectKey, propagationPolicy: String? = nil, preconditionUID: String? = nil,
                       gracePeriodSeconds: Int64? = nil) async throws -> JSON {
        var options: JSON = ["kind": "DeleteOptions", "apiVersion": "v1"]
        if let propagationPolicy { options["propagationPolicy"] = .string(propagationPolicy) }
        if let preconditionUID { options["preconditions"] = ["uid": .string(preconditionUID)] }
        if let gracePeriodSeconds { options["gracePeriodSeconds"] = .int(gracePeriodSeconds) }
        return try await send("DELETE", path(resource, key.namespace, key.name), body: options)
    }

    /// Deletes every object of a resource in a namespace (`DELETE …/namespaces/NS/configmaps`).
    public func deleteCollection(_ resource: ResourceType, namespace: String?) async throws {
        _ = try await send("DELETE", path(resource, namespace, nil))
    }

    /// A subresource written with POST or PUT (`pods/binding`, `pods/eviction`, `namespaces/finalize`).
    @discardableResult
    public func write(_ resource: ResourceType, _ key: ObjectKey, subresource: String, method: String = "POST", body: JSON) async throws -> JSON {
        try await send(method, path(resource, key.namespace, key.name, subresource), body: body)
    }

    /// The API server's cached objects of a resource, for an informer (list and watch are authorized).
    public func cached(_ resource: ResourceType) async throws -> CachedResource {
        try await server.cachedResource(resource, for: user)
    }

    // MARK: Requests

    func path(_ resource: ResourceType, _ namespace: String?, _ name: String?, _ subresource: String? = nil) -> String {
        var path = resource.group.isEmpty ? "/api/\(resource.version)" : "/apis/\(resource.group)/\(resource.version)"
        if resource.namespaced, let namespace { path += "/namespaces/\(namespace)" }
        path += "/\(resource.resource)"
        if let name { path += "/\(name)" }
        if let subresource { path += "/\(subresource)" }
        return path
    }

    func send(_ method: String, _ path: String, query: [String: String] = [:], body: JSON? = nil,
              contentType: String = "application/json") async throws -> JSON {
        var headers = ["user-agent": userAgent, "accept": "application/json"]
        if body != nil { headers["content-type"] = contentType }
        let request = APIRequest(method: method, path: path, query: query, headers: headers, body: body.map(JSONCoding.encode) ?? [],
                                 user: user)
        let response = await server.handle(request)
        guard case .bytes(let bytes) = response.body else {
            throw APIError.internalError("unexpected streamed response to \(method) \(path)")
        }
        let decoded = bytes.isEmpty ? JSON.object([:]) : try JSONCoding.decode(bytes)
        guard response.status < 400 else {
            throw APIError(code: response.status, reason: decoded["reason"]?.string ?? "", message: decoded["message"]?.string ?? "",
                           details: decoded["details"])
        }
        return decoded
    }
}

extension APIError {
    public var isNotFound: Bool { code == 404 }
    public var isConflict: Bool { code == 409 }
    public var isAlreadyExists: Bool { reason == "AlreadyExists" }
}
