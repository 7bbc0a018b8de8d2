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

/// The same operations as `APIBenchmark`, through a real cluster control plane: HTTPS with a
/// client certificate, over HTTP/2 (one connection, a stream per request, as client-go does) or
/// HTTP/1.1 (a keep-alive connection per concurrent client).
struct HTTPSBenchmark {
    let directory: URL
    let operationsPerRun: Int
    let http2: Bool

    var layer: String { http2 ? "https-h2" : "https-h1" }

    func run() async throws {
        let authority = try CertificateAuthority.create()
        let port = LoopbackPorts.free(host: "127.0.0.1") ?? 16443
        let spec = ControlPlaneSpec(clusterName: "bench", kubernetesVersion: "1.34.1", endpoint: "https://127.0.0.1:\(port)",
                                    certificateAuthority: authority, serviceIpv4Cidr: "10.100.0.0/16")
        let runtimes = ClusterRuntimes(directory: directory.appendingPathComponent("\(layer)-clusters"), logger: Logger(label: "bench"))
        try await runtimes.ensureRunning(spec)

        let admin = try authority.issueClient(user: "bench", groups: ["system:masters"])
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(authority.certificatePEM.utf8)))
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(admin.certificatePEM.utf8)).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(admin.privateKeyPEM.utf8), format: .pem))
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 32)
        configuration.httpVersion = http2 ? .automatic : .http1Only
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let base = spec.endpoint

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
            let creates = try await measure("create", layer: layer, clients: clients, perClient: perClient) { client, index in
                let status = try await send(.POST, "/api/v1/namespaces/bench/pods", body: APIBenchmark.pod(offset + client * perClient + index))
                guard status == 201 else { throw BenchFailure(status: status) }
            }
            print(creates.line)
            let updates = try await measure("update", layer: layer, clients: clients, perClient: perClient) { client, index in
                let status = try await send(.PATCH, "/api/v1/namespaces/bench/pods/pod-\(offset + client * perClient + index)",
                                            body: ["metadata": ["labels": ["round": "2"]]], contentType: "application/merge-patch+json")
                guard status == 200 else { throw BenchFailure(status: status) }
            }
            print(updates.line)
            let gets = try await measure("get", layer: layer, clients: clients, perClient: perClient) { client, index in
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
        await runtimes.stopAll()
    }
}
