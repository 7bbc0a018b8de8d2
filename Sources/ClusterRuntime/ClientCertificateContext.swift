import Hummingbird
import KubeAPI
import NIOCore
import NIOSSL
import Synchronization
import X509

/// Users by connection: a TLS connection's client certificate does not change, so it is read once.
/// `channel` is the TCP connection, never an HTTP/2 stream.
final class ConnectionUsers: Sendable {
    static let shared = ConnectionUsers()
    private let users = Mutex<[ObjectIdentifier: UserInfo?]>([:])

    func user(for channel: any Channel, read: () async -> UserInfo?) async -> UserInfo? {
        let key = ObjectIdentifier(channel)
        if let known = users.withLock({ $0[key] }) { return known }
        let user = await read()
        let isNew = users.withLock { users in
            defer { users[key] = .some(user) }
            return users[key] == nil
        }
        if isNew { channel.closeFuture.whenComplete { [self] _ in _ = users.withLock { $0.removeValue(forKey: key) } } }
        return user
    }
}

/// A request context that keeps the connection, so the client certificate
/// presented in the TLS handshake can authenticate the request.
struct ClientCertificateContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The TLS connection: the request's own channel over HTTP/1.1; over HTTP/2 the request arrives on a
    /// stream channel, a child of the connection. A connection's parent is the listening socket, which has none.
    let connection: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        var connection = source.channel
        while let parent = connection.parent, parent.parent != nil { connection = parent }
        self.connection = connection
    }

    /// The user a verified client certificate names: its common name, and its organizations as groups.
    /// The TLS layer already checked the certificate against the cluster CA.
    func certificateUser() async -> UserInfo? {
        await ConnectionUsers.shared.user(for: connection) { await readCertificateUser() }
    }

    private func readCertificateUser() async -> UserInfo? {
        guard let peer = try? await connection.nioSSL_peerCertificate().get(),
              let certificate = try? Certificate(derEncoded: peer.toDERBytes()) else { return nil }
        var name: String?
        var groups: [String] = []
        for rdn in certificate.subject {
            for attribute in rdn {
                if attribute.type == .RDNAttributeType.commonName { name = String(describing: attribute.value) }
                if attribute.type == .RDNAttributeType.organizationName { groups.append(String(describing: attribute.value)) }
            }
        }
        guard let name else { return nil }
        return UserInfo(name: name, groups: groups + ["system:authenticated"])
    }
}
