import ClusterRuntime
import Foundation
import KubeAPI
import KubeModel
import KubeStore

/// The audit log's cost per request: the same creates and gets through the API server with and without its
/// audit backend (a `ControlPlaneLog`, as every cluster has).
struct AuditBenchmark {
    let directory: URL
    let operationsPerRun: Int

    func run() async throws {
        for clients in [1, 32] {
            var cpu: [Bool: (create: Double, get: Double)] = [:]
            for audited in [false, true] {
                let registry = Registry(store: try SQLiteKubeStore(path: directory.appendingPathComponent("audit-\(UUID()).sqlite").path),
                                        serviceNetwork: ServiceNetwork(cidr: "10.100.0.0/16"))
                try await ClusterBootstrap.run(registry)
                let log = try ControlPlaneLog(directory: directory.appendingPathComponent("audit-logs-\(UUID())"), name: "kube-apiserver-audit",
                                              maxBytes: 100 << 20, maxBackups: 1)
                let server = APIServer(registry: registry, version: VersionInfo(patchVersion: "1.34.1"), audit: audited ? log : nil)
                defer {
                    registry.shutdown()
                    log.close()
                }
                try await APIBenchmark.createBenchNamespace(server)
                let perClient = max(1, operationsPerRun / clients)
                let layer = audited ? "api+audit" : "api"
                let creates = try await measure("create", layer: layer, clients: clients, perClient: perClient) { client, index in
                    let response = await server.handle(APIRequest(method: "POST", path: "/api/v1/namespaces/bench/pods", query: [:],
                                                                  headers: ["content-type": "application/json", "user-agent": "kubectl/v1.34.1"],
                                                                  body: JSONCoding.encode(APIBenchmark.pod(client * perClient + index)),
                                                                  user: APIBenchmark.admin, source: "127.0.0.1:50000"))
                    guard response.status == 201 else { throw BenchFailure(status: response.status) }
                }
                print(creates.line)
                let gets = try await measure("get", layer: layer, clients: clients, perClient: perClient) { client, index in
                    let response = await server.handle(APIRequest(method: "GET", path: "/api/v1/namespaces/bench/pods/pod-\(client * perClient + index)",
                                                                  query: [:], headers: ["user-agent": "kubectl/v1.34.1"], body: [],
                                                                  user: APIBenchmark.admin, source: "127.0.0.1:50000"))
                    guard response.status == 200 else { throw BenchFailure(status: response.status) }
                }
                print(gets.line)
                cpu[audited] = (creates.cpuSeconds / Double(creates.operations), gets.cpuSeconds / Double(gets.operations))
            }
            if let plain = cpu[false], let audited = cpu[true] {
                print(BenchOutput.json([("scenario", "audit_cost"), ("clients", clients),
                                        ("create_cpu_us_added", ((audited.create - plain.create) * 1e6).rounded()),
                                        ("get_cpu_us_added", ((audited.get - plain.get) * 1e6).rounded())]))
            }
        }
    }
}
