import Foundation
import KubeAPI
import KubeModel
import KubeStore

/// A registry on a real store and the API server over it, bootstrapped as a cluster is.
struct ClusterFixture {
    let registry: Registry
    let server: APIServer

    init() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubeclient-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        registry = Registry(store: try SQLiteKubeStore(path: directory.appendingPathComponent("c.sqlite").path),
                            serviceNetwork: ServiceNetwork(cidr: "10.100.0.0/16"))
        try await ClusterBootstrap.run(registry)
        server = APIServer(registry: registry, version: VersionInfo(patchVersion: "1.34.1"))
    }

    static let admin = UserInfo(name: "admin", groups: ["system:masters", "system:authenticated"])

    static func configMap(_ name: String, namespace: String = "default", owners: [OwnerReference] = []) -> JSON {
        var object: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": .string(namespace)],
                            "data": ["a": "1"]]
        object.ownerReferences = owners
        return object
    }
}

/// Waits for a condition that a background component makes true.
func eventually(_ condition: () async throws -> Bool, within limit: Duration = .seconds(10)) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
