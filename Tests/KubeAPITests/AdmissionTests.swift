import Foundation
import KubeModel
import KubeStore
import Testing
@testable import KubeAPI

/// Admission plugins that shape every new pod.
struct AdmissionTests {
    let registry: Registry
    let pods: ResourceType

    init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-admission-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        registry = Registry(store: try SQLiteKubeStore(path: directory.appendingPathComponent("c.sqlite").path))
        pods = try #require(ResourceTable.builtIn.find(group: "", version: "v1", resource: "pods"))
    }

    func pod(tolerations: [JSON]) -> JSON {
        ["metadata": ["name": "p", "namespace": "default"], "spec": ["containers": [["name": "c", "image": "x"]], "tolerations": .array(tolerations)]]
    }

    @Test func podsTolerateAnUnreachableOrNotReadyNodeForFiveMinutesUnlessTheySayOtherwise() async throws {
        var plain = pod(tolerations: [])
        try await DefaultTolerationSeconds().admit(&plain, resource: pods, namespace: "default", registry: registry)
        #expect(plain[path: ["spec", "tolerations"]] == [
            ["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300],
            ["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300],
        ])
        let own: JSON = ["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30]
        var patient = pod(tolerations: [own])
        try await DefaultTolerationSeconds().admit(&patient, resource: pods, namespace: "default", registry: registry)
        #expect(patient[path: ["spec", "tolerations"]]?.array?.count == 2)
        #expect(patient[path: ["spec", "tolerations"]]?.array?.first == own)
        var everything = pod(tolerations: [["operator": "Exists"]])
        try await DefaultTolerationSeconds().admit(&everything, resource: pods, namespace: "default", registry: registry)
        #expect(everything[path: ["spec", "tolerations"]] == [["operator": "Exists"]])
        registry.shutdown()
    }

    @Test func aPodOfAMissingServiceAccountIsRefusedAndOneJustCreatedIsFound() async throws {
        let accounts = try #require(ResourceTable.builtIn.find(group: "", version: "v1", resource: "serviceaccounts"))
        var pod: JSON = ["metadata": ["name": "p", "namespace": "default"],
                         "spec": ["serviceAccountName": "builder", "containers": [["name": "c", "image": "x"]]]]
        let refused = await #expect(throws: APIError.self) {
            var attempt = pod
            try await ServiceAccountAdmission().admit(&attempt, resource: pods, namespace: "default", registry: registry)
        }
        #expect(refused?.code == 403)
        #expect(refused?.message == "pods \"p\" is forbidden: error looking up service account default/builder: serviceaccount \"builder\" not found")
        let namespaces = try #require(ResourceTable.builtIn.find(group: "", version: "v1", resource: "namespaces"))
        _ = try await registry.create(namespaces, namespace: nil, body: ["metadata": ["name": "default"]])
        _ = try await registry.create(accounts, namespace: "default", body: ["metadata": ["name": "builder"]])
        try await ServiceAccountAdmission().admit(&pod, resource: pods, namespace: "default", registry: registry)
        #expect(pod[path: ["spec", "volumes"]]?.array?.first?["name"]?.string?.hasPrefix("kube-api-access-") == true)
        registry.shutdown()
    }
}
