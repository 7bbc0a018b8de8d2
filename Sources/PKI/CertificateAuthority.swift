import Crypto
import Foundation
import SwiftASN1
import X509

/// A self-signed certificate authority: its certificate and private key, both PEM.
///
/// Each EKS cluster gets one at creation and keeps it for life; its
/// certificate is what `DescribeCluster` returns as `certificateAuthority.data`.
public struct CertificateAuthority: Codable, Sendable, Equatable {
    public let certificatePEM: String
    public let privateKeyPEM: String

    /// How long a new CA is valid, as on EKS: ten years.
    public static let validity: TimeInterval = 10 * 365 * 24 * 3600

    /// Makes a new CA named `commonName` (EKS names every cluster CA `kubernetes`).
    public static func create(commonName: String = "kubernetes", now: Date = Date()) throws -> CertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(commonName) }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-60),
            notValidAfter: now.addingTimeInterval(validity),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true, keyCertSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return CertificateAuthority(certificatePEM: try certificate.serializeAsPEM().pemString,
                                    privateKeyPEM: key.pemRepresentation)
    }

    /// The certificate PEM, base64-encoded once more: the form of EKS's `certificateAuthority.data`
    /// and of a kubeconfig's `certificate-authority-data`.
    public var certificateData: String {
        Data(certificatePEM.utf8).base64EncodedString()
    }

    public var certificate: Certificate {
        get throws { try Certificate(pemEncoded: certificatePEM) }
    }
}
