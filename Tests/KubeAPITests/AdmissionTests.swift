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
}
