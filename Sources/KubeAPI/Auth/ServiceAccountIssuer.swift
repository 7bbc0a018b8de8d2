import _CryptoExtras
import Crypto
import Foundation
import KubeModel

/// A cluster's service-account token issuer: signs JWTs (RS256) with the cluster's own key, verifies them,
/// and publishes the OpenID Connect discovery document and JWKS that let anyone else verify them (what
/// EKS publishes at the cluster's OIDC issuer, and IAM's `AssumeRoleWithWebIdentity` reads).
public final class ServiceAccountIssuer: Sendable {
    /// The `iss` of bound tokens: the cluster's OIDC issuer URL.
    public let issuer: String
    /// Who a token is for when its request names no audience (kube-apiserver's `--api-audiences`).
    public let apiAudiences: [String]
    /// `iss` of the legacy tokens kept in Secrets.
    public static let legacyIssuer = "kubernetes/serviceaccount"

    private let key: _RSA.Signing.PrivateKey
    public let keyID: String

    public init(issuer: String, privateKeyPEM: String, apiAudiences: [String] = ["https://kubernetes.default.svc"]) throws {
        self.issuer = issuer
        self.apiAudiences = apiAudiences
        key = try _RSA.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        // As kube-apiserver names keys: the unpadded base64url SHA-256 of the public key's DER.
        keyID = JWT.base64url(Array(SHA256.hash(data: key.publicKey.derRepresentation)))
    }

    public static func generatePrivateKeyPEM() throws -> String {
        try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation
    }

    public func sign(_ claims: JSON) -> String {
        let header: JSON = ["alg": "RS256", "kid": .string(keyID)]
        let input = JWT.base64url(JSONCoding.encode(header)) + "." + JWT.base64url(JSONCoding.encode(claims))
        let signature = (try? key.signature(for: Array(input.utf8), padding: .insecurePKCS1v1_5)).map { Array($0.rawRepresentation) } ?? []
        return input + "." + JWT.base64url(signature)
    }

    /// The claims of a token this issuer signed, or nil (another issuer's, tampered, or not a JWT).
    public func verifiedClaims(_ token: String) -> JSON? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = JWT.decode(parts[0]), let header = try? JSONCoding.decode(headerBytes),
              header["alg"]?.string == "RS256", let claimBytes = JWT.decode(parts[1]), let signature = JWT.decode(parts[2]) else { return nil }
        if let kid = header["kid"]?.string, kid != keyID { return nil }
        let input = Array("\(parts[0]).\(parts[1])".utf8)
        guard key.publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: input, padding: .insecurePKCS1v1_5)
        else { return nil }
        return try? JSONCoding.decode(claimBytes)
    }

    /// Whether `token` looks like a JWT at all (three base64url parts): what this authenticator is asked to read.
    public static func looksLikeJWT(_ token: String) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && JWT.decode(parts[0]).flatMap { try? JSONCoding.decode($0) }?["alg"] != nil
    }

    // MARK: Discovery

    /// The issuer URL's path (`/id/HEX` for an EKS-style issuer), under which the documents are served without credentials.
    public var issuerPath: String {
        let path = URLComponents(string: issuer)?.path ?? ""
        return path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    public var discoveryPath: String { issuerPath + "/.well-known/openid-configuration" }
    public var keysPath: String { issuerPath + "/keys" }

    public var discoveryDocument: JSON {
        ["issuer": .string(issuer), "jwks_uri": .string(issuer + "/keys"),
         "authorization_endpoint": "urn:kubernetes:programmatic_authorization",
         "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
         "claims_supported": ["sub", "iss"], "id_token_signing_alg_values_supported": ["RS256"]]
    }

    public var keySet: JSON {
        let primitives = try? key.publicKey.getKeyPrimitives()
        return ["keys": [[
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": .string(keyID),
            "n": .string(JWT.base64url(Array(primitives?.modulus ?? Data()))), "e": .string(JWT.base64url(Array(primitives?.publicExponent ?? Data()))),
        ]]]
    }
}

/// The base64url of JOSE: no padding.
/// JWTs' unpadded base64url.
public enum JWT {
    public static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64).map(Array.init)
    }
}
