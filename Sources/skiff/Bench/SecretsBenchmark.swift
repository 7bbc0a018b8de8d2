import ClusterRuntime
import Foundation
import KMS
import KubeAPI
import KubeModel
import KubeStore
import RegionStore

/// Secret creates per second with and without KMS envelope encryption (the target: encryption costs
/// under 20% at 32 clients), through the API server, with a real KMS key in a region database of its own.
struct SecretsBenchmark {
    let directory: URL
    let operationsPerRun: Int

    func run() async throws {
        let kmsDirectory = directory.appendingPathComponent("kms-\(UUID())")
        let kms = try KMSService(database: try RegionDatabase(directory: kmsDirectory), directory: kmsDirectory, region: "us-east-1",
                                 account: "000000000000")
        let key = try await kms.createKey(description: "bench", policy: nil, keyUsage: nil, keySpec: nil, caller: "")
        let keys = EnvelopeKeys(
            wrap: { keyArn, dataKey, context in
                let sealed = try await kms.encrypt(keyId: keyArn, plaintext: dataKey, context: context, caller: "")
                return (sealed.ciphertextBlob, sealed.keyArn)
            },
            unwrap: { blob, context in try await kms.decrypt(blob, context: context, keyId: nil, caller: "").plaintext },
            check: { keyArn in try await kms.checkUsable(keyArn) })
        for clients in [1, 32] {
            var rates: [Bool: Double] = [:]
            for encrypted in [false, true] {
                let base = try SQLiteKubeStore(path: directory.appendingPathComponent("secrets-\(UUID()).sqlite").path)
                var store: any KubeStore = base
                if encrypted {
                    let sealing = TransformingKubeStore(base: base, prefixes: ["/registry/core/secrets/"])
                    sealing.transformer = SecretsEncryptionBench.envelope(keyArn: key.Arn, keys: keys)
                    store = sealing
                }
                let registry = Registry(store: store, serviceNetwork: ServiceNetwork(cidr: "10.100.0.0/16"))
                try await ClusterBootstrap.run(registry)
                let server = APIServer(registry: registry, version: VersionInfo(patchVersion: "1.34.1"))
                defer { registry.shutdown() }
                try await APIBenchmark.createBenchNamespace(server)
                let perClient = max(1, operationsPerRun / clients)
                let creates = try await measure("create_secret", layer: encrypted ? "api+kms" : "api", clients: clients, perClient: perClient) { client, index in
                    let secret: JSON = ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": .string("s-\(client)-\(index)")],
                                        "data": ["password": .string(Data("secret-\(client)-\(index)".utf8).base64EncodedString()),
                                                 "certificate": .string(Data(repeating: 65, count: 1500).base64EncodedString())]]
                    let response = await server.handle(APIRequest(method: "POST", path: "/api/v1/namespaces/bench/secrets", query: [:],
                                                                  headers: ["content-type": "application/json"], body: JSONCoding.encode(secret),
                                                                  user: APIBenchmark.admin))
                    guard response.status == 201 else { throw BenchFailure(status: response.status) }
                }
                print(creates.line)
                let gets = try await measure("get_secret", layer: encrypted ? "api+kms" : "api", clients: clients, perClient: perClient) { client, index in
                    let response = await server.handle(APIRequest(method: "GET", path: "/api/v1/namespaces/bench/secrets/s-\(client)-\(index)",
                                                                  query: [:], headers: [:], body: [], user: APIBenchmark.admin))
                    guard response.status == 200 else { throw BenchFailure(status: response.status) }
                }
                print(gets.line)
                rates[encrypted] = creates.throughput
            }
            if let plain = rates[false], let sealed = rates[true] {
                print(BenchOutput.json([("scenario", "secret_encryption_cost"), ("clients", clients),
                                        ("create_throughput_lost_percent", ((1 - sealed / plain) * 1000).rounded() / 10)]))
            }
        }
    }
}
