import Auth

/// AWS STS over the query protocol: `GetCallerIdentity` and `AssumeRole`.
public struct STSAPI: AWSService {
    public let signingName = "sts"
    public static let namespace = "https://sts.amazonaws.com/doc/2011-06-15/"
    public let wireProtocol = WireProtocol.query(namespace: STSAPI.namespace)
    public let signatureErrors = SignatureErrorCodes.query

    private let iam: IAMService?
    private let webIdentities: WebIdentityVerifier

    /// - Parameter webIdentities: verifies the tokens `AssumeRoleWithWebIdentity` is given (service-account
    ///   tokens of Skiff's clusters).
    public init(iam: IAMService? = nil, webIdentities: @escaping WebIdentityVerifier = { _ in nil }) {
        self.iam = iam
        self.webIdentities = webIdentities
    }

    public func acceptsUnsigned(_ request: SignableRequest) -> Bool {
        guard iam != nil, request.header("authorization") == nil, !request.queryItems.contains(where: { $0.name == "X-Amz-Algorithm" }) else {
            return false
        }
        let form = request.method == "POST" ? SignableRequestForm.decode(request.body) : []
        return (request.queryItems + form).contains { $0.name == "Action" && $0.value == "AssumeRoleWithWebIdentity" }
    }

    public func trailCall(_ request: AWSRequest) -> TrailCall? { .query(request) }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        let parameters = request.queryParameters
        let action = parameters["Action"] ?? ""
        func result(_ members: [XMLElement]) -> AWSResponse {
            QueryEnvelope.result(action, namespace: Self.namespace, requestId: request.requestId, members)
        }
        switch action {
        case "GetCallerIdentity":
            let identity = request.caller.identity
            return result([
                XMLElement("Arn", identity.arn),
                XMLElement("UserId", identity.userId),
                XMLElement("Account", identity.account),
            ])
        case "AssumeRoleWithWebIdentity" where iam != nil:
            guard let roleArn = parameters["RoleArn"], let sessionName = parameters["RoleSessionName"],
                  let token = parameters["WebIdentityToken"] else {
                throw AWSError(code: "ValidationError", message: "1 validation error detected: RoleArn, RoleSessionName and WebIdentityToken must not be null",
                               status: 400)
            }
            let (session, claims, provider) = try await iam!.assumeRoleWithWebIdentity(
                roleArn: roleArn, sessionName: sessionName, token: token, durationSeconds: try parameters.int("DurationSeconds"),
                verify: webIdentities)
            return result(Self.session(session).filter { $0.name != "PackedPolicySize" } + [
                XMLElement("SubjectFromWebIdentityToken", claims.subject),
                XMLElement("Audience", claims.audiences.first(where: provider.clientIDs.contains) ?? ""),
                XMLElement("Provider", provider.url),
            ])
        case "AssumeRole" where iam != nil:
            guard let roleArn = parameters["RoleArn"], let sessionName = parameters["RoleSessionName"] else {
                throw AWSError(code: "ValidationError", message: "1 validation error detected: RoleArn and RoleSessionName must not be null", status: 400)
            }
            let session = try await iam!.assumeRole(caller: request.caller.identity, roleArn: roleArn, sessionName: sessionName,
                                                    durationSeconds: try parameters.int("DurationSeconds"), externalId: parameters["ExternalId"])
            return result(Self.session(session))
        default:
            throw QueryEnvelope.unknownAction(parameters)
        }
    }

    public func awsError(for error: any Error) -> AWSError? {
        switch error {
        case let error as AWSError: error
        case let error as IAMError: AWSError(error)
        default: nil
        }
    }

    static func session(_ session: SessionCredentials) -> [XMLElement] {
        [
            XMLElement("Credentials", [
                XMLElement("AccessKeyId", session.accessKeyId), XMLElement("SecretAccessKey", session.secretAccessKey),
                XMLElement("SessionToken", session.sessionToken), XMLElement("Expiration", QueryEnvelope.date(session.expiration)),
            ]),
            XMLElement("AssumedRoleUser", [XMLElement("AssumedRoleId", session.assumedRoleId), XMLElement("Arn", session.arn)]),
            XMLElement("PackedPolicySize", "0"),
        ]
    }
}
