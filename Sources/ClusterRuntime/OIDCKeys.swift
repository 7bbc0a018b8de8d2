import AsyncHTTPClient
import Foundation
import KubeAPI
import KubeModel
import NIOCore
import NIOSSL

/// The signing keys of OIDC issuers, fetched over HTTPS as kube-apiserver fetches them: the issuer's discovery
/// document (`/.well-known/openid-configuration`, whose `issuer` must be the issuer) names its `jwks_uri`. Kept
/// for an hour; fetched again, at most every ten seconds, when a token names a key they lack.
public actor OIDCKeys: OIDCKeySource {
    struct Entry {
        var keys: [JSON]
        var fetchedAt: Date
    }

    private let client: HTTPClient
    private var entries: [String: Entry] = [:]
    static let lifetime: TimeInterval = 3600
    static let refetchInterval: TimeInterval = 10

    /// - Parameter trustedCertificatesPEM: CA certificates trusted besides the system's (an in-house issuer's CA).
    public init(trustedCertificatesPEM: String? = nil) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let pem = trustedCertificatesPEM {
            tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))]
        }
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
    }

    public func keys(issuer: String, refresh: Bool) async -> [JSON] {
        let now = Date()
        if let entry = entries[issuer] {
            let fresh = now.timeIntervalSince(entry.fetchedAt) < Self.lifetime
            let recent = now.timeIntervalSince(entry.fetchedAt) < Self.refetchInterval
            if fresh && (!refresh || recent) { return entry.keys }
        }
        guard let keys = await fetch(issuer: issuer) else { return entries[issuer]?.keys ?? [] }
        entries[issuer] = Entry(keys: keys, fetchedAt: now)
        return keys
    }

    private func fetch(issuer: String) async -> [JSON]? {
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        guard let discovery = await document(base + "/.well-known/openid-configuration"), discovery["issuer"]?.string == issuer,
              let jwksURI = discovery["jwks_uri"]?.string, let jwks = await document(jwksURI) else { return nil }
        return jwks["keys"]?.array
    }

    private func document(_ url: String) async -> JSON? {
        guard url.hasPrefix("https://") else { return nil }
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
            guard response.status == .ok else { return nil }
            let body = try await response.body.collect(upTo: 1 << 20)
            return try JSONCoding.decode(Array(buffer: body))
        } catch {
            return nil
        }
    }

    public func shutdown() async {
        try? await client.shutdown()
    }
}
