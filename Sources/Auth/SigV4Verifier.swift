import Crypto
import Foundation
import Synchronization

/// Why a request's signature was not accepted. Each protocol turns these into
/// its own error codes (`InvalidSignatureException`, `SignatureDoesNotMatch`, …).
public enum SignatureFailure: Error, Equatable {
    /// No `Authorization` header and no presigned query.
    case missingAuthentication
    /// The signature's parts are malformed or missing; the text says which.
    case incompleteSignature(String)
    /// The access key id is not known.
    case unknownAccessKey(String)
    /// The signature does not match the one Skiff computes.
    case signatureMismatch
    /// The request was signed too long ago, or its presigned URL expired.
    case expired(String)
    /// Signed for a region this endpoint does not serve.
    case wrongRegion(String)
    /// A session token that is not the one of these temporary credentials (or one sent with long-term keys).
    case invalidSessionToken
    /// Temporary credentials past their expiration.
    case expiredSessionToken
}

/// What a valid signature establishes.
public struct VerifiedRequest: Sendable, Equatable {
    public let identity: Identity
    public let accessKeyId: String
    public let region: String
    /// The signing name in the credential scope (`eks`, `sts`, `ec2`): how the endpoint routes the request.
    public let service: String
    /// `X-Amz-Date`.
    public var signedAt: Date? = nil
    /// When the temporary credentials that signed it expire.
    public var credentialsExpireAt: Date? = nil

    /// The caller of a service's call that needs no signature: nobody.
    public static func unsigned(service: String) -> VerifiedRequest {
        VerifiedRequest(identity: Identity(account: "", arn: "", userId: ""), accessKeyId: "", region: "", service: service)
    }
}

/// Verifies SigV4 signatures, in the `Authorization` header or in a presigned query string.
public struct SigV4Verifier: Sendable {
    public typealias KeyLookup = @Sendable (String) async throws -> AccessKey?

    /// IAM is global: clients sign its calls for us-east-1 whatever region they use.
    public static let iamSigningRegion = "us-east-1"

    /// How far a header-signed request's date may be from now (AWS allows 15 minutes).
    public static let allowedClockSkew: TimeInterval = 15 * 60

    private let lookup: KeyLookup
    private let region: String?
    private let signingKeys = SigningKeyCache()
    /// `--accept-any-access-key`: a key id Skiff does not know signs, unchecked, as an account's root.
    public let acceptsAnyAccessKey: Bool

    /// - Parameter region: the one region accepted; `nil` accepts any (for verifying published test vectors).
    public init(region: String?, acceptAnyAccessKey: Bool = false, lookup: @escaping KeyLookup) {
        self.region = region
        self.acceptsAnyAccessKey = acceptAnyAccessKey
        self.lookup = lookup
    }

    /// - Parameter presignedLifetime: for a presigned URL, how long after its signing time it is honoured
    ///   whatever its `X-Amz-Expires` says (EKS tokens are good for 15 minutes though `aws eks get-token` presigns for 60 s).
    public func verify(_ request: SignableRequest, now: Date = Date(),
                       presignedLifetime: TimeInterval? = nil) async throws(SignatureFailure) -> VerifiedRequest {
        let parsed = try parse(request, now: now, presignedLifetime: presignedLifetime)
        let key: AccessKey?
        do { key = try await lookup(parsed.accessKeyId) } catch { key = nil }
        guard let key else {
            guard acceptsAnyAccessKey else { throw .unknownAccessKey(parsed.accessKeyId) }
            if let region, parsed.region != region, !(parsed.service == "iam" && parsed.region == Self.iamSigningRegion) {
                throw .wrongRegion(parsed.region)
            }
            return VerifiedRequest(identity: .root(of: Self.account(namedBy: parsed.accessKeyId)), accessKeyId: parsed.accessKeyId,
                                   region: parsed.region, service: parsed.service, signedAt: SigV4.parseAmzDate(parsed.amzDate))
        }

        let canonical = SigV4.canonicalRequest(request, signedHeaders: parsed.signedHeaders,
                                               queryItems: parsed.signedQuery, payloadHash: parsed.payloadHash)
        let toSign = SigV4.stringToSign(amzDate: parsed.amzDate, scope: parsed.scope, canonicalRequest: canonical)
        let signingKey = signingKeys.key(secret: key.secretAccessKey, date: parsed.scopeDate, region: parsed.region, service: parsed.service)
        let expected = SigV4.signature(stringToSign: toSign, key: signingKey)
        guard constantTimeEqual(expected, parsed.signature.lowercased()) else { throw .signatureMismatch }
        if let region, parsed.region != region, !(parsed.service == "iam" && parsed.region == Self.iamSigningRegion) {
            throw .wrongRegion(parsed.region)
        }
        let token = request.header("x-amz-security-token") ?? parsed.signedQuery.first { $0.name == "X-Amz-Security-Token" }?.value
        guard token == key.sessionToken else { throw .invalidSessionToken }
        if let expiresAt = key.expiresAt, expiresAt <= now { throw .expiredSessionToken }
        return VerifiedRequest(identity: key.identity, accessKeyId: key.accessKeyId,
                               region: parsed.region, service: parsed.service, signedAt: SigV4.parseAmzDate(parsed.amzDate),
                               credentialsExpireAt: key.expiresAt)
    }

    private struct ParsedSignature {
        var accessKeyId: String
        var scopeDate: String
        var region: String
        var service: String
        var signedHeaders: [String]
        var signature: String
        var amzDate: String
        var signedQuery: [(name: String, value: String)]
        var payloadHash: String
        var scope: String { "\(scopeDate)/\(region)/\(service)/aws4_request" }
    }

    /// The account an unknown key id signs for under `--accept-any-access-key`: the one a 12-digit id names, else Skiff's default.
    static func account(namedBy accessKeyId: String) -> String {
        accessKeyId.count == 12 && accessKeyId.allSatisfy { ("0"..."9").contains($0) } ? accessKeyId : CredentialStore.defaultAccount
    }

    private func parse(_ request: SignableRequest, now: Date, presignedLifetime: TimeInterval?) throws(SignatureFailure) -> ParsedSignature {
        let query = request.queryItems
        if let authorization = request.header("authorization") {
            return try parseHeader(authorization, request: request, query: query, now: now)
        }
        if query.contains(where: { $0.name == "X-Amz-Algorithm" }) {
            return try parsePresigned(request: request, query: query, now: now, lifetime: presignedLifetime)
        }
        throw .missingAuthentication
    }

    private func parseHeader(_ authorization: String, request: SignableRequest,
                             query: [(name: String, value: String)], now: Date) throws(SignatureFailure) -> ParsedSignature {
        guard authorization.hasPrefix(SigV4.algorithm + " ") else {
            throw .incompleteSignature("Authorization header requires '\(SigV4.algorithm)' as its algorithm.")
        }
        // Byte by byte: the header is ASCII, and Character-wise splitting costs more than the HMACs.
        var fields: [String: String] = [:]
        let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        for part in authorization.utf8.dropFirst(SigV4.algorithm.utf8.count + 1).split(separator: UInt8(ascii: ",")) {
            guard let first = part.firstIndex(where: { !isSpace($0) }), let last = part.lastIndex(where: { !isSpace($0) }),
                  let equals = part[first...last].firstIndex(of: UInt8(ascii: "=")) else { continue }
            fields[String(decoding: part[first..<equals], as: UTF8.self)] = String(decoding: part[part.index(after: equals)...last], as: UTF8.self)
        }
        guard let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"],
              let signature = fields["Signature"] else {
            throw .incompleteSignature("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.")
        }
        guard let amzDate = request.header("x-amz-date") else {
            throw .incompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        }
        let scope = try parseCredential(credential)
        try checkDate(amzDate, scopeDate: scope.date)
        if let signedAt = SigV4.parseAmzDate(amzDate), abs(now.timeIntervalSince(signedAt)) > Self.allowedClockSkew {
            let bound = now.addingTimeInterval(signedAt < now ? -Self.allowedClockSkew : Self.allowedClockSkew)
            throw .expired("Signature expired: \(amzDate) is now \(signedAt < now ? "earlier" : "later") than "
                + "\(SigV4.formatAmzDate(bound)) (\(SigV4.formatAmzDate(now)) \(signedAt < now ? "-" : "+") 15 min.)")
        }
        let headers = signedHeaders.split(separator: ";").map { $0.lowercased() }
        try checkSignedHeaders(headers, request: request)
        return ParsedSignature(accessKeyId: scope.accessKeyId, scopeDate: scope.date, region: scope.region,
                               service: scope.service, signedHeaders: headers, signature: signature,
                               amzDate: amzDate, signedQuery: query, payloadHash: try payloadHash(request))
    }

    private func parsePresigned(request: SignableRequest, query: [(name: String, value: String)],
                                now: Date, lifetime: TimeInterval?) throws(SignatureFailure) -> ParsedSignature {
        func value(_ name: String) throws(SignatureFailure) -> String {
            guard let value = query.first(where: { $0.name == name })?.value else {
                throw .incompleteSignature("AWS query-string parameters must include '\(name)'.")
            }
            return value
        }
        guard try value("X-Amz-Algorithm") == SigV4.algorithm else {
            throw .incompleteSignature("X-Amz-Algorithm only supports '\(SigV4.algorithm)'.")
        }
        let scope = try parseCredential(try value("X-Amz-Credential"))
        let amzDate = try value("X-Amz-Date")
        try checkDate(amzDate, scopeDate: scope.date)
        let signature = try value("X-Amz-Signature")
        let headers = try value("X-Amz-SignedHeaders").split(separator: ";").map { $0.lowercased() }
        try checkSignedHeaders(headers, request: request)
        if let lifetime {
            guard let signedAt = SigV4.parseAmzDate(amzDate) else { throw .incompleteSignature("Date must be in ISO-8601 'basic format'.") }
            if now > signedAt.addingTimeInterval(lifetime) || signedAt > now.addingTimeInterval(Self.allowedClockSkew) {
                throw .expired("Request has expired.")
            }
        } else if let expires = query.first(where: { $0.name == "X-Amz-Expires" })?.value {
            guard let seconds = Int(expires), (1...604_800).contains(seconds),
                  let signedAt = SigV4.parseAmzDate(amzDate) else {
                throw .incompleteSignature("X-Amz-Expires must be a whole number of seconds from 1 to 604800.")
            }
            if now > signedAt.addingTimeInterval(TimeInterval(seconds)) {
                throw .expired("Request has expired.")
            }
        }
        return ParsedSignature(accessKeyId: scope.accessKeyId, scopeDate: scope.date, region: scope.region,
                               service: scope.service, signedHeaders: headers, signature: signature,
                               amzDate: amzDate, signedQuery: query.filter { $0.name != "X-Amz-Signature" },
                               payloadHash: try payloadHash(request))
    }

    private func parseCredential(_ credential: String) throws(SignatureFailure)
        -> (accessKeyId: String, date: String, region: String, service: String) {
        let parts = credential.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard parts.count == 5, parts[4] == "aws4_request", !parts[0].isEmpty else {
            throw .incompleteSignature("Credential should be scoped to a valid region, service and 'aws4_request': '\(credential)'.")
        }
        return (parts[0], parts[1], parts[2], parts[3])
    }

    private func checkDate(_ amzDate: String, scopeDate: String) throws(SignatureFailure) {
        guard SigV4.parseAmzDate(amzDate) != nil else {
            throw .incompleteSignature("Date must be in ISO-8601 'basic format'. Got '\(amzDate)'.")
        }
        guard amzDate.hasPrefix(scopeDate) else {
            throw .incompleteSignature("Credential should be scoped to a valid date: '\(scopeDate)' does not match '\(amzDate)'.")
        }
    }

    private func checkSignedHeaders(_ headers: [String], request: SignableRequest) throws(SignatureFailure) {
        guard headers.contains("host") else {
            throw .incompleteSignature("'Host' must be a 'SignedHeader' in the AWS Authorization.")
        }
        for name in headers where request.headerValues(name).isEmpty {
            throw .incompleteSignature("Signed header '\(name)' is missing from the request.")
        }
    }

    /// The payload hash the client declared, checked against the body, or the body's own hash
    /// (presigned URLs too: only S3 presigns with `UNSIGNED-PAYLOAD`).
    private func payloadHash(_ request: SignableRequest) throws(SignatureFailure) -> String {
        let actual = SigV4.hexSHA256(request.body)
        guard let declared = request.header("x-amz-content-sha256") else { return actual }
        if declared == "UNSIGNED-PAYLOAD" { return declared }
        guard declared.lowercased() == actual else { throw .signatureMismatch }
        return declared
    }

    /// Derived signing keys, which change only with the day, so that a request costs two HMACs instead of six
    /// (as AWS's SDKs cache them). Keyed by the secret itself: a rotated or deleted key's entry is never looked up again.
    final class SigningKeyCache: Sendable {
        private struct Scope: Hashable {
            let secret: String, date: String, region: String, service: String
        }
        private static let capacity = 4096
        private let keys = Mutex<[Scope: SymmetricKey]>([:])

        func key(secret: String, date: String, region: String, service: String) -> SymmetricKey {
            let scope = Scope(secret: secret, date: date, region: region, service: service)
            if let key = keys.withLock({ $0[scope] }) { return key }
            let key = SigV4.signingKey(secret: secret, date: date, region: region, service: service)
            keys.withLock { keys in
                if keys.count >= Self.capacity { keys.removeAll(keepingCapacity: true) }
                keys[scope] = key
            }
            return key
        }
    }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
