import Foundation
import KubeModel
import Synchronization

/// Where a cluster's audit events go: one `audit.k8s.io/v1` Event per line, as kube-apiserver's log backend
/// writes them.
public protocol AuditBackend: Sendable {
    func record(_ line: [UInt8])
}

/// The audit levels of kube-apiserver's audit policy.
public enum AuditLevel: String, Sendable, Comparable {
    case none = "None", metadata = "Metadata", request = "Request", requestResponse = "RequestResponse"

    private var rank: Int { [.none: 0, .metadata: 1, .request: 2, .requestResponse: 3][self]! }
    public static func < (lhs: AuditLevel, rhs: AuditLevel) -> Bool { lhs.rank < rhs.rank }
}

/// What the request handler learns about a request on its way through (who it really is, what it touches,
/// what the authorizer said), for the request's audit event.
final class AuditRecord: Sendable {
    struct ObjectRef: Sendable {
        let resource: String, group: String, version: String, namespace: String?, name: String?, subresource: String?
    }

    struct State: Sendable {
        var verb: String?
        var objectRef: ObjectRef?
        var decision: AuthorizationDecision?
        var impersonated: UserInfo?
    }

    @TaskLocal static var current: AuditRecord?

    let received = Date()
    let id = UUID().uuidString.lowercased()
    private let state = Mutex(State())

    var snapshot: State { state.withLock { $0 } }

    func authorized(verb: String, objectRef: ObjectRef?, decision: AuthorizationDecision?) {
        state.withLock { state in
            state.verb = verb
            state.objectRef = objectRef
            state.decision = decision
        }
    }

    func impersonating(_ user: UserInfo) {
        state.withLock { $0.impersonated = user }
    }
}

/// The audit policy EKS runs kube-apiserver with (the shape of Kubernetes' reference policy): high-volume
/// system reads and events not at all; Secrets, ConfigMaps, token requests and TokenReviews at Metadata only, so
/// their contents are never written; other reads with their request, writes with request and response; the
/// rest at Metadata.
enum AuditPolicy {
    static let knownGroups: Set = ["", "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "apps",
                                   "authentication.k8s.io", "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io",
                                   "extensions", "metrics.k8s.io", "networking.k8s.io", "node.k8s.io", "policy",
                                   "rbac.authorization.k8s.io", "scheduling.k8s.io", "storage.k8s.io", "coordination.k8s.io",
                                   "discovery.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io", "resource.k8s.io"]

    static func level(user: UserInfo, verb: String, path: String, objectRef: AuditRecord.ObjectRef?) -> AuditLevel {
        guard let ref = objectRef else {
            if path.hasPrefix("/healthz") || path.hasPrefix("/livez") || path.hasPrefix("/readyz") || path == "/version"
                || path.hasPrefix("/swagger") { return .none }
            return .metadata
        }
        let resource = ref.subresource.map { "\(ref.resource)/\($0)" } ?? ref.resource
        let core = ref.group.isEmpty
        if user.name == "system:kube-proxy", verb == "watch", core, ["endpoints", "services", "services/status"].contains(resource) { return .none }
        if user.groups.contains("system:nodes"), ["get"].contains(verb), core, ["nodes", "nodes/status"].contains(resource) { return .none }
        if ["system:kube-controller-manager", "system:kube-scheduler", "system:serviceaccount:kube-system:endpoint-controller"].contains(user.name),
           ["get", "update"].contains(verb), ref.namespace == "kube-system", core, resource == "endpoints" { return .none }
        if user.name == "system:apiserver", verb == "get", core, ["namespaces", "namespaces/status", "namespaces/finalize"].contains(resource) { return .none }
        if core, resource == "events" || ref.group == "events.k8s.io" && ref.resource == "events" { return .none }
        if user.groups.contains("system:nodes"), ["update", "patch"].contains(verb), core, ["nodes/status", "pods/status"].contains(resource) {
            return .request
        }
        if user.name == "system:serviceaccount:kube-system:namespace-controller", verb == "deletecollection" { return .request }
        if core, ["secrets", "configmaps", "serviceaccounts/token"].contains(resource) { return .metadata }
        if ref.group == "authentication.k8s.io", ref.resource == "tokenreviews" { return .metadata }
        guard knownGroups.contains(ref.group) else { return .metadata }
        return ["get", "list", "watch"].contains(verb) ? .request : .requestResponse
    }
}

/// One `audit.k8s.io/v1` Event, written as a line of JSON.
enum AuditEvent {
    static func line(record: AuditRecord, request: APIRequest, user: UserInfo, response: APIResponse, stage: String) -> [UInt8]? {
        let state = record.snapshot
        let verb = state.verb ?? request.method.lowercased()
        let level = AuditPolicy.level(user: state.impersonated ?? user, verb: verb, path: request.path, objectRef: state.objectRef)
        guard level != .none else { return nil }
        var event: JSON = [
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": .string(level.rawValue), "auditID": .string(record.id),
            "stage": .string(stage), "requestURI": .string(requestURI(request)), "verb": .string(verb), "user": userJSON(user),
            "sourceIPs": .array([.string(sourceIP(request.source))]),
            "requestReceivedTimestamp": .string(Timestamps.formatMicro(record.received)),
            "stageTimestamp": .string(Timestamps.formatMicro(Date())),
        ]
        if let agent = request.header("user-agent") { event["userAgent"] = .string(agent) }
        if let impersonated = state.impersonated { event["impersonatedUser"] = userJSON(impersonated) }
        if let ref = state.objectRef {
            var objectRef: JSON = ["resource": .string(ref.resource), "apiVersion": .string(ref.version)]
            if !ref.group.isEmpty { objectRef["apiGroup"] = .string(ref.group) }
            if let namespace = ref.namespace { objectRef["namespace"] = .string(namespace) }
            if let name = ref.name { objectRef["name"] = .string(name) }
            if let subresource = ref.subresource { objectRef["subresource"] = .string(subresource) }
            event["objectRef"] = objectRef
        }
        event["responseStatus"] = responseStatus(response)
        var annotations: [String: JSON] = [:]
        if let decision = state.decision {
            annotations["authorization.k8s.io/decision"] = .string(decision.allowed ? "allow" : "forbid")
            annotations["authorization.k8s.io/reason"] = .string(decision.reason)
        }
        // As kube-apiserver marks a request to a deprecated version: what EKS's upgrade insights read.
        if let ref = state.objectRef, let deprecation = APIDeprecation.of(group: ref.group, version: ref.version, resource: ref.resource) {
            annotations["k8s.io/deprecated"] = "true"
            annotations["k8s.io/removed-release"] = .string(deprecation.removedIn)
        }
        if !annotations.isEmpty { event["annotations"] = .object(annotations) }
        var bytes = JSONCoding.encode(event)
        // The objects go in as they came and went, unparsed: a JSON document inside the event's JSON.
        var objects: [(String, [UInt8])] = []
        if level >= .request, ["create", "update", "patch"].contains(verb), isJSON(request.body) { objects.append(("requestObject", request.body)) }
        if level == .requestResponse, case .bytes(let body) = response.body, isJSON(body) { objects.append(("responseObject", body)) }
        if !objects.isEmpty, bytes.last == UInt8(ascii: "}") {
            bytes.removeLast()
            for (name, object) in objects {
                bytes += Array(",\"\(name)\":".utf8)
                bytes += object
            }
            bytes.append(UInt8(ascii: "}"))
        }
        return bytes
    }

    static func requestURI(_ request: APIRequest) -> String {
        guard !request.query.isEmpty else { return request.path }
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+")
        let query = request.query.sorted { $0.key < $1.key }.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }
        return request.path + "?" + query.joined(separator: "&")
    }

    static func sourceIP(_ source: String?) -> String {
        // In-process components reach the API as the control plane's own host would: over loopback.
        guard let source else { return "127.0.0.1" }
        guard let colon = source.lastIndex(of: ":") else { return source }
        return String(source[..<colon])
    }

    static func userJSON(_ user: UserInfo) -> JSON {
        // Nobody: the request's credentials were refused.
        if user.name.isEmpty { return [:] }
        var json: JSON = ["username": .string(user.name), "groups": .array(user.groups.map(JSON.string))]
        if !user.uid.isEmpty { json["uid"] = .string(user.uid) }
        if !user.extra.isEmpty {
            json["extra"] = .object(user.extra.mapValues { .array($0.map(JSON.string)) })
        }
        return json
    }

    static func responseStatus(_ response: APIResponse) -> JSON {
        var status: JSON = ["metadata": [:], "code": .int(Int64(response.status))]
        if response.status >= 300, case .bytes(let body) = response.body, let decoded = try? JSONCoding.decode(body),
           decoded["kind"]?.string == "Status" {
            for key in ["status", "message", "reason", "details"] { if let value = decoded[key] { status[key] = value } }
        }
        return status
    }

    static func isJSON(_ body: [UInt8]) -> Bool {
        guard let first = body.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return false }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }
}
