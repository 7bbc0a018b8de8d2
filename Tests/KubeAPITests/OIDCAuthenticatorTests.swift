import Crypto
import Foundation
import KubeModel
import Testing
@testable import KubeAPI

/// ID tokens as kube-apiserver's OIDC authenticator reads them.
struct OIDCAuthenticatorTests {
    struct FixedKeys: OIDCKeySource {
        let jwks: [JSON]
        func keys(issuer: String, refresh: Bool) async -> [JSON] { jwks }
    }

    static let issuerURL = "https://idp.example.com"
    let key = P256.Signing.PrivateKey()

    var jwk: JSON {
        let raw = Array(key.publicKey.rawRepresentation)
        return ["kty": "EC", "crv": "P-256", "kid": "k1", "x": .string(JWT.base64url(Array(raw[..<32]))),
                "y": .string(JWT.base64url(Array(raw[32...])))]
    }

    func token(_ claims: JSON) throws -> String {
        let input = JWT.base64url(JSONCoding.encode(["alg": "ES256", "kid": "k1"] as JSON)) + "." + JWT.base64url(JSONCoding.encode(claims))
        let signature = try key.signature(for: Array(input.utf8))
        return input + "." + JWT.base64url(Array(signature.rawRepresentation))
    }

    func authenticate(_ issuer: OIDCIssuer, _ claims: JSON) async throws -> Authentication {
        let authenticator = OIDCAuthenticator(issuers: { [issuer] }, keys: FixedKeys(jwks: [jwk]))
        return await authenticator.authenticate(Credentials(clientCertificate: nil, bearerToken: try token(claims)))
    }

    static func claims(_ extra: [String: JSON] = [:]) -> JSON {
        var claims: [String: JSON] = ["iss": .string(issuerURL), "aud": ["other", "k8s"], "sub": "u-1",
                                      "exp": .int(Int64(Date().timeIntervalSince1970) + 300)]
        claims.merge(extra) { $1 }
        return .object(claims)
    }

    @Test func usernamesTakeKubeAPIServersDefaultPrefix() async throws {
        let sub = OIDCIssuer(issuerURL: Self.issuerURL, clientID: "k8s")
        #expect(try await authenticate(sub, Self.claims()) == .user(UserInfo(name: "https://idp.example.com#u-1", groups: ["system:authenticated"])))
        let bare = OIDCIssuer(issuerURL: Self.issuerURL, clientID: "k8s", usernamePrefix: "-", groupsClaim: "roles", groupsPrefix: "idp:")
        #expect(try await authenticate(bare, Self.claims(["roles": "ops"]))
                == .user(UserInfo(name: "u-1", groups: ["idp:ops", "system:authenticated"])))
        let email = OIDCIssuer(issuerURL: Self.issuerURL, clientID: "k8s", usernameClaim: "email")
        #expect(try await authenticate(email, Self.claims(["email": "a@example.com"]))
                == .user(UserInfo(name: "a@example.com", groups: ["system:authenticated"])))
    }

    @Test func tokensThatDoNotSatisfyTheProviderAreRejected() async throws {
        let issuer = OIDCIssuer(issuerURL: Self.issuerURL, clientID: "k8s", requiredClaims: ["hd": "example.com"])
        #expect(try await authenticate(issuer, Self.claims()) == .rejected)
        #expect(try await authenticate(issuer, Self.claims(["hd": "example.com"])) != .rejected)
        #expect(try await authenticate(issuer, Self.claims(["hd": "example.com", "aud": "k9s"])) == .rejected)
        #expect(try await authenticate(issuer, Self.claims(["hd": "example.com", "exp": 1000])) == .rejected)
        #expect(try await authenticate(issuer, Self.claims(["hd": "example.com", "iss": "https://elsewhere"])) == .noCredentials)
    }
}
