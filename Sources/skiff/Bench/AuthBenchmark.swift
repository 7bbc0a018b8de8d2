import Auth
import ClusterRuntime
import EKS
import Foundation
import KubeAPI
import KubeModel
import KubeStore
import Logging
import RegionStore

/// `skiff bench api --layers auth`: what authentication and authorization cost per request, in process, for
/// a user RBAC admits through a RoleBinding: with a client certificate, and with an `aws eks get-token`
/// token (remembered after its first verification) mapped by an access entry; then whole GETs through the
/// API server as each.
struct AuthBenchmark {
    let directory: URL
    let operationsPerRun: Int

    func run() async throws {
        let registry = Registry(store: try SQLiteKubeStore(path: directory.appendingPathComponent("auth-\(UUID()).sqlite").path))
        try await ClusterBootstrap.run(registry)
        let admin = UserInfo(name: "bench", groups: ["system:masters", "system:authenticated"])
        let setup = APIServer(registry: registry, version: VersionInfo(patchVersion: "1.34.1"))
        for (path, body) in [
            ("/api/v1/namespaces", ["metadata": ["name": "bench"]] as JSON),
            ("/api/v1/namespaces/bench/configmaps", ["metadata": ["name": "probe"], "data": ["a": "b"]]),
            ("/apis/rbac.authorization.k8s.io/v1/namespaces/bench/rolebindings", [
                "metadata": ["name": "readers"],
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:aggregate-to-view"],
                "subjects": [["apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "bench-readers"]],
            ]),
        ] {
            let response = await setup.handle(APIRequest(method: "POST", path: path, query: [:], headers: ["content-type": "application/json"],
                                                         body: JSONCoding.encode(body), user: admin))
            guard response.status == 201 else { throw BenchFailure(status: response.status) }
        }

        let credentials = CredentialStore(database: try RegionDatabase(directory: directory.appendingPathComponent("auth-region-\(UUID())")))
        let key = try credentials.createAccessKey(userName: "bench-user")
        let verifier = EKSTokenVerifier(verifier: SigV4Verifier(region: nil) { id in try await credentials.accessKey(id: id) },
                                        revocationGeneration: { credentials.revocationGeneration })
        let access = ClusterAccessState(ClusterAccess(authenticationMode: "API", entries: [
            key.identity.arn: .init(username: key.identity.arn, groups: ["bench-readers"], type: "STANDARD", policies: []),
        ]))
        let iam = IAMAuthenticator(clusterName: "bench", verifier: verifier, access: access, logger: Logger(label: "bench"))
        let certificates = ClientCertificateAuthenticator()
        let authorizer = AuthorizerChain([MastersAuthorizer(), RBACAuthorizer(registry: registry), AccessPolicyAuthorizer(access: access)])
        let server = APIServer(registry: registry, version: VersionInfo(patchVersion: "1.34.1"), authorizer: authorizer)
        defer { registry.shutdown() }

        let signer = SigV4Signer(accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, region: "us-east-1", service: "sts")
        let endpoint = URL(string: "http://127.0.0.1:4566")!
        let token = EKSTokenVerifier.token(signer: signer, endpoint: endpoint, clusterName: "bench")
        let tokenCredentials = Credentials(clientCertificate: nil, bearerToken: token)
        let certificate = Credentials(clientCertificate: CertificateSubject(commonName: "bench-cert", organizations: ["bench-readers"]),
                                      bearerToken: nil)
        let get = ResourceAttributes(verb: "get", group: "", version: "v1", resource: "configmaps", subresource: nil, namespace: "bench",
                                     name: "probe")
        // Warm: the token verified once, the RBAC snapshot loaded (a binding takes effect a moment after its write).
        guard case .user(let iamUser) = await iam.authenticate(tokenCredentials) else { throw BenchFailure(status: 401) }
        var admitted = false
        for _ in 0..<500 where !admitted {
            admitted = await authorizer.authorize(AuthorizationRequest(user: iamUser, resource: get)).allowed
            if !admitted { try await Task.sleep(for: .milliseconds(10)) }
        }
        guard admitted else { throw BenchFailure(status: 403) }

        @Sendable func authorized(_ authentication: Authentication) async throws {
            guard case .user(let user) = authentication,
                  await authorizer.authorize(AuthorizationRequest(user: user, resource: get)).allowed else { throw BenchFailure(status: 403) }
        }
        for clients in [1, 8] {
            let perClient = max(1, operationsPerRun * 10 / clients)
            print(try await measure("authn+authz client-certificate", layer: "auth", clients: clients, perClient: perClient) { _, _ in
                try await authorized(await certificates.authenticate(certificate))
            }.line)
            print(try await measure("authn+authz iam-token cached", layer: "auth", clients: clients, perClient: perClient) { _, _ in
                try await authorized(await iam.authenticate(tokenCredentials))
            }.line)
        }
        // A token's first use: its SigV4 signature and access key checked.
        let fresh = (0..<200).map { index in
            Credentials(clientCertificate: nil, bearerToken: EKSTokenVerifier.token(
                signer: signer, endpoint: endpoint, clusterName: "bench", date: Date().addingTimeInterval(-Double(index))))
        }
        print(try await measure("authn+authz iam-token first use", layer: "auth", clients: 1, perClient: fresh.count) { _, index in
            try await authorized(await iam.authenticate(fresh[index]))
        }.line)

        let path = "/api/v1/namespaces/bench/configmaps/probe"
        for clients in [1, 8] {
            let perClient = max(1, operationsPerRun / clients)
            for (scenario, credentials, authenticator) in [("get client-certificate", certificate, certificates as any Authenticator),
                                                            ("get iam-token", tokenCredentials, iam as any Authenticator)] {
                print(try await measure(scenario, layer: "auth", clients: clients, perClient: perClient) { _, _ in
                    guard case .user(let user) = await authenticator.authenticate(credentials) else { throw BenchFailure(status: 401) }
                    let response = await server.handle(APIRequest(method: "GET", path: path, query: [:], headers: [:], body: [], user: user))
                    guard response.status == 200 else { throw BenchFailure(status: response.status) }
                }.line)
            }
        }
    }
}
