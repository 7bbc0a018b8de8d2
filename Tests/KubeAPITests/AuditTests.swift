import Foundation
import KubeModel
import KubeStore
import Testing
@testable import KubeAPI

/// Which requests the audit policy records at which level, and what an event holds.
struct AuditTests {
    static let jane = UserInfo(name: "jane", groups: ["system:authenticated"])
    static let node = UserInfo(name: "system:node:n1", groups: ["system:nodes", "system:authenticated"])

    func ref(_ resource: String, group: String = "", subresource: String? = nil, namespace: String? = "default") -> AuditRecord.ObjectRef {
        AuditRecord.ObjectRef(resource: resource, group: group, version: "v1", namespace: namespace, name: nil, subresource: subresource)
    }

    @Test func secretsAndConfigMapsAreMetadataOnlyAndNoisyReadsAreLeftOut() {
        #expect(AuditPolicy.level(user: Self.jane, verb: "get", path: "/api/v1/namespaces/default/secrets/s", objectRef: ref("secrets")) == .metadata)
        #expect(AuditPolicy.level(user: Self.jane, verb: "create", path: "", objectRef: ref("configmaps")) == .metadata)
        #expect(AuditPolicy.level(user: Self.jane, verb: "create", path: "", objectRef: ref("tokenreviews", group: "authentication.k8s.io",
                                                                                           namespace: nil)) == .metadata)
        #expect(AuditPolicy.level(user: Self.jane, verb: "create", path: "", objectRef: ref("serviceaccounts", subresource: "token")) == .metadata)
        #expect(AuditPolicy.level(user: Self.jane, verb: "list", path: "", objectRef: ref("pods")) == .request)
        #expect(AuditPolicy.level(user: Self.jane, verb: "create", path: "", objectRef: ref("deployments", group: "apps")) == .requestResponse)
        #expect(AuditPolicy.level(user: Self.jane, verb: "create", path: "", objectRef: ref("widgets", group: "example.com")) == .metadata)
        #expect(AuditPolicy.level(user: Self.jane, verb: "create", path: "", objectRef: ref("events")) == .none)
        #expect(AuditPolicy.level(user: Self.node, verb: "get", path: "", objectRef: ref("nodes", namespace: nil)) == .none)
        #expect(AuditPolicy.level(user: Self.node, verb: "patch", path: "", objectRef: ref("pods", subresource: "status")) == .request)
        #expect(AuditPolicy.level(user: Self.jane, verb: "get", path: "/healthz", objectRef: nil) == .none)
        #expect(AuditPolicy.level(user: Self.jane, verb: "get", path: "/api", objectRef: nil) == .metadata)
    }

    @Test func anEventCarriesWhoWhatAndTheDecisionButASecretsBodyNever() throws {
        let record = AuditRecord()
        record.authorized(verb: "create", objectRef: ref("secrets"), decision: AuthorizationDecision(allowed: true, reason: "RBAC: allowed"))
        let body = Array(#"{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}"#.utf8)
        let request = APIRequest(method: "POST", path: "/api/v1/namespaces/default/secrets", query: ["fieldManager": "kubectl-create"],
                                 headers: ["user-agent": "kubectl/v1.34.1"], body: body, user: Self.jane, source: "10.0.0.7:51000")
        let response = APIResponse(status: 201, headers: [], body: .bytes(body))
        let line = try #require(AuditEvent.line(record: record, request: request, user: Self.jane, response: response, stage: "ResponseComplete"))
        let event = try JSONCoding.decode(line)
        #expect(event["level"] == "Metadata" && event["verb"] == "create" && event["stage"] == "ResponseComplete")
        #expect(event["requestURI"] == "/api/v1/namespaces/default/secrets?fieldManager=kubectl-create")
        #expect(event["sourceIPs"] == ["10.0.0.7"] && event["userAgent"] == "kubectl/v1.34.1")
        #expect(event[path: ["user", "username"]] == "jane" && event[path: ["responseStatus", "code"]] == 201)
        #expect(event[path: ["annotations", "authorization.k8s.io/decision"]] == "allow")
        #expect(!String(decoding: line, as: UTF8.self).contains("aHVudGVyMg"))

        let deployment = AuditRecord()
        deployment.authorized(verb: "create", objectRef: ref("deployments", group: "apps"), decision: AuthorizationDecision(allowed: true))
        let created = Array(#"{"kind":"Deployment","metadata":{"name":"web"}}"#.utf8)
        let written = try #require(AuditEvent.line(record: deployment, request: APIRequest(
            method: "POST", path: "/apis/apps/v1/namespaces/default/deployments", query: [:], headers: [:], body: created, user: Self.jane),
            user: Self.jane, response: APIResponse(status: 201, headers: [], body: .bytes(created)), stage: "ResponseComplete"))
        let full = try JSONCoding.decode(written)
        #expect(full["level"] == "RequestResponse" && full[path: ["objectRef", "apiGroup"]] == "apps")
        #expect(full[path: ["requestObject", "metadata", "name"]] == "web" && full[path: ["responseObject", "kind"]] == "Deployment")
        #expect(full["sourceIPs"] == ["127.0.0.1"])
    }

    final class Lines: AuditBackend, @unchecked Sendable {
        let lock = NSLock()
        var lines: [JSON] = []
        func record(_ line: [UInt8]) {
            lock.lock()
            defer { lock.unlock() }
            if let event = try? JSONCoding.decode(line) { lines.append(event) }
        }
        var stages: [String] { lock.lock(); defer { lock.unlock() }; return lines.compactMap { $0["stage"]?.string } }
    }

    @Test func aWatchIsAuditedWhenItStartsAndWhenItEnds() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-audit-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let registry = Registry(store: try SQLiteKubeStore(path: directory.appendingPathComponent("c.sqlite").path))
        try await ClusterBootstrap.run(registry)
        let lines = Lines()
        let server = APIServer(registry: registry, version: VersionInfo(patchVersion: "1.34.1"), audit: lines)
        let admin = UserInfo(name: "admin", groups: ["system:masters"])
        let response = await server.handle(APIRequest(method: "GET", path: "/api/v1/namespaces/default/pods",
                                                      query: ["watch": "true", "timeoutSeconds": "1"], headers: [:], body: [], user: admin))
        #expect(lines.stages == ["ResponseStarted"])
        guard case .stream(let chunks) = response.body else {
            Issue.record("a watch streams")
            return
        }
        for try await _ in chunks {}
        #expect(lines.stages == ["ResponseStarted", "ResponseComplete"])
        #expect(lines.lines.last?["verb"] == "watch")
        registry.shutdown()
    }
}

struct MeasuredStoreTests {
    @Test func storeTimingsNameTheResourceAsKubeApiserverDoes() {
        #expect(MeasuredKubeStore.type(of: "/registry/core/pods/default/web") == "pods")
        #expect(MeasuredKubeStore.type(of: "/registry/apps/deployments/default/web") == "deployments.apps")
        #expect(MeasuredKubeStore.type(of: "/registry/core/namespaces/") == "namespaces")
        #expect(MeasuredKubeStore.type(of: "/elsewhere") == "")
    }
}
