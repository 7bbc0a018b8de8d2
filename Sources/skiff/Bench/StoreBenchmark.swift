import EtcdStore
import Foundation
import KubeAPI
import KubeModel
import KubeStore

/// `skiff bench store`: the store on each backend side by side in one run — SQLite, etcd with one member and
/// with three — with raw etcd Puts from the same load generator (same keys and values) as the baseline,
/// then the Kubernetes API's creates, updates, gets and a large list on each backend, and on SQLite the same
/// API over HTTPS (`https-h2`), the yardstick against raw etcd.
struct StoreBenchmark {
    let directory: URL
    let operationsPerRun: Int
    let clientCounts: [Int]
    let listSize: Int
    let backends: [String]
    /// Whether the SQLite backend's run also drives a control plane over HTTPS.
    var https = true

    func run() async throws {
        let value = JSONCoding.encode(APIBenchmark.pod(0))
        for backend in backends {
            let (open, stop) = try await opener(backend)
            defer { stop() }
            if let raw = try await rawClient(backend, open: open) {
                for clients in clientCounts {
                    let perClient = max(1, operationsPerRun / clients)
                    let run = UUID().uuidString
                    let puts = try await measure("put", layer: "raw-\(backend)", clients: clients, perClient: perClient) { client, index in
                        _ = try await raw.put(Array("/bench-raw/\(run)/registry/core/pods/bench/c\(client)-\(index)".utf8), value: value)
                    }
                    print(puts.line)
                }
            }
            for clients in clientCounts {
                let store = try await open()
                let perClient = max(1, operationsPerRun / clients)
                let layer = "store-\(backend)"
                print(try await measure("create", layer: layer, clients: clients, perClient: perClient) { client, index in
                    _ = try await store.create("/registry/core/pods/bench/c\(client)-\(index)", value: value)
                }.line)
                print(try await measure("update", layer: layer, clients: clients, perClient: perClient) { client, index in
                    _ = try await store.update("/registry/core/pods/bench/c\(client)-\(index)", value: value, expectedRevision: nil)
                }.line)
                print(try await measure("get", layer: layer, clients: clients, perClient: perClient) { client, index in
                    _ = try await store.get("/registry/core/pods/bench/c\(client)-\(index)")
                }.line)
            }
            try await api(backend, store: try await open())
            // The target: Kubernetes creates over HTTPS (HTTP/2, a control plane in a process of its own) on SQLite
            // against raw etcd's puts above, in the same run.
            if backend == "sqlite" && https {
                try await HTTPSBenchmark(directory: directory, operationsPerRun: operationsPerRun, http2: true).run()
            }
        }
    }

    /// The Kubernetes API on a backend (in process, without HTTPS): creates, updates and gets at the largest
    /// client count, then a full list of `listSize` pods, straight from the store and from the watch cache.
    func api(_ backend: String, store: any KubeStore) async throws {
        let registry = Registry(store: store, serviceNetwork: ServiceNetwork(cidr: "10.100.0.0/16"))
        try await ClusterBootstrap.run(registry)
        let server = APIServer(registry: registry, version: VersionInfo(patchVersion: "1.34.1"))
        defer { registry.shutdown() }
        try await APIBenchmark.createBenchNamespace(server)
        let layer = "api-\(backend)"
        let clients = clientCounts.max() ?? 32
        let perClient = max(1, listSize / clients)
        @Sendable func request(_ method: String, _ path: String, query: [String: String] = [:], body: JSON? = nil,
                     contentType: String = "application/json") -> APIRequest {
            APIRequest(method: method, path: path, query: query, headers: ["content-type": contentType],
                       body: body.map(JSONCoding.encode) ?? [], user: APIBenchmark.admin)
        }
        print(try await measure("create", layer: layer, clients: clients, perClient: perClient) { client, index in
            let response = await server.handle(request("POST", "/api/v1/namespaces/bench/pods", body: APIBenchmark.pod(client * perClient + index)))
            guard response.status == 201 else { throw BenchFailure(status: response.status) }
        }.line)
        print(try await measure("update", layer: layer, clients: clients, perClient: perClient) { client, index in
            let response = await server.handle(request("PATCH", "/api/v1/namespaces/bench/pods/pod-\(client * perClient + index)",
                                                       body: ["metadata": ["labels": ["round": "2"]]], contentType: "application/merge-patch+json"))
            guard response.status == 200 else { throw BenchFailure(status: response.status) }
        }.line)
        print(try await measure("get", layer: layer, clients: clients, perClient: perClient) { client, index in
            let response = await server.handle(request("GET", "/api/v1/namespaces/bench/pods/pod-\(client * perClient + index)"))
            guard response.status == 200 else { throw BenchFailure(status: response.status) }
        }.line)
        let pods = clients * perClient
        for (name, query) in [("list", [String: String]()), ("list-from-cache", ["resourceVersion": "0"])] {
            let listing = try await measure(name, layer: layer, clients: 1, perClient: 5) { _, _ in
                let response = await server.handle(request("GET", "/api/v1/namespaces/bench/pods", query: query))
                guard response.status == 200 else { throw BenchFailure(status: response.status) }
            }
            print(BenchOutput.json([("scenario", name), ("layer", layer), ("pods", pods),
                                    ("p50_ms", (listing.percentile(0.5) * 1e5).rounded() / 100),
                                    ("max_ms", (listing.percentile(1) * 1e5).rounded() / 100)]))
        }
    }

    /// How to make a fresh store of a backend, and how to stop what it started.
    func opener(_ backend: String) async throws -> (() async throws -> any KubeStore, () -> Void) {
        switch backend {
        case "sqlite":
            return ({ try SQLiteKubeStore(path: directory.appendingPathComponent("store-\(UUID().uuidString).sqlite").path) }, {})
        case "etcd", "etcd3":
            let cluster = try await LocalEtcdCluster(size: backend == "etcd" ? 1 : 3)
            let client = try EtcdClient(endpoints: cluster.endpoints)
            return ({ EtcdKubeStore(client: client, prefix: "/bench/\(UUID().uuidString)", compactionKey: "/bench/compact_rev_key") },
                    { client.close(); cluster.stop() })
        default:
            throw CommandFailure("unknown backend \(backend): sqlite, etcd or etcd3")
        }
    }

    func rawClient(_ backend: String, open: () async throws -> any KubeStore) async throws -> EtcdClient? {
        (try await open() as? EtcdKubeStore)?.client
    }
}
