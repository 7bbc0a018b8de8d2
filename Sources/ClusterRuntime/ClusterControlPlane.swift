import Auth
import Controllers
import EKS
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOHTTP1
import KubeAPI
import KubeModel
import KubeStore
import Logging
import NIOCore
import NIOSSL
import NodeAgent
import PKI
import Scheduler
import Synchronization
import ServiceLifecycle

/// One cluster's control plane: its store (a SQLite file of its own), its
/// registry, and a ServiceGroup of the components that serve and act on it:
/// the API server on its own port (TLS with a serving certificate from the
/// cluster's CA), the store's compactor, the controller manager, the scheduler
/// and the node agents of its node groups' nodes.
final class ClusterControlPlane: Sendable {
    private let currentSpec: Mutex<ControlPlaneSpec>
    let store: any KubeStore
    let nodeAgents: NodeAgents
    let apiServer: APIServer
    /// EKS's add-on manager for this cluster.
    let addons: AddonInstaller
    let serviceAccountTokens: ServiceAccountTokenAuthenticator
    /// Its components' logs, audit and the authenticator's decisions included.
    let logs: ControlPlaneLogs
    private let access: ClusterAccessState
    private let fargateProfiles: FargateProfiles
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// - Parameter tokenVerifier: checks `aws eks get-token` tokens; nil leaves client certificates the only credentials.
    init(spec: ControlPlaneSpec, directory: URL, storage: ClusterStorage, bindHost: String, historyRetention: TimeInterval, identity: String,
         tokenVerifier: EKSTokenVerifier?, oidcKeys: OIDCKeys? = nil, fargateAddressing: FargateAddressing? = nil, instanceDNSNames: IAMAuthenticator.InstanceDNSNames?, logging: ControlPlaneLogging,
         envelopeKeys: EnvelopeKeys?, logger: Logger) async throws {
        currentSpec = Mutex(spec)
        let access = ClusterAccessState(spec.access)
        self.access = access
        let fargateProfiles = FargateProfiles(spec.fargateProfiles)
        self.fargateProfiles = fargateProfiles
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // A cluster whose Secrets are encrypted scrubs what it deletes: the plaintext of Secrets sealed later goes with it.
        let (store, isNew) = try await storage.open(clusterName: spec.clusterName, directory: directory,
                                                    secureDelete: spec.secretsKeyArn != nil)
        self.store = store
        let issuer = try ServiceAccountIssuer(issuer: spec.oidcIssuer.isEmpty ? spec.endpoint : spec.oidcIssuer,
                                              privateKeyPEM: try await storage.serviceAccountKey(clusterName: spec.clusterName,
                                                                                                 directory: directory))
        // With `encryptionConfig`, Secrets go to the store sealed by the KMS v2 envelope; the rest as they are.
        var apiStore: any KubeStore = store
        if let keyArn = spec.secretsKeyArn {
            guard let envelopeKeys else { throw ControlPlaneError.noKMS(spec.clusterName) }
            let encrypting = TransformingKubeStore(base: store, prefixes: ["/registry/core/secrets/"])
            encrypting.transformer = KMSv2Envelope(keyArn: keyArn, clusterName: spec.clusterName, keys: envelopeKeys)
            try await Self.encryptExistingSecrets(encrypting, base: store, storage: storage)
            apiStore = encrypting
        }
        let metrics = ControlPlaneMetrics.make()
        apiStore = MeasuredKubeStore(base: apiStore, factory: metrics.factory)
        let registry = Registry(store: apiStore, resources: .builtIn(kubernetesMinor: spec.minorVersion),
                                serviceNetwork: ServiceNetwork(cidr: spec.serviceIpv4Cidr),
                                admission: Admission.defaultPlugins + [EKSPodIdentityWebhook(region: spec.region, access: access),
                                                                       EKSFargateWebhook(profiles: fargateProfiles)],
                                serviceAccountIssuer: issuer)
        try await ClusterBootstrap.run(registry)
        if spec.access.usesConfigMap { try await AWSAuthConfigMap.ensureNodeRoles(spec.access.nodeRoles, registry: registry) }
        var clusterLogger = logger
        clusterLogger[metadataKey: "cluster"] = .string(spec.clusterName)
        let logs = try ControlPlaneLogs(directory: Self.logDirectory(in: directory), clusterName: spec.clusterName, identity: identity,
                                        settings: logging)
        logs.enable(spec.enabledLogTypes)
        self.logs = logs
        let serviceAccountTokens = ServiceAccountTokenAuthenticator(issuer: issuer, registry: registry)
        self.serviceAccountTokens = serviceAccountTokens
        let authenticator = AuthenticatorChain([ClientCertificateAuthenticator(), serviceAccountTokens]
            + (tokenVerifier.map {
                [IAMAuthenticator(clusterName: spec.clusterName, verifier: $0, access: access, awsAuth: AWSAuthReader(registry: registry),
                                  instanceDNSNames: instanceDNSNames, decisions: logs.authenticator, logger: clusterLogger)]
            } ?? [])
            + (oidcKeys.map { keys in
                [OIDCAuthenticator(issuers: { access.access.oidcProviders }, keys: keys)]
            } ?? []))
        let apiServer = APIServer(registry: registry, version: VersionInfo(patchVersion: spec.kubernetesVersion),
                                  authorizer: AuthorizerChain([MastersAuthorizer(), NodeAuthorizer(registry: registry), RBACAuthorizer(registry: registry),
                                                               AccessPolicyAuthorizer(access: access)]),
                                  authenticator: authenticator, audit: logs.audit, metrics: metrics)
        self.apiServer = apiServer
        addons = AddonInstaller(server: apiServer, spec: spec)
        if isNew && spec.bootstrapsAddons {
            // As on EKS: vpc-cni, kube-proxy and coredns, self-managed, once; what a user changes afterwards stays changed.
            for addon in AddonInstallation.bootstrapped(minor: spec.minorVersion) {
                if case .failed(let issue) = await addons.apply(addon) { throw ControlPlaneError.addonNotInstalled(addon.name, issue.message) }
            }
        }
        let apiLogger = ControlPlaneLogs.logger(clusterLogger, writingTo: logs.api)

        let tls = try Self.tlsConfiguration(spec, bindHost: bindHost)
        let responder = CallbackResponder<ClientCertificateContext> { request, context in
            await Self.respond(request, context: context, authenticator: authenticator, apiServer: apiServer, requestLog: apiLogger)
        }
        var serverLogger = logger
        serverLogger[metadataKey: "cluster"] = .string(spec.clusterName)
        // true once the server listens, false if it stops before that (e.g. the port is taken).
        let started = AsyncStream<Bool>.makeStream()
        var negotiating = tls
        negotiating.applicationProtocols = ["h2", "http/1.1"]
        let sslContext = try NIOSSLContext(configuration: negotiating)
        let server = HTTPServerBuilder { httpResponder in
            ClusterServerChannel(sslContext: sslContext, http1: HTTP1Channel(responder: httpResponder)) { head, body, stream in
                await Self.serveStream(head: head, body: body, stream: stream, authenticator: authenticator, apiServer: apiServer,
                                       requestLog: apiLogger)
            }
        }
        let serving = Application(responder: responder, server: server,
                                  configuration: .init(address: .hostname(bindHost, port: spec.port), serverName: "Skiff"),
                                  onServerRunning: { _ in
                                      apiLogger.info("Serving securely on \(bindHost):\(spec.port)")
                                      started.continuation.yield(true)
                                  },
                                  logger: serverLogger)
        var groupLogger = logger
        groupLogger[metadataKey: "cluster"] = .string(spec.clusterName)
        let leaseTiming = storage.leaseTiming
        let nodeAgents = NodeAgents(server: apiServer, nodes: spec.nodes.map(Self.simulatedNode), identity: identity, logger: groupLogger,
                                    leaseTiming: leaseTiming)
        self.nodeAgents = nodeAgents
        // Stopped in reverse order: the controllers first, the API server last.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: APIServerService(application: serving))]
        if storage.compactsPerCluster { services.append(.init(service: StoreCompactor(store: store, retention: historyRetention))) }
        services.append(.init(service: ControllerManager(server: apiServer, identity: identity,
                                                         logger: ControlPlaneLogs.logger(groupLogger, writingTo: logs.controllerManager),
                                                         rootCertificate: Self.pem(spec.certificateAuthority), serviceAccountIssuer: issuer,
                                                         leaseTiming: leaseTiming)))
        services.append(.init(service: Scheduler(server: apiServer, identity: identity,
                                                 logger: ControlPlaneLogs.logger(groupLogger, writingTo: logs.scheduler), leaseTiming: leaseTiming)))
        services.append(.init(service: nodeAgents))
        if let fargateAddressing {
            services.append(.init(service: FargateScheduler(server: apiServer, nodeAgents: nodeAgents, profiles: fargateProfiles,
                                                            addressing: fargateAddressing, spec: spec, identity: identity,
                                                            leaseTiming: leaseTiming,
                                                            logger: ControlPlaneLogs.logger(groupLogger, writingTo: logs.scheduler))))
        }
        if let ship = logging.ship { services.append(.init(service: LogShipper(clusterName: spec.clusterName, logs: logs, ship: ship))) }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [],
                                                                          cancellationSignals: [], logger: groupLogger))
        self.group = group
        self.running = Task {
            defer { started.continuation.yield(false) }
            try await group.run()
        }
        // Serve before the cluster is reported ACTIVE.
        var listening = false
        for await signal in started.stream {
            listening = signal
            break
        }
        guard listening else {
            await group.triggerGracefulShutdown()
            _ = try? await self.running.value
            registry.shutdown()
            throw ControlPlaneError.couldNotListen(spec.endpoint)
        }
    }

    var spec: ControlPlaneSpec { currentSpec.withLock { $0 } }

    /// The cluster CA certificate as PEM (the record keeps it base64-encoded, as `certificateAuthority.data`).
    static func pem(_ ca: CertificateAuthority) -> String? {
        Data(base64Encoded: ca.certificateData).flatMap { String(data: $0, encoding: .utf8) }
    }

    /// The ACTIVE Fargate profiles changed: new pods follow them.
    func update(fargateProfiles profiles: [FargateProfileSpec]) {
        currentSpec.withLock { $0.fargateProfiles = profiles }
        fargateProfiles.profiles = profiles
    }

    /// The node groups' nodes changed: new ones register, gone ones are removed.
    func update(nodes: [NodeSpec]) {
        currentSpec.withLock { $0.nodes = nodes }
        nodeAgents.update(nodes.map(Self.simulatedNode))
    }

    /// Who may use the API changed: the next request is authenticated and authorized by the new access.
    func update(logTypes: Set<LogType>) {
        currentSpec.withLock { $0.enabledLogTypes = logTypes }
        logs.enable(logTypes)
    }

    func update(access newAccess: ClusterAccess) {
        currentSpec.withLock { $0.access = newAccess }
        access.access = newAccess
        if newAccess.usesConfigMap, !newAccess.nodeRoles.isEmpty {
            let registry = apiServer.registry
            Task { try? await AWSAuthConfigMap.ensureNodeRoles(newAccess.nodeRoles, registry: registry) }
        }
    }

    static func simulatedNode(_ node: NodeSpec) -> SimulatedNode {
        var capacity = ResourceList(), allocatable = ResourceList()
        capacity["cpu"] = Int64(node.cpuMillicores)
        allocatable["cpu"] = Int64(node.allocatableCpuMillicores)
        capacity["memory"] = Int64(node.memoryKiB) * 1024 * 1000
        allocatable["memory"] = Int64(node.allocatableMemoryKiB) * 1024 * 1000
        capacity["ephemeral-storage"] = Int64(node.ephemeralStorageKiB) * 1024 * 1000
        allocatable["ephemeral-storage"] = Int64(node.allocatableEphemeralStorageKiB) * 1024 * 1000
        capacity["pods"] = Int64(node.maxPods) * 1000
        allocatable["pods"] = Int64(node.maxPods) * 1000
        return SimulatedNode(name: node.name, instanceId: node.instanceId, instanceType: node.instanceType, zone: node.zone,
                             region: node.labels["topology.kubernetes.io/region"] ?? "", privateIP: node.privateIP,
                             podAddresses: node.podAddresses, labels: node.labels,
                             taints: node.taints.map { KubeModel.Taint(key: $0.key, value: $0.value, effect: $0.effect) },
                             capacity: capacity, allocatable: allocatable, kubeletVersion: node.kubeletVersion)
    }

    /// Stops the components in reverse order; what has not stopped within a few seconds (a client's
    /// open watch holds the API server) is cancelled.
    func stop() async {
        await group.triggerGracefulShutdown()
        let running = self.running
        let deadline = Task {
            try await Task.sleep(for: .seconds(3))
            running.cancel()
        }
        _ = try? await running.value
        deadline.cancel()
        apiServer.registry.shutdown()
        logs.close()
        // Closed here rather than when the last reference goes: what still holds the registry must not hold the
        // cluster's files open after the cluster is gone.
        await store.close()
    }

    /// Rewrites every Secret still stored in the clear, sealed; then drops the history that held it in the clear
    /// (on SQLite at once, which secure deletion overwrites, so that no file keeps the plaintext).
    static func encryptExistingSecrets(_ store: TransformingKubeStore, base: any KubeStore, storage: ClusterStorage) async throws {
        let plain = try await base.range(RangeRequest(prefix: "/registry/core/secrets/")).items
            .filter { !$0.value.starts(with: KMSv2Envelope.prefix) }
        guard !plain.isEmpty else { return }
        for secret in plain {
            _ = try? await store.update(secret.key, value: secret.value, expectedRevision: secret.modRevision)
        }
        try await storage.scrubHistory(base)
    }

    /// Where the control plane's own logs are kept: `<cluster dir>/logs/`.
    static func logDirectory(in directory: URL) -> URL { directory.appendingPathComponent("logs", isDirectory: true) }

    /// The serving certificate names the endpoint's address and the one this replica listens on.
    static func tlsConfiguration(_ spec: ControlPlaneSpec, bindHost: String) throws -> TLSConfiguration {
        let ca = spec.certificateAuthority
        let serving = try ca.issueServing(
            commonName: "kube-apiserver",
            dnsNames: ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"],
            ipAddresses: Array(Set([spec.host, bindHost, "127.0.0.1"])).sorted())
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(serving.certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(serving.privateKeyPEM.utf8), format: .pem)))
        // HTTP/2 is offered by ALPN (client-go's default), HTTP/1.1 for clients that do not ask for it.
        // Client certificates are optional (tokens come later), but one that is presented must chain to the cluster CA.
        tls.certificateVerification = .optionalVerification
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca.certificatePEM.utf8)))
        return tls
    }

    static func respond(_ request: Request, context: ClientCertificateContext, authenticator: any Authenticator,
                        apiServer: APIServer, requestLog: Logger? = nil) async -> Response {
        var request = request
        let body = try? Array(buffer: await request.collectBody(upTo: APIServer.maxRequestBody))
        let fields = request.headers.map { ($0.name.canonicalName, $0.value) }
        return response(await serve(method: request.method.rawValue, path: request.uri.path, query: request.uri.query, fields: fields,
                                    body: body, certificate: await context.certificateSubject(),
                                    source: Self.address(context.connection.remoteAddress), authenticator: authenticator,
                                    apiServer: apiServer, requestLog: requestLog))
    }

    /// One request, from either protocol: authenticated, then answered by the API server. A nil body was too large.
    static func serve(method: String, path: String, query rawQuery: String?, fields: [(String, String)], body: [UInt8]?,
                      certificate: CertificateSubject?, source: String?, authenticator: any Authenticator,
                      apiServer: APIServer, requestLog: Logger? = nil) async -> APIResponse {
        var headers: [String: String] = [:]
        // Repeated fields (one Impersonate-Group per group) combine as HTTP combines them: comma-separated.
        for (name, value) in fields {
            let name = name.lowercased()
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        let authorization = headers["authorization"] ?? ""
        let bearer = authorization.lowercased().hasPrefix("bearer ") ? String(authorization.dropFirst("bearer ".count)) : nil
        // As Go's ParseQuery reads it (kubectl writes spaces as `+`): from the raw query, decoded once.
        var query: [String: String] = [:]
        for (name, value) in SignableRequest.decodeForm(rawQuery ?? "", plusIsSpace: true) where query[name] == nil {
            query[name] = value
        }
        var apiRequest = APIRequest(method: method, path: path.removingPercentEncoding ?? path, query: query, headers: headers,
                                    body: body ?? [], user: .anonymous, source: source)
        guard case .user(let user) = await authenticator.authenticate(Credentials(clientCertificate: certificate, bearerToken: bearer,
                                                                                      source: source)) else {
            apiServer.auditFailedAuthentication(apiRequest)
            return .error(.unauthorized)
        }
        guard body != nil else { return .error(.tooLarge()) }
        apiRequest.user = user
        let started = ContinuousClock.now
        let response = await apiServer.handle(apiRequest)
        let latency = ContinuousClock.now - started
        // kube-apiserver's httplog line, for what an operator looks for in the api log: failures and slow requests.
        if let requestLog, response.status >= 500 || latency >= .seconds(1) {
            let seconds = Double(latency.components.seconds) + Double(latency.components.attoseconds) / 1e18
            requestLog.info("HTTP", metadata: [
                "verb": "\(method)", "URI": "\(path)\(rawQuery.map { "?\($0)" } ?? "")", "latency": "\(String(format: "%.3f", seconds))s",
                "userAgent": "\(headers["user-agent"] ?? "")", "audit-ID": "\(response.headers.first { $0.0 == "Audit-Id" }?.1 ?? "")",
                "srcIP": "\(source ?? "")", "resp": "\(response.status)",
            ])
        }
        return response
    }

    /// The HTTP/2 side of `serve`: the stream's request, with the certificate of the connection it came on.
    static func serveStream(head: HTTPRequestHead, body: [UInt8]?, stream: any Channel, authenticator: any Authenticator,
                            apiServer: APIServer, requestLog: Logger? = nil) async -> APIResponse {
        let uri = head.uri
        let (path, query) = uri.firstIndex(of: "?").map { (String(uri[..<$0]), String(uri[uri.index(after: $0)...])) } ?? (uri, nil)
        let connection = stream.parent ?? stream
        let certificate = await ConnectionCertificates.shared.subject(for: connection)
        return await serve(method: head.method.rawValue, path: path, query: query, fields: head.headers.map { ($0.name, $0.value) },
                           body: body, certificate: certificate, source: address(connection.remoteAddress), authenticator: authenticator,
                           apiServer: apiServer, requestLog: requestLog)
    }

    /// `127.0.0.1:52114`, as logs and audit show a client.
    static func address(_ address: SocketAddress?) -> String? {
        guard let address, let ip = address.ipAddress else { return nil }
        return address.port.map { "\(ip):\($0)" } ?? ip
    }

    static func response(_ response: APIResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in response.headers where name != "Transfer-Encoding" {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        let status = HTTPResponse.Status(code: response.status)
        switch response.body {
        case .bytes(let bytes):
            return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        case .stream(let chunks):
            return Response(status: status, headers: fields, body: ResponseBody { writer in
                for try await chunk in chunks { try await writer.write(ByteBuffer(bytes: chunk)) }
                try await writer.finish(nil)
            })
        }
    }
}

/// The API server in the control plane's group. Stopping cancels it: open watches and idle HTTP/2
/// connections end at once, as the old server did, rather than holding the cluster's shutdown.
struct APIServerService<App: Service>: Service {
    let application: App

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await application.run() }
    }
}

enum ControlPlaneError: Error, CustomStringConvertible {
    case couldNotListen(String)
    case noKMS(String)
    case addonNotInstalled(String, String)

    var description: String {
        switch self {
        case .addonNotInstalled(let name, let why): "the \(name) add-on could not be installed: \(why)"
        case .couldNotListen(let endpoint): "the API server could not listen on \(endpoint)"
        case .noKMS(let cluster): "cluster \(cluster) encrypts its Secrets, but no KMS was given to this control plane"
        }
    }
}

