import AWSAPI
import Auth
import CloudTrail
import CloudWatchLogs
import ClusterRuntime
import EKS
import Foundation
import Hummingbird
import KMS
import Logging
import Prometheus
import RegionStore
import ServiceLifecycle
import VPC

/// The regional endpoint and its background services, composed from one data dir.
public struct SkiffServer: Sendable {
    public let configuration: SkiffConfiguration
    public let database: RegionDatabase
    public let credentials: CredentialStore
    public let iam: IAMService
    public let network: RegionNetwork
    public let logs: LogsService
    public let trail: TrailService
    public let kms: KMSService
    public let eks: EKSService
    public let clusters: ClusterRuntimes
    private let verifier: SigV4Verifier
    private let logger: Logger

    public init(configuration: SkiffConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        database = try configuration.regionRecords.map { RegionDatabase(engine: $0) }
            ?? RegionDatabase(directory: configuration.dataDirectory)
        credentials = CredentialStore(database: database)
        iam = IAMService(database: database, credentials: credentials)
        let region = Region(name: configuration.region, account: CredentialStore.defaultAccount)
        network = RegionNetwork(database: database, region: region)
        let logs = try LogsService(directory: configuration.dataDirectory, region: region.name, account: region.account)
        self.logs = logs
        trail = try TrailService(directory: configuration.dataDirectory, account: region.account)
        let kms = try KMSService(database: database, directory: configuration.dataDirectory, region: region.name, account: region.account,
                                 sharedRootKey: configuration.kmsRootKey)
        self.kms = kms
        // Each cluster's API server gets its own loopback port on the host Skiff serves.
        let apiHost = configuration.apiHost
        // What new clusters' endpoints name: this replica, or the load balancer in front of every replica.
        let advertised = configuration.advertiseAddress ?? apiHost
        let credentials = self.credentials
        verifier = SigV4Verifier(region: configuration.region, acceptAnyAccessKey: configuration.acceptAnyAccessKey) { id in
            try await credentials.accessKey(id: id)
        }
        // Tokens are presigned for whichever region the caller's CLI uses, as the aws-iam-authenticator accepts any STS region.
        let tokenVerifier = EKSTokenVerifier(verifier: SigV4Verifier(region: nil, acceptAnyAccessKey: configuration.acceptAnyAccessKey) { id in
            try await credentials.accessKey(id: id)
        }, revocationGeneration: { credentials.revocationGeneration })
        let network = self.network
        clusters = ClusterRuntimes(directory: configuration.dataDirectory.appendingPathComponent("clusters", isDirectory: true),
                                   storage: configuration.clusterStorage, bindHost: apiHost,
                                   historyRetention: configuration.historyRetention,
                                   identity: configuration.identity, tokenVerifier: tokenVerifier,
                                   oidcKeys: try OIDCKeys(trustedCertificatesPEM: configuration.trustedCertificatesPEM),
                                   fargateAddressing: FargateAddressing(
                                       allocate: { [database, network] subnetId in
                                           try await database.write { tx in
                                               guard let address = try network.allocateAddresses(tx, subnetId: subnetId, count: 1).first else {
                                                   throw EC2Error("InsufficientFreeAddressesInSubnet", "Subnet \(subnetId) has no free addresses.")
                                               }
                                               return address
                                           }
                                       },
                                       release: { [database, network] subnetId, address in
                                           _ = try? await database.write { tx in try network.releaseAddresses(tx, subnetId: subnetId, addresses: [address]) }
                                       }),
                                   instanceDNSNames: { id in
                                       guard let instance = try? await network.describeInstances(ids: [id], filters: [], maxResults: nil,
                                                                                                 nextToken: nil).items.first,
                                             instance.state != .terminated else { return nil }
                                       return instance.privateDnsName(region: region.name)
                                   },
                                   logging: ControlPlaneLogging(
                                       auditMaxBytes: configuration.auditLogMaxSize << 20, auditMaxBackups: configuration.auditLogMaxBackup,
                                       ship: { cluster, stream, lines in
                                           do {
                                               try await logs.append(group: "/aws/eks/\(cluster)/cluster", stream: stream,
                                                                     lines.map { InputLogEvent(timestamp: $0.timestamp, message: $0.line) })
                                           } catch {
                                               logger.error("shipping control-plane logs failed", metadata: ["cluster": "\(cluster)", "error": "\(error)"])
                                           }
                                       }),
                                   envelopeKeys: EnvelopeKeys(
                                       wrap: { keyArn, dataKey, context in
                                           let sealed = try await kms.encrypt(keyId: keyArn, plaintext: dataKey, context: context, caller: "")
                                           return (sealed.ciphertextBlob, sealed.keyArn)
                                       },
                                       unwrap: { blob, context in try await kms.decrypt(blob, context: context, keyId: nil, caller: "").plaintext },
                                       check: { keyArn in try await kms.checkUsable(keyArn) }),
                                   logger: logger)
        eks = EKSService(database: database, network: network, settings: EKSSettings(
            region: region, provisioningDelay: configuration.provisioningDelay,
            clusterEndpoints: ClusterEndpoints(host: advertised, isFree: { port in LoopbackPorts.isFree(port, host: apiHost) }),
            kmsKeyProblem: { keyArn in
                guard let state = await kms.state(of: keyArn) else { return "the key does not exist" }
                return state == "Enabled" ? nil : "the key is \(state)"
            }),
            controlPlanes: clusters)
    }

    /// Seeds first-start state, then serves until SIGINT or SIGTERM.
    public func run() async throws {
        try await credentials.ensureDefaultKey()
        try await network.ensureDefaultVPC()

        if configuration.acceptAnyAccessKey {
            logger.warning("--accept-any-access-key is on: requests signed with unknown access key ids are accepted, unverified, as an account's root")
        }
        let metrics = PrometheusCollectorRegistry()
        let endpoint = AWSEndpoint(
            verifier: verifier,
            services: [EKSAPI(eks: eks), LogsAPI(logs: logs), CloudTrailAPI(trail: trail), KMSAPI(kms: kms), STSAPI(iam: iam, webIdentities: { [clusters] token in await clusters.webIdentityClaims(token) }), IAMAPI(iam: iam), EC2API(network: network),
                       EKSAuthAPI(eks: eks, iam: iam, serviceAccount: { [clusters] cluster, token, audience in
                           guard let user = await clusters.serviceAccount(clusterName: cluster, token: token, audience: audience) else { return nil }
                           let parts = user.name.split(separator: ":", omittingEmptySubsequences: false)
                           return parts.count == 4 ? (String(parts[2]), String(parts[3])) : nil
                       }), SkiffAdminAPI(eks: eks)],
            settle: { [eks] in await eks.settleDueTransitions() },
            trail: trail, metrics: PrometheusMetricsFactory(registry: metrics), logger: logger)
        let health = HealthBody(status: "ok", region: configuration.region, acceptAnyAccessKey: configuration.acceptAnyAccessKey)
        let responder = CallbackResponder<EndpointRequestContext> { request, context in
            if request.uri.path == "/_skiff/health" {
                return try health.response()
            }
            if request.uri.path == "/metrics", request.method == .get {
                return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
            }
            return try await endpoint.respond(to: request, context: context)
        }
        let logger = self.logger
        let replication = configuration.replication
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Skiff"),
            services: [EKSProvisioner(eks: eks, replicas: replication.map { ($0.provisioner, .seconds(1)) }, logger: logger), LogRetentionSweeper(logs: logs, logger: logger),
                       TrailWriter(trail: trail, logger: logger)]
                + configuration.clusterStorage.regionServices(identity: configuration.identity, historyRetention: configuration.historyRetention),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.notice("Skiff listening on http://\(configuration.host):\(port)")
            },
            logger: logger)
        try await app.runService()
        await clusters.stopAll()
    }
}

struct HealthBody: Codable, Sendable {
    let status: String
    let region: String
    let acceptAnyAccessKey: Bool

    func response() throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(self))))
    }
}

/// The regional endpoint's request context: Hummingbird's basic one, with the client's address for CloudTrail.
struct EndpointRequestContext: RequestContext, RemoteAddressContext {
    var coreContext: CoreRequestContextStorage
    let remoteIP: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteIP = source.channel.remoteAddress?.ipAddress
    }
}
