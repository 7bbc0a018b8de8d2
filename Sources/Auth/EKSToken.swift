import Foundation

/// Why a `k8s-aws-v1.` bearer token proves nothing; the text goes to the cluster's authenticator log.
public enum EKSTokenFailure: Error, Equatable, CustomStringConvertible {
    /// Not base64url of a presigned STS URL.
    case malformed(String)
    /// A presigned URL for something other than `GetCallerIdentity`.
    case wrongAction(String)
    /// `x-k8s-aws-id` is not among the signed headers: the token names no cluster.
    case noClusterId
    /// The SigV4 check failed (for a token of another cluster, as a signature mismatch: the cluster name is signed).
    case signature(SignatureFailure)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed token: \(why)"
        case .wrongAction(let action): "the token's request is \(action.isEmpty ? "no action" : action), not GetCallerIdentity"
        case .noClusterId: "the token does not sign the x-k8s-aws-id header"
        case .signature(.expired): "the token has expired (older than 15 minutes)"
        case .signature(.signatureMismatch): "signature mismatch: the token is tampered with, or for another cluster"
        case .signature(.unknownAccessKey(let id)): "unknown access key id \(id)"
        case .signature(.expiredSessionToken): "the temporary credentials that signed the token have expired"
        case .signature(.invalidSessionToken): "the token's session token is not that of its credentials"
        case .signature(let failure): "invalid signature: \(failure)"
        }
    }
}

/// Verifies the tokens `aws eks get-token` builds: `k8s-aws-v1.` + base64url of a presigned STS
/// `GetCallerIdentity` URL whose signed headers include `x-k8s-aws-id: CLUSTER`. Where EKS sends the URL to
/// STS, Skiff checks its signature itself, against the same access keys that sign its AWS API calls.
public struct EKSTokenVerifier: Sendable {
    public static let prefix = "k8s-aws-v1."
    /// How long a token is honoured after it was signed, as the aws-iam-authenticator allows.
    public static let lifetime: TimeInterval = 15 * 60

    private let verifier: SigV4Verifier
    private let generation: @Sendable () -> Int

    /// - Parameter revocationGeneration: changes when a key or user is deleted (`CredentialStore.revocationGeneration`),
    ///   so that tokens remembered as verified are checked again.
    public init(verifier: SigV4Verifier, revocationGeneration: @escaping @Sendable () -> Int = { 0 }) {
        self.verifier = verifier
        self.generation = revocationGeneration
    }

    public var revocationGeneration: Int { generation() }

    /// Whether `token` is meant for this verifier (others go to the next authenticator).
    public static func claims(_ token: String) -> Bool {
        token.hasPrefix(prefix)
    }

    public func verify(_ token: String, clusterName: String, now: Date = Date()) async throws(EKSTokenFailure) -> VerifiedRequest {
        let request = try Self.presignedRequest(token, clusterName: clusterName)
        let verified: VerifiedRequest
        do {
            verified = try await verifier.verify(request, now: now, presignedLifetime: Self.lifetime)
        } catch {
            throw .signature(error)
        }
        guard verified.service == "sts" else { throw .malformed("signed for \(verified.service), not sts") }
        return verified
    }

    /// The request the token's URL describes, with the `x-k8s-aws-id` header a client would send for `clusterName`.
    static func presignedRequest(_ token: String, clusterName: String) throws(EKSTokenFailure) -> SignableRequest {
        guard claims(token) else { throw .malformed("no \(prefix) prefix") }
        var encoded = String(token.dropFirst(prefix.count)).replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        encoded += String(repeating: "=", count: (4 - encoded.count % 4) % 4)
        guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8),
              let url = URLComponents(string: text), let host = url.host, ["http", "https"].contains(url.scheme ?? "") else {
            throw .malformed("not base64url of a URL")
        }
        let rawQuery = url.percentEncodedQuery ?? ""
        let query = SignableRequest.decodeForm(rawQuery, plusIsSpace: false)
        let action = query.first { $0.name == "Action" }?.value ?? ""
        guard action == "GetCallerIdentity" else { throw .wrongAction(action) }
        let signedHeaders = query.first { $0.name == "X-Amz-SignedHeaders" }?.value.lowercased().split(separator: ";") ?? []
        guard signedHeaders.contains("x-k8s-aws-id") else { throw .noClusterId }
        let authority = url.port.map { "\(host):\($0)" } ?? host
        return SignableRequest(method: "GET", rawPath: url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath,
                               rawQuery: rawQuery, headers: [(name: "host", value: authority), (name: "x-k8s-aws-id", value: clusterName)],
                               body: [])
    }
}

extension EKSTokenVerifier {
    /// A token as `aws eks get-token --cluster-name CLUSTER` builds it, signed by `signer` (signing name `sts`)
    /// for the STS endpoint at `endpoint`.
    public static func token(signer: SigV4Signer, endpoint: URL, clusterName: String, date: Date = Date()) -> String {
        var components = URLComponents(url: endpoint, resolvingAgainstBaseURL: false)!
        components.path = "/"
        components.percentEncodedQuery = "Action=GetCallerIdentity&Version=2011-06-15"
        let url = signer.presign(url: components.url!, headers: [("x-k8s-aws-id", clusterName)], expires: 60, date: date)
        return prefix + Data(url.absoluteString.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
