import Hummingbird
import KubeAPI
import NIOCore
import NIOSSL
import Synchronization
import X509

/// Client certificates by connection: a TLS connection's certificate does not change, so it is read once.
/// `channel` is the TCP connection, never an HTTP/2 stream.
final class ConnectionCertificates: Sendable {
    static let shared = ConnectionCertificates()
    private let subjects = Mutex<[ObjectIdentifier: CertificateSubject?]>([:])

    func subject(for channel: any Channel) async -> CertificateSubject? {
        let key = ObjectIdentifier(channel)
        if let known = subjects.withLock({ $0[key] }) { return known }
        let subject = await Self.read(channel)
        let isNew = subjects.withLock { subjects in
            defer { subjects[key] = .some(subject) }
            return subjects[key] == nil
        }
        if isNew { channel.closeFuture.whenComplete { [self] _ in _ = subjects.withLock { $0.removeValue(forKey: key) } } }
        return subject
    }

    private static func read(_ connection: any Channel) async -> CertificateSubject? {
        guard let peer = try? await connection.nioSSL_peerCertificate().get(),
              let certificate = try? Certificate(derEncoded: peer.toDERBytes()) else { return nil }
        var name: String?
        var organizations: [String] = []
        for rdn in certificate.subject {
            for attribute in rdn {
                if attribute.type == .RDNAttributeType.commonName { name = String(describing: attribute.value) }
                if attribute.type == .RDNAttributeType.organizationName { organizations.append(String(describing: attribute.value)) }
            }
        }
        return CertificateSubject(commonName: name, organizations: organizations)
    }
}

/// A request context that keeps the connection, so the client certificate
/// presented in the TLS handshake can authenticate the request.
struct ClientCertificateContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The TLS connection. Only HTTP/1.1 requests come through Hummingbird, on the connection's own channel;
    /// HTTP/2 streams go to `HTTP2StreamHandler`, which asks the stream's parent.
    let connection: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        connection = source.channel
    }

    /// The subject of the client certificate the TLS layer verified against the cluster CA, if one was presented.
    func certificateSubject() async -> CertificateSubject? {
        await ConnectionCertificates.shared.subject(for: connection)
    }
}
