import Auth
import Foundation
import KubeModel

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
            let json = (try? WireJSON.encode(body)) ?? Array("{}".utf8)
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
            let json = (try? WireJSON.encode(body)) ?? Array("{}".utf8)
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
    /// The call as CloudTrail records it: its operation and parameters; nil for calls that are no management
    /// event (CloudWatch Logs' event reads and writes are data events; Skiff's own calls are not AWS's).
    func trailCall(_ request: AWSRequest) -> TrailCall?
}

/// An operation and its parameters, for CloudTrail.
public struct TrailCall: Sendable {
    public let eventName: String
    /// A JSON object.
    public let parameters: JSON

    public init(_ eventName: String, _ parameters: JSON) {
        self.eventName = eventName
        self.parameters = parameters
    }

    /// The JSON body's members, with `extra` (path parameters) beside them.
    static func json(_ eventName: String, body: [UInt8], extra: [String: String] = [:]) -> TrailCall {
        var members: [String: JSON] = [:]
        if !body.isEmpty, case .object(let object)? = try? JSONCoding.decode(body) { members = object }
        for (key, value) in extra { members[key] = .string(value) }
        return TrailCall(eventName, .object(members))
    }

    /// A query call's parameters, named as CloudTrail names them (`userName` for `UserName`).
    static func query(_ request: AWSRequest) -> TrailCall? {
        let parameters = request.queryParameters
        guard let action = parameters["Action"] else { return nil }
        var members: [String: JSON] = [:]
        for (name, value) in parameters.all where !["Action", "Version"].contains(name) {
            members[name.prefix(1).lowercased() + name.dropFirst()] = .string(value)
        }
        return TrailCall(action, .object(members))
    }
}

extension AWSService {
    public func acceptsUnsigned(_ request: SignableRequest) -> Bool { false }
    public func trailCall(_ request: AWSRequest) -> TrailCall? { nil }
}
