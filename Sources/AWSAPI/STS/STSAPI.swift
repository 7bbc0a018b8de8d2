import Auth

/// AWS STS over the query protocol: `GetCallerIdentity`.
public struct STSAPI: AWSService {
    public let signingName = "sts"
    public static let namespace = "https://sts.amazonaws.com/doc/2011-06-15/"
    public let wireProtocol = WireProtocol.query(namespace: STSAPI.namespace)
    public let signatureErrors = SignatureErrorCodes.query

    public init() {}

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        let parameters = request.queryParameters
        switch parameters["Action"] {
        case "GetCallerIdentity":
            let identity = request.caller.identity
            return result("GetCallerIdentity", requestId: request.requestId, [
                XMLElement("Arn", identity.arn),
                XMLElement("UserId", identity.userId),
                XMLElement("Account", identity.account),
            ])
        case let action:
            throw AWSError(code: "InvalidAction",
                           message: "Could not find operation \(action ?? "") for version \(parameters["Version"] ?? "NO_VERSION_SPECIFIED")",
                           status: 400)
        }
    }

    public func awsError(for error: any Error) -> AWSError? {
        error as? AWSError
    }

    /// `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…`, the query protocol's envelope.
    private func result(_ action: String, requestId: String, _ members: [XMLElement]) -> AWSResponse {
        .xml(XMLElement("\(action)Response", attributes: [("xmlns", Self.namespace)], [
            XMLElement("\(action)Result", members),
            XMLElement("ResponseMetadata", [XMLElement("RequestId", requestId)]),
        ]))
    }
}
