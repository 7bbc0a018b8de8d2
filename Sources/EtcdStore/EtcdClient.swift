import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import NIOHTTP2
import SwiftProtobuf

/// A dotted-quad IPv4 literal, for telling addresses from names.
struct IPv4Address {
    init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else { return nil }
    }
}

/// Where an etcd cluster is and how to reach it: `etcd://HOST:PORT[,HOST:PORT…]`, with TLS files when its
/// members serve TLS (etcd's `--cert-file` and `--client-cert-auth`).
public struct EtcdEndpoints: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public let host: String
        public let port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    public let members: [Member]
    /// The CA that signed the members' serving certificates; set, the connection is TLS.
    public var caFile: String?
    /// The client certificate and key etcd asks for with `--client-cert-auth`.
    public var certFile: String?
    public var keyFile: String?

    public init(members: [Member], caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
        self.members = members
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
    }

    /// Parses `etcd://HOST:PORT[,HOST:PORT…]`; a member without a port is on etcd's 2379.
    public init(url: String, caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil) throws(EtcdError) {
        guard url.hasPrefix("etcd://") else { throw .badEndpoints("\(url): an etcd store is etcd://HOST:PORT[,HOST:PORT…]") }
        let list = url.dropFirst("etcd://".count).split(separator: ",", omittingEmptySubsequences: false)
        var members: [Member] = []
        for item in list {
            let text = item.hasSuffix("/") ? item.dropLast() : item
            let (host, port): (Substring, Substring?) = switch text.lastIndex(of: ":") {
            case let colon? where !text.hasSuffix("]") || text.hasPrefix("["):
                (text[..<colon], text[text.index(after: colon)...])
            default: (text, nil)
            }
            let bare = host.hasPrefix("[") && host.hasSuffix("]") ? host.dropFirst().dropLast() : host
            guard !bare.isEmpty, let number = port.map({ Int($0) }) ?? 2379, (1...65535).contains(number) else {
                throw .badEndpoints("\(url): \(item) is not HOST:PORT")
            }
            members.append(Member(host: String(bare), port: number))
        }
        if (certFile == nil) != (keyFile == nil) { throw .badEndpoints("--etcd-certfile and --etcd-keyfile go together") }
        self.init(members: members, caFile: caFile, certFile: certFile, keyFile: keyFile)
    }

    public var description: String { "etcd://" + members.map { "\($0.host):\($0.port)" }.joined(separator: ",") }
}

public enum EtcdError: Error, Equatable, CustomStringConvertible {
    case badEndpoints(String)
    /// No member answered (down, partitioned, or without quorum).
    case unavailable(String)
    /// etcd refused the request for a reason of its own (its message).
    case refused(String)
    /// A watch etcd ended for a reason other than compaction.
    case watchCanceled(String)
    /// The keys under the root were written by a newer Skiff, whose layout this one does not know.
    case newerLayout(found: Int, known: Int)

    public var description: String {
        switch self {
        case .badEndpoints(let message): message
        case .unavailable(let message): "etcd is unavailable: \(message)"
        case .refused(let message): "etcd refused the request: \(message)"
        case .watchCanceled(let reason): "etcd ended a watch: \(reason)"
        case .newerLayout(let found, let known):
            "the etcd store was written by a newer Skiff (layout \(found); this one knows up to \(known)); nothing was changed"
        }
    }
}

/// One HTTP/2 connection per member to an etcd cluster, shared by every store of the process; calls go
/// round-robin over the members that answer, as etcd's own client balances them.
public final class EtcdClient: Sendable {
    typealias Transport = HTTP2ClientTransport.Posix

    public let endpoints: EtcdEndpoints
    let grpc: GRPCClient<Transport>
    let kv: Etcdserverpb_KV.Client<Transport>
    let watch: Etcdserverpb_Watch.Client<Transport>
    let lease: Etcdserverpb_Lease.Client<Transport>
    let maintenance: Etcdserverpb_Maintenance.Client<Transport>
    private let connections: Task<Void, Never>
    /// The largest message etcd may answer with: a page of a range, or a watch response with many events
    /// (gRPC's default of 4 MiB is a few thousand objects).
    static let maxResponseBytes = 256 << 20
    /// How long one unary call may take before it fails (kube-apiserver gives etcd calls a few seconds too).
    static let callTimeout = Duration.seconds(10)

    public init(endpoints: EtcdEndpoints) throws {
        self.endpoints = endpoints
        let target = try Self.target(endpoints.members)
        let security: HTTP2ClientTransport.Posix.TransportSecurity
        if let caFile = endpoints.caFile {
            security = .tls { tls in
                tls.trustRoots = .certificates([.file(path: caFile, format: .pem)])
                if let certFile = endpoints.certFile, let keyFile = endpoints.keyFile {
                    tls.certificateChain = [.file(path: certFile, format: .pem)]
                    tls.privateKey = .file(path: keyFile, format: .pem)
                }
            }
        } else {
            security = .plaintext
        }
        let transport = try HTTP2ClientTransport.Posix(
            target: target, transportSecurity: security,
            config: .defaults { config in
                // Without flush coalescing: it can hold a request's end-of-stream back until after etcd has answered,
                // and etcd then resets the stream; NIO closes a connection that gets 200 resets in 10 s.
                config.connection = .init(maxIdleTime: .seconds(30 * 60), keepalive: nil)
                config.channelDebuggingCallbacks.onCreateTCPConnection = BDPPingFilter.install
                config.backoff.max = .seconds(2)
            },
            serviceConfig: ServiceConfig(loadBalancingConfig: [.roundRobin]))
        let grpc = GRPCClient(transport: transport)
        self.grpc = grpc
        kv = Etcdserverpb_KV.Client(wrapping: grpc)
        watch = Etcdserverpb_Watch.Client(wrapping: grpc)
        lease = Etcdserverpb_Lease.Client(wrapping: grpc)
        maintenance = Etcdserverpb_Maintenance.Client(wrapping: grpc)
        connections = Task { try? await grpc.runConnections() }
    }

    deinit {
        grpc.beginGracefulShutdown()
    }

    /// Closes the connections once the calls in flight end.
    public func close() {
        grpc.beginGracefulShutdown()
    }

    /// One member by name or address; several by their addresses, all IPv4 or all IPv6, for the round-robin balancer.
    static func target(_ members: [EtcdEndpoints.Member]) throws(EtcdError) -> any ResolvableTarget {
        let hosts = members.map { $0.host == "localhost" ? "127.0.0.1" : $0.host }
        let pairs = zip(hosts, members).map { (host: $0, port: $1.port) }
        if hosts.allSatisfy({ IPv4Address($0) != nil }) { return .ipv4(pairs: pairs) }
        if hosts.allSatisfy({ $0.contains(":") }) { return .ipv6(pairs: pairs) }
        if members.count == 1 { return ResolvableTargets.DNS(host: hosts[0], port: members[0].port) }
        throw .badEndpoints("several etcd members are given by their IP addresses (all IPv4 or all IPv6), not by name")
    }

    /// Options for a unary call: bounded in time, and waiting for a connection while one is being made
    /// (right after start, or while a member restarts) rather than failing at once.
    static var unary: CallOptions {
        var options = CallOptions.defaults
        options.timeout = callTimeout
        options.waitForReady = true
        options.maxResponseMessageBytes = maxResponseBytes
        return options
    }

    /// Options for a watch: it waits for a connection as unary calls do, and runs as long as its consumer.
    static var streaming: CallOptions {
        var options = CallOptions.defaults
        options.waitForReady = true
        options.maxResponseMessageBytes = maxResponseBytes
        return options
    }

    /// Runs one call, its gRPC failure as the error a caller can act on.
    func call<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch {
            throw Self.translate(error)
        }
    }

    /// Watches keys from `startRevision` on (`rangeEnd` empty: one key), handing each response to `handle` until
    /// the watch ends or `handle` returns. The request stream stays open meanwhile: closing it would end the watch.
    func watch(key: Data, rangeEnd: Data, startRevision: Int64, prevKv: Bool = false,
               _ handle: @escaping @Sendable (RPCAsyncSequence<Etcdserverpb_WatchResponse, any Error>) async throws -> Void) async throws {
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = key
        create.rangeEnd = rangeEnd
        create.startRevision = startRevision
        create.prevKv = prevKv
        var request = Etcdserverpb_WatchRequest()
        request.createRequest = create
        try await call {
            try await watch.watch(options: Self.streaming, requestProducer: { [request] writer in
                try await writer.write(request)
                try await Task.sleep(for: .seconds(1 << 40))
            }, onResponse: { response in try await handle(response.messages) })
        }
    }

    /// Asks a member for its status within `timeout`: the start-up check that etcd is there at all.
    public func status(timeout: Duration = .seconds(5)) async throws -> (version: String, revision: Int64) {
        var options = Self.unary
        options.timeout = timeout
        let status = try await call { try await maintenance.status(Etcdserverpb_StatusRequest(), options: options) }
        return (status.version, status.header.revision)
    }

    /// One plain Put, as etcd's own benchmark tool sends: the baseline the store's writes are measured against.
    public func put(_ key: [UInt8], value: [UInt8]) async throws -> Int64 {
        var request = Etcdserverpb_PutRequest()
        request.key = Data(key)
        request.value = Data(value)
        return try await call { try await kv.put(request, options: Self.unary) }.header.revision
    }

    /// One key's value, or nil.
    public func get(_ key: [UInt8]) async throws -> [UInt8]? {
        var request = Etcdserverpb_RangeRequest()
        request.key = Data(key)
        return try await call { try await kv.range(request, options: Self.unary) }.kvs.first.map { Array($0.value) }
    }

    /// Puts `value` under `key` unless the key exists; returns what the key holds afterwards (of two replicas
    /// that race, both get the winner's value).
    public func createIfAbsent(_ key: [UInt8], value: [UInt8]) async throws -> [UInt8] {
        let key = Data(key)
        let response = try await call {
            try await kv.txn(.init(if: [.absent(key)], then: [.put(key, Data(value))], else: [.range(key)]), options: Self.unary)
        }
        return response.succeeded ? value : Array(response.responses.first?.responseRange.kvs.first?.value ?? Data())
    }

    /// A gRPC failure as the error a caller can act on.
    static func translate(_ error: any Error) -> any Error {
        guard let rpc = error as? RPCError else { return error }
        switch rpc.code {
        case .unavailable, .deadlineExceeded, .cancelled: return EtcdError.unavailable(rpc.message)
        default: return EtcdError.refused(rpc.message)
        }
    }
}

