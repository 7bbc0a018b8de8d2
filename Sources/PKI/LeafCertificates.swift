import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate and its private key, both PEM.
public struct IssuedCertificate: Codable, Sendable, Equatable {
    public let certificatePEM: String
    public let privateKeyPEM: String
}

extension CertificateAuthority {
    /// How long leaf certificates are valid: a year, as kubeadm issues them.
    public static let leafValidity: TimeInterval = 365 * 24 * 3600

    /// A TLS server certificate for the given DNS names and IP addresses.
    public func issueServing(commonName: String, dnsNames: [String], ipAddresses: [String], now: Date = Date()) throws -> IssuedCertificate {
        try issue(subject: try DistinguishedName { CommonName(commonName) }, now: now, extensions: try Certificate.Extensions {
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(dnsNames.map { .dnsName($0) } + ipAddresses.compactMap(Self.ipAddressName))
        })
    }

    /// A client certificate as Kubernetes reads one: the common name is the user, each organization a group.
    public func issueClient(user: String, groups: [String], now: Date = Date()) throws -> IssuedCertificate {
        let subject = try DistinguishedName {
            for group in groups { OrganizationName(group) }
            CommonName(user)
        }
        return try issue(subject: subject, now: now, extensions: try Certificate.Extensions {
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
            try ExtendedKeyUsage([.clientAuth])
        })
    }

    private func issue(subject: DistinguishedName, now: Date, extensions: Certificate.Extensions) throws -> IssuedCertificate {
        let caCertificate = try certificate
        let caKey = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        let key = P256.Signing.PrivateKey()
        let leaf = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-60),
            notValidAfter: now.addingTimeInterval(Self.leafValidity),
            issuer: caCertificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: Certificate.PrivateKey(caKey))
        return IssuedCertificate(certificatePEM: try leaf.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }

    static func ipAddressName(_ text: String) -> GeneralName? {
        let octets = text.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4 else { return nil }
        return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(octets)))
    }
}

