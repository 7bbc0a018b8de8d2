import ClusterRuntime
import Foundation
import KubeAPI
import KubeModel
import KubeStore

/// The audit log's and the request metrics' costs per request: the same creates and gets through the API server
/// without either, with its audit backend (a `ControlPlaneLog`, as every cluster has), and with its metrics.
struct AuditBenchmark {
    let directory: URL
    let operationsPerRun: Int

    func run() async throws {
        for clients in [1, 32] {
            var cpu: [String: (create: Double, get: Double)] = [:]
            for layer in ["api", "api+audit", "api+metrics"] {
                let audited = layer == "api+audit"
                let registry = Registry(store: try SQLiteKubeStore(path: directory.appendingPathComponent("audit-\(UUID()).sqlite").path),
                                        serviceNetwork: ServiceNetwork(cidr: "10.100.0.0/16"))
                try await ClusterBootstrap.run(registry)
                let log = try ControlPlaneLog(directory: directory.appendingPathComponent("audit-logs-\(UUID())"), name: "kube-apiserver-audit",
                                              maxBytes: 100 << 20, maxBackups: 1)
                let server = APIServer(registry: registry, version: VersionInfo(patchVersion: "1.34.1"), audit: audited ? log : nil,
                                       metrics: layer == "api+metrics" ? ControlPlaneMetrics.make() : nil)
                defer {
                    registry.shutdown()
                    log.close()
                }
                try await APIBenchmark.createBenchNamespace(server)
                let perClient = max(1, operationsPerRun / clients)
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
                cpu[layer] = (creates.cpuSeconds / Double(creates.operations), gets.cpuSeconds / Double(gets.operations))
            }
            guard let plain = cpu["api"] else { continue }
            for (scenario, layer) in [("audit_cost", "api+audit"), ("metrics_cost", "api+metrics")] {
                guard let added = cpu[layer] else { continue }
                print(BenchOutput.json([("scenario", scenario), ("clients", clients),
                                        ("create_cpu_us_added", ((added.create - plain.create) * 1e6).rounded()),
                                        ("get_cpu_us_added", ((added.get - plain.get) * 1e6).rounded())]))
            }
        }
    }
}
