import Auth
import EKS
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdHTTP2
import KubeAPI
import KubeStore
import Logging
import NIOCore
import NIOSSL
import PKI

/// One cluster's control plane: its store (a SQLite file of its own), its
/// registry, and its API server on its own port, over TLS with a serving
/// certificate from the cluster's CA.
final class ClusterControlPlane: Sendable {
    let spec: ControlPlaneSpec
    let store: SQLiteKubeStore
    let apiServer: APIServer
    private let serving: Task<Void, any Error>
    private let compacting: Task<Void, Never>

    init(spec: ControlPlaneSpec, directory: URL, historyRetention: TimeInterval, logger: Logger) async throws {
        self.spec = spec
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteKubeStore(path: directory.appendingPathComponent("cluster.sqlite").path)
        self.store = store
        let registry = Registry(store: store, serviceNetwork: ServiceNetwork(cidr: spec.serviceIpv4Cidr))
        try await registry.bootstrap()
        let apiServer = APIServer(registry: registry, version: VersionInfo(patchVersion: spec.kubernetesVersion))
        self.apiServer = apiServer

        let tls = try Self.tlsConfiguration(spec)
        let authenticator = AuthenticatorChain([ClientCertificateAuthenticator()])
        let responder = CallbackResponder<ClientCertificateContext> { request, context in
            await Self.respond(request, context: context, authenticator: authenticator, apiServer: apiServer)
        }
        var serverLogger = logger
        serverLogger[metadataKey: "cluster"] = .string(spec.clusterName)
        // true once the server listens, false if it stops before that (e.g. the port is taken).
        let started = AsyncStream<Bool>.makeStream()
        let running = Application(responder: responder, server: try .http2Upgrade(tlsConfiguration: tls),
                                  configuration: .init(address: .hostname(spec.host, port: spec.port), serverName: "Skiff"),
                                  onServerRunning: { _ in started.continuation.yield(true) },
                                  logger: serverLogger)
        let serving = Task {
            defer { started.continuation.yield(false) }
            try await running.run()
        }
        self.serving = serving
        let compacting = Task { await StoreCompactor(store: store, retention: historyRetention).run() }
        self.compacting = compacting
        // Serve before the cluster is reported ACTIVE.
        var listening = false
        for await signal in started.stream {
            listening = signal
            break
        }
        guard listening else {
            compacting.cancel()
            throw ControlPlaneError.couldNotListen(spec.endpoint)
        }
    }

    func stop() async {
        apiServer.registry.shutdown()
        serving.cancel()
        compacting.cancel()
        _ = try? await serving.value
        await compacting.value
    }

    static func tlsConfiguration(_ spec: ControlPlaneSpec) throws -> TLSConfiguration {
        let ca = spec.certificateAuthority
        let serving = try ca.issueServing(
            commonName: "kube-apiserver",
            dnsNames: ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"],
            ipAddresses: [spec.host, "127.0.0.1"])
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
                        apiServer: APIServer) async -> Response {
        var request = request
        let authorization = request.headers[.authorization] ?? ""
        let bearer = authorization.lowercased().hasPrefix("bearer ") ? String(authorization.dropFirst("bearer ".count)) : nil
        let credentials = Credentials(clientCertificate: await context.certificateSubject(), bearerToken: bearer)
        guard case .user(let user) = await authenticator.authenticate(credentials) else {
            return response(.error(.unauthorized))
        }
        let body: [UInt8]
        do {
            body = Array(buffer: try await request.collectBody(upTo: APIServer.maxRequestBody + 1))
        } catch {
            return response(.error(.tooLarge()))
        }
        // As Go's ParseQuery reads it (kubectl writes spaces as `+`): from the raw query, decoded once.
        var query: [String: String] = [:]
        for (name, value) in SignableRequest.decodeForm(request.uri.query ?? "", plusIsSpace: true) where query[name] == nil {
            query[name] = value
        }
        var headers: [String: String] = [:]
        // Repeated fields (one Impersonate-Group per group) combine as HTTP combines them: comma-separated.
        for field in request.headers {
            headers[field.name.canonicalName] = headers[field.name.canonicalName].map { "\($0), \(field.value)" } ?? field.value
        }
        let path = request.uri.path.removingPercentEncoding ?? request.uri.path
        let apiRequest = APIRequest(method: request.method.rawValue, path: path, query: query, headers: headers, body: body, user: user)
        return response(await apiServer.handle(apiRequest))
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

enum ControlPlaneError: Error, CustomStringConvertible {
    case couldNotListen(String)

    var description: String {
        switch self {
        case .couldNotListen(let endpoint): "the API server could not listen on \(endpoint)"
        }
    }
}

