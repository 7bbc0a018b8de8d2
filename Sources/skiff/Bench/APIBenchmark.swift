import Foundation
import KubeAPI
import KubeStore
import KubeModel

/// `skiff bench api`: the Kubernetes API of one cluster, in process, layer by
/// layer (the store alone, then the API server's request handling), with
/// durable (fsynced) writes throughout.
struct APIBenchmark {
    let directory: URL
    let operationsPerRun: Int
    let listSizes: [Int]
    let watchers: Int
    let churnUpdates: Int

    /// - Parameter bound: bound to a node (that need not exist) as a scheduled pod is; against a whole control
    ///   plane, unbound and for a scheduler that is not there, so neither the scheduler nor the pod garbage
    ///   collector (which deletes pods of missing nodes) acts on the benchmark's pods.
    static func pod(_ index: Int, namespace: String = "bench", bound: Bool = true) -> JSON {
        var pod = boundPod(index, namespace: namespace)
        if !bound {
            pod[path: ["spec", "nodeName"]] = nil
            pod[path: ["spec", "schedulerName"]] = "skiff-bench-unscheduled"
        }
        return pod
    }

    private static func boundPod(_ index: Int, namespace: String) -> JSON {
        ["apiVersion": "v1", "kind": "Pod",
         "metadata": ["name": .string("pod-\(index)"), "namespace": .string(namespace),
                      "labels": ["app": .string("app-\(index % 50)"), "tier": "web"]],
         "spec": ["containers": [["name": "main", "image": "public.ecr.aws/nginx/nginx:1.27",
                                  "ports": [["containerPort": 80]],
                                  "resources": ["requests": ["cpu": "100m", "memory": "128Mi"], "limits": ["memory": "256Mi"]],
                                  "env": [["name": "MODE", "value": "production"], ["name": "INDEX", "value": .string(String(index))]]]],
                  "nodeName": .string("ip-10-0-\(index % 250)-\(index % 200).ec2.internal")]]
    }

    func run(layers: Set<String>) async throws {
        if layers.contains("store") { try await storeAlone() }
        if layers.contains("api") { try await apiLayer() }
        for http2 in [true, false] where layers.contains("https") {
            try await HTTPSBenchmark(directory: directory, operationsPerRun: operationsPerRun, http2: http2).run()
        }
        if layers.contains("churn") { try await churn() }
        if layers.contains("auth") { try await AuthBenchmark(directory: directory, operationsPerRun: operationsPerRun).run() }
        if layers.contains("audit") { try await AuditBenchmark(directory: directory, operationsPerRun: operationsPerRun).run() }
        if layers.contains("secrets") { try await SecretsBenchmark(directory: directory, operationsPerRun: operationsPerRun).run() }
    }

    /// Many updates to few objects: the data dir must stay proportional to the live objects once
    /// compaction has dropped the history (as the store compactor does after its retention).
    func churn(objects: Int = 1000) async throws {
        let path = directory.appendingPathComponent("churn-\(UUID().uuidString).sqlite").path
        let store = try SQLiteKubeStore(path: path)
        let value = JSONCoding.encode(Self.pod(0))
        for index in 0..<objects { _ = try await store.create("/registry/core/pods/bench/churn-\(index)", value: value) }
        let rounds = max(1, churnUpdates / objects)
        let start = ContinuousClock.now
        for round in 0..<rounds {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<32 {
                    group.addTask {
                        for index in stride(from: client, to: objects, by: 32) {
                            _ = try await store.update("/registry/core/pods/bench/churn-\(index)", value: value, expectedRevision: nil)
                        }
                    }
                }
                try await group.waitForAll()
            }
            // The compactor's work, done as often as a busy cluster would see it.
            if round % 100 == 99 { try await store.compact(through: try await store.currentRevision()) }
        }
        let elapsed = ContinuousClock.now - start
        try await store.compact(through: try await store.currentRevision())
        let files = [path, path + "-wal", path + "-shm"]
        let onDisk = files.compactMap { try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int }.reduce(0, +)
        let live = objects * value.count
        print(BenchOutput.json([("scenario", "churn"), ("layer", "store"), ("objects", objects), ("updates", rounds * objects),
                                ("updates_per_sec", (Double(rounds * objects) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)).rounded()),
                                ("live_bytes", live), ("data_bytes", onDisk),
                                ("data_to_live", (Double(onDisk) / Double(live) * 10).rounded() / 10)]))
    }

    func freshStore(_ name: String) throws -> SQLiteKubeStore {
        let path = directory.appendingPathComponent("\(name)-\(UUID().uuidString).sqlite").path
        return try SQLiteKubeStore(path: path)
    }

    /// The store alone: what every layer above adds to.
    func storeAlone() async throws {
        let value = JSONCoding.encode(Self.pod(0))
        for clients in [1, 8, 32] {
            let store = try freshStore("store")
            let perClient = max(1, operationsPerRun / clients)
            let creates = try await measure("create", layer: "store", clients: clients, perClient: perClient) { client, index in
                _ = try await store.create("/registry/core/pods/bench/c\(client)-\(index)", value: value)
            }
            print(creates.line)
            let updates = try await measure("update", layer: "store", clients: clients, perClient: perClient) { client, index in
                _ = try await store.update("/registry/core/pods/bench/c\(client)-\(index)", value: value, expectedRevision: nil)
            }
            print(updates.line)
            let gets = try await measure("get", layer: "store", clients: clients, perClient: perClient) { client, index in
                _ = try await store.get("/registry/core/pods/bench/c\(client)-\(index)")
            }
            print(gets.line)
        }
    }

    func apiServer() async throws -> APIServer {
        let registry = Registry(store: try freshStore("api"), serviceNetwork: ServiceNetwork(cidr: "10.100.0.0/16"))
        try await ClusterBootstrap.run(registry)
        let server = APIServer(registry: registry, version: VersionInfo(patchVersion: "1.34.1"))
        try await Self.createBenchNamespace(server)
        return server
    }

    /// The `bench` namespace and the `default` service account its pods run as (no controller makes it here).
    static func createBenchNamespace(_ server: APIServer) async throws {
        for (path, body) in [("/api/v1/namespaces", ["metadata": ["name": "bench"]] as JSON),
                             ("/api/v1/namespaces/bench/serviceaccounts", ["metadata": ["name": "default"]])] {
            let response = await server.handle(APIRequest(method: "POST", path: path, query: [:], headers: ["content-type": "application/json"],
                                                          body: JSONCoding.encode(body), user: admin))
            guard response.status == 201 else { throw BenchFailure(status: response.status) }
        }
    }

    static let admin = UserInfo(name: "bench", groups: ["system:masters"])

    func request(_ method: String, _ path: String, query: [String: String] = [:], body: JSON? = nil,
                 contentType: String = "application/json") -> APIRequest {
        APIRequest(method: method, path: path, query: query, headers: ["content-type": contentType],
                   body: body.map(JSONCoding.encode) ?? [], user: Self.admin)
    }

    /// The API server's request handling: decoding, defaulting, validation, storage, encoding.
    func apiLayer() async throws {
        for clients in [1, 8, 32] {
            let server = try await apiServer()
            defer { server.registry.shutdown() }
            let perClient = max(1, operationsPerRun / clients)
            let creates = try await measure("create", layer: "api", clients: clients, perClient: perClient) { client, index in
                let response = await server.handle(request("POST", "/api/v1/namespaces/bench/pods", body: Self.pod(client * perClient + index)))
                guard response.status == 201 else { throw BenchFailure(status: response.status) }
            }
            print(creates.line)
            let updates = try await measure("update", layer: "api", clients: clients, perClient: perClient) { client, index in
                let response = await server.handle(request("PATCH", "/api/v1/namespaces/bench/pods/pod-\(client * perClient + index)",
                                                           body: ["metadata": ["labels": ["round": "2"]]],
                                                           contentType: "application/merge-patch+json"))
                guard response.status == 200 else { throw BenchFailure(status: response.status) }
            }
            print(updates.line)
            let gets = try await measure("get", layer: "api", clients: clients, perClient: perClient) { client, index in
                let response = await server.handle(request("GET", "/api/v1/namespaces/bench/pods/pod-\(client * perClient + index)"))
                guard response.status == 200 else { throw BenchFailure(status: response.status) }
            }
            print(gets.line)
        }
        try await lists()
        try await watches()
    }

    /// List latency and memory as the number of pods grows.
    func lists() async throws {
        let server = try await apiServer()
        defer { server.registry.shutdown() }
        var created = 0
        let before = BenchOutput.residentBytes()
        for size in listSizes {
            let (offset, perClient) = (created, (size - created) / 32)
            _ = try await measure("populate", layer: "api", clients: 32, perClient: perClient) { client, index in
                let response = await server.handle(request("POST", "/api/v1/namespaces/bench/pods",
                                                           body: Self.pod(offset + client * perClient + index)))
                guard response.status == 201 else { throw BenchFailure(status: response.status) }
            }
            created = size
            for (name, query) in [("list", [String: String]()), ("list-selector", ["labelSelector": "app=app-7"])] {
                let listing = try await measure(name, layer: "api", clients: 1, perClient: 5) { _, _ in
                    let response = await server.handle(request("GET", "/api/v1/namespaces/bench/pods", query: query))
                    guard response.status == 200 else { throw BenchFailure(status: response.status) }
                }
                print(BenchOutput.json([("scenario", name), ("layer", "api"), ("pods", size),
                                        ("p50_ms", (listing.percentile(0.5) * 1e5).rounded() / 100),
                                        ("max_ms", (listing.percentile(1) * 1e5).rounded() / 100)]))
            }
            let resident = BenchOutput.residentBytes()
            print(BenchOutput.json([("scenario", "memory"), ("pods", size), ("resident_mib", resident / 1_048_576),
                                    ("mib_per_10k_pods", Double((resident - before) / 1_048_576) * 10_000 / Double(size))]))
        }
    }

    /// Events per second delivered to many watchers of one resource.
    func watches() async throws {
        let server = try await apiServer()
        defer { server.registry.shutdown() }
        // A multiple of the 8 writers, so every watcher gets exactly this many.
        let events = max(104, operationsPerRun / 10) / 8 * 8
        // As informers do: list, then watch from the list's revision.
        let list = await server.handle(request("GET", "/api/v1/namespaces/bench/pods"))
        guard case .bytes(let listBytes) = list.body, let revision = try JSONCoding.decode(listBytes)[path: ["metadata", "resourceVersion"]]?.string else {
            throw BenchFailure(status: list.status)
        }
        let start = ContinuousClock.now
        let delivered = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<watchers {
                let response = await server.handle(request("GET", "/api/v1/namespaces/bench/pods", query: ["watch": "true", "resourceVersion": revision]))
                guard case .stream(let chunks) = response.body else { throw BenchFailure(status: response.status) }
                group.addTask {
                    var count = 0
                    for try await chunk in chunks {
                        count += chunk.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
                        if count >= events { break }
                    }
                    return count
                }
            }
            group.addTask {
                _ = try await measure("watch-writes", layer: "api", clients: 8, perClient: events / 8) { client, index in
                    _ = await server.handle(request("POST", "/api/v1/namespaces/bench/pods", body: Self.pod(client * (events / 8) + index)))
                }
                return 0
            }
            return try await group.reduce(0, +)
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(BenchOutput.json([("scenario", "watch"), ("layer", "api"), ("watchers", watchers), ("events_delivered", delivered),
                                ("events_per_sec", (Double(delivered) / seconds).rounded())]))
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let status: Int
    var description: String { "a benchmark request failed with HTTP \(status)" }
}
