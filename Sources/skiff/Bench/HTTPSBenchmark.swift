import AsyncHTTPClient
import ClusterRuntime
import EKS
import Foundation
import KubeAPI
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import PKI
import SkiffServer
import KubeModel

/// The same operations as `APIBenchmark`, through a real cluster control plane in a process of its own:
/// HTTPS with a client certificate, over HTTP/2 (one connection, a stream per request, as client-go does)
/// or HTTP/1.1 (a keep-alive connection per concurrent client). `cpu_us_per_op` is the load generator's
/// CPU time, `server_cpu_us_per_op` the server's.
struct HTTPSBenchmark {
    let directory: URL
    let operationsPerRun: Int
    let http2: Bool

    var layer: String { http2 ? "https-h2" : "https-h1" }

    func run() async throws {
        let workDirectory = directory.appendingPathComponent(layer)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        let server = try ControlPlaneProcess.start(directory: workDirectory)
        defer { server.stop() }
        let access = server.access
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(access.certificateAuthorityPEM.utf8)))
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(access.clientCertificatePEM.utf8)).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(access.clientKeyPEM.utf8), format: .pem))
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 32)
        configuration.httpVersion = http2 ? .automatic : .http1Only
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let base = access.endpoint

        /// `measure`, with the server's CPU time over the same run.
        func measured(_ scenario: String, clients: Int, perClient: Int,
                      _ operation: @escaping @Sendable (_ client: Int, _ index: Int) async throws -> Void) async throws -> Measurement {
            let before = server.cpuSeconds
            var result = try await measure(scenario, layer: layer, clients: clients, perClient: perClient, operation)
            result.serverCPUSeconds = server.cpuSeconds - before
            return result
        }

        @Sendable func send(_ method: HTTPMethod, _ path: String, body: JSON? = nil, contentType: String = "application/json") async throws -> Int {
            var request = HTTPClientRequest(url: base + path)
            request.method = method
            request.headers.add(name: "Content-Type", value: contentType)
            if let body { request.body = .bytes(ByteBuffer(bytes: JSONCoding.encode(body))) }
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 30)
            return Int(response.status.code)
        }

        let namespaceStatus = try await send(.POST, "/api/v1/namespaces", body: ["metadata": ["name": "bench"]])
        guard namespaceStatus == 201 else { throw BenchFailure(status: namespaceStatus) }
        var next = 0
        for clients in [1, 8, 32] {
            let perClient = max(1, operationsPerRun / clients)
            let offset = next
            next += clients * perClient
            // Connections (and TLS handshakes) first, outside the timed runs, as a long-running client has them.
            _ = try await measure("warm-up", layer: layer, clients: clients, perClient: 4) { _, _ in
                _ = try await send(.GET, "/api/v1/namespaces/bench")
            }
            let creates = try await measured("create", clients: clients, perClient: perClient) { client, index in
                let status = try await send(.POST, "/api/v1/namespaces/bench/pods", body: APIBenchmark.pod(offset + client * perClient + index, bound: false))
                guard status == 201 else { throw BenchFailure(status: status) }
            }
            print(creates.line)
            let updates = try await measured("update", clients: clients, perClient: perClient) { client, index in
                let status = try await send(.PATCH, "/api/v1/namespaces/bench/pods/pod-\(offset + client * perClient + index)",
                                            body: ["metadata": ["labels": ["round": "2"]]], contentType: "application/merge-patch+json")
                guard status == 200 else { throw BenchFailure(status: status) }
            }
            print(updates.line)
            let gets = try await measured("get", clients: clients, perClient: perClient) { client, index in
                let status = try await send(.GET, "/api/v1/namespaces/bench/pods/pod-\(offset + client * perClient + index)")
                guard status == 200 else { throw BenchFailure(status: status) }
            }
            print(gets.line)
        }
        let listing = try await measure("list", layer: layer, clients: 1, perClient: 5) { _, _ in
            let status = try await send(.GET, "/api/v1/namespaces/bench/pods")
            guard status == 200 else { throw BenchFailure(status: status) }
        }
        print(BenchOutput.json([("scenario", "list"), ("layer", layer), ("pods", next),
                                ("p50_ms", (listing.percentile(0.5) * 1e5).rounded() / 100)]))
        try await client.shutdown()
    }
}
