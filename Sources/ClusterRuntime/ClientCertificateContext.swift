import Hummingbird
import KubeAPI
import NIOCore
import NIOSSL
import X509

/// A request context that keeps the connection, so the client certificate
/// presented in the TLS handshake can authenticate the request.
struct ClientCertificateContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The user a verified client certificate names: its common name, and its organizations as groups.
    /// The TLS layer already checked the certificate against the cluster CA.
    func certificateUser() async -> UserInfo? {
        guard let peer = try? await channel.nioSSL_peerCertificate().get(),
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
