import Auth

/// How a service puts errors on the wire.
public enum WireProtocol: Sendable {
    /// `x-amzn-ErrorType` header and a JSON body with `message` (EKS).
    case restJSON
    /// `<ErrorResponse><Error>…` in the service's namespace (STS).
    case query(namespace: String)
    /// `<Response><Errors><Error>…` (EC2).
    case ec2
    /// AWS's JSON protocol: `X-Amz-Target` names the operation, errors are `{"__type": …, "message": …}`
    /// (CloudWatch Logs, KMS, CloudTrail).
    case json

    public func render(_ error: AWSError, requestId: String) -> AWSResponse {
        switch self {
        case .restJSON:
            var body: [String: String] = error.fields
            body["message"] = error.message
            let json = (try? WireJSON.encoder.encode(body)).map(Array.init) ?? Array("{}".utf8)
            return AWSResponse(status: error.status,
                               headers: [("Content-Type", "application/json"), ("x-amzn-ErrorType", error.code)],
                               body: json)
        case .query(let namespace):
            return .xml(XMLElement("ErrorResponse", attributes: [("xmlns", namespace)], [
                XMLElement("Error", [
                    XMLElement("Type", error.senderFault ? "Sender" : "Receiver"),
                    XMLElement("Code", error.code),
                    XMLElement("Message", error.message),
                ]),
                XMLElement("RequestId", requestId),
            ]), status: error.status)
        case .json:
            var body: [String: String] = error.fields
            body["__type"] = error.code
            body["message"] = error.message
            let json = (try? WireJSON.encoder.encode(body)).map(Array.init) ?? Array("{}".utf8)
            return AWSResponse(status: error.status, headers: [("Content-Type", "application/x-amz-json-1.1")], body: json)
        case .ec2:
            return .xml(XMLElement("Response", [
                XMLElement("Errors", [XMLElement("Error", [XMLElement("Code", error.code), XMLElement("Message", error.message)])]),
                XMLElement("RequestID", requestId),
            ]), status: error.status)
        }
    }
}

/// One AWS service behind the endpoint, chosen by the signing name in the request's credential scope.
public protocol AWSService: Sendable {
    /// The SigV4 signing name: `eks`, `sts`, `ec2`.
    var signingName: String { get }
    var wireProtocol: WireProtocol { get }
    var signatureErrors: SignatureErrorCodes { get }
    /// Answers an authenticated request; throws `AWSError` (or a domain error it knows) for refusals.
    func handle(_ request: AWSRequest) async throws -> AWSResponse
    /// Turns a domain error into the service's error shape; nil for errors it does not know.
    func awsError(for error: any Error) -> AWSError?
    /// Whether this unsigned request is one of the service's calls that need no credentials
    /// (STS's `AssumeRoleWithWebIdentity`, which proves itself with its token).
    func acceptsUnsigned(_ request: SignableRequest) -> Bool
}

extension AWSService {
    public func acceptsUnsigned(_ request: SignableRequest) -> Bool { false }
}
