import _CryptoExtras
import Crypto
import Foundation
import KubeModel

/// Where an issuer's signing keys come from: its JWKS (found through its discovery document). `refresh`
/// asks for a fresh copy, when a token names a key the last one did not have.
public protocol OIDCKeySource: Sendable {
    func keys(issuer: String, refresh: Bool) async -> [JSON]
}

/// ID tokens from the cluster's OIDC identity providers: signed (RS256 or ES256) by a key of the issuer's JWKS,
/// `iss` the issuer, `aud` the client ID, unexpired, with the required claims; the user and groups come from the
/// configured claims with their prefixes, as kube-apiserver's OIDC authenticator maps them.
public struct OIDCAuthenticator: Authenticator {
    let issuers: @Sendable () -> [OIDCIssuer]
    let keys: any OIDCKeySource
    let now: @Sendable () -> Date

    public init(issuers: @escaping @Sendable () -> [OIDCIssuer], keys: any OIDCKeySource, now: @escaping @Sendable () -> Date = { Date() }) {
        self.issuers = issuers
        self.keys = keys
        self.now = now
    }

    public func authenticate(_ credentials: Credentials) async -> Authentication {
        guard let token = credentials.bearerToken else { return .noCredentials }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = JWT.decode(parts[0]), let header = try? JSONCoding.decode(headerBytes),
              let claimBytes = JWT.decode(parts[1]), let claims = try? JSONCoding.decode(claimBytes),
              let signature = JWT.decode(parts[2]), let issuerURL = claims["iss"]?.string,
              let issuer = issuers().first(where: { $0.issuerURL == issuerURL }) else { return .noCredentials }
        // From here the token is this provider's to judge: whatever is wrong with it rejects it.
        let input = Array("\(parts[0]).\(parts[1])".utf8)
        var verified = Self.verify(input, signature: signature, header: header, keys: await keys.keys(issuer: issuerURL, refresh: false))
        if verified == nil { verified = Self.verify(input, signature: signature, header: header, keys: await keys.keys(issuer: issuerURL, refresh: true)) }
        guard verified == true else { return .rejected }
        guard let user = Self.user(claims, issuer: issuer, now: now()) else { return .rejected }
        return .user(user)
    }

    /// true or false once a key the header names was found; nil when none was.
    static func verify(_ input: [UInt8], signature: [UInt8], header: JSON, keys: [JSON]) -> Bool? {
        let algorithm = header["alg"]?.string ?? ""
        let kid = header["kid"]?.string
        let candidates = keys.filter { key in
            (kid == nil || key["kid"]?.string == kid) && (key["use"]?.string ?? "sig") == "sig"
                && (key["alg"]?.string.map { $0 == algorithm } ?? true)
        }
        guard !candidates.isEmpty else { return nil }
        for key in candidates {
            switch (algorithm, key["kty"]?.string) {
            case ("RS256", "RSA"):
                guard let n = key["n"]?.string.flatMap({ JWT.decode(Substring($0)) }), let e = key["e"]?.string.flatMap({ JWT.decode(Substring($0)) }),
                      let publicKey = try? _RSA.Signing.PublicKey(n: n, e: e) else { continue }
                if publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: input, padding: .insecurePKCS1v1_5) {
                    return true
                }
            case ("ES256", "EC"):
                guard key["crv"]?.string == "P-256", let x = key["x"]?.string.flatMap({ JWT.decode(Substring($0)) }),
                      let y = key["y"]?.string.flatMap({ JWT.decode(Substring($0)) }),
                      let publicKey = try? P256.Signing.PublicKey(rawRepresentation: x + y),
                      let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { continue }
                if publicKey.isValidSignature(ecdsa, for: SHA256.hash(data: input)) { return true }
            default:
                continue
            }
        }
        return false
    }

    /// The user the claims name, or nil when they do not satisfy the provider.
    static func user(_ claims: JSON, issuer: OIDCIssuer, now: Date) -> UserInfo? {
        let audiences = claims["aud"]?.array?.compactMap(\.string) ?? claims["aud"]?.string.map { [$0] } ?? []
        guard audiences.contains(issuer.clientID) else { return nil }
        let time = now.timeIntervalSince1970
        // A minute of clock skew either way, as kube-apiserver allows.
        guard let expires = Self.seconds(claims["exp"]), expires + 60 > time else { return nil }
        if let notBefore = Self.seconds(claims["nbf"]), notBefore - 60 > time { return nil }
        for (claim, value) in issuer.requiredClaims where claims[claim]?.string != value { return nil }
        guard let name = claims[issuer.usernameClaim]?.string, !name.isEmpty else { return nil }
        if issuer.usernameClaim == "email", claims["email_verified"]?.bool == false { return nil }
        let prefix = switch issuer.usernamePrefix {
        case "-": ""
        case .some(let prefix): prefix
        case nil: issuer.usernameClaim == "email" ? "" : issuer.issuerURL + "#"
        }
        var groups: [String] = []
        if let claim = issuer.groupsClaim, let value = claims[claim] {
            groups = (value.array?.compactMap(\.string) ?? value.string.map { [$0] } ?? []).map { issuer.groupsPrefix + $0 }
        }
        return UserInfo(name: prefix + name, groups: groups + ["system:authenticated"])
    }

    static func seconds(_ value: JSON?) -> Double? {
        switch value {
        case .int(let seconds): Double(seconds)
        case .double(let seconds): seconds
        default: nil
        }
    }
}
