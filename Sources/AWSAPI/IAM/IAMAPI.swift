import Auth
import Foundation

/// The query protocol's success envelope: `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…`.
enum QueryEnvelope {
    static func result(_ action: String, namespace: String, requestId: String, _ members: [XMLElement]) -> AWSResponse {
        .xml(XMLElement("\(action)Response", attributes: [("xmlns", namespace)], [
            XMLElement("\(action)Result", members),
            XMLElement("ResponseMetadata", [XMLElement("RequestId", requestId)]),
        ]))
    }

    /// An action with no result members: only the metadata.
    static func empty(_ action: String, namespace: String, requestId: String) -> AWSResponse {
        .xml(XMLElement("\(action)Response", attributes: [("xmlns", namespace)], [
            XMLElement("ResponseMetadata", [XMLElement("RequestId", requestId)]),
        ]))
    }

    /// A list as the query protocol writes one: `<Name><member>…</member>…</Name>`.
    static func members<T>(_ name: String, _ items: [T], _ item: (T) -> [XMLElement]) -> XMLElement {
        XMLElement(name, items.map { XMLElement("member", item($0)) })
    }

    static func date(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    static func unknownAction(_ parameters: QueryParameters) -> AWSError {
        let action = parameters["Action"] ?? ""
        return AWSError(code: "InvalidAction",
                        message: "Could not find operation \(action) for version \(parameters["Version"] ?? "NO_VERSION_SPECIFIED")",
                        status: 400)
    }
}

extension AWSError {
    init(_ error: IAMError) {
        self.init(code: error.code, message: error.message, status: error.status)
    }
}

/// AWS IAM over the query protocol: users and access keys, roles (trust policies, attached managed
/// policies), OpenID Connect providers.
public struct IAMAPI: AWSService {
    public let signingName = "iam"
    public static let namespace = "https://iam.amazonaws.com/doc/2010-05-08/"
    public let wireProtocol = WireProtocol.query(namespace: IAMAPI.namespace)
    public let signatureErrors = SignatureErrorCodes.query

    private let iam: IAMService

    public init(iam: IAMService) {
        self.iam = iam
    }

    public func awsError(for error: any Error) -> AWSError? {
        switch error {
        case let error as AWSError: error
        case let error as IAMError: AWSError(error)
        default: nil
        }
    }

    public func trailCall(_ request: AWSRequest) -> TrailCall? { .query(request) }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        let parameters = request.queryParameters
        let account = request.caller.identity.account
        let action = parameters["Action"] ?? ""
        func required(_ name: String) throws -> String {
            guard let value = parameters[name], !value.isEmpty else {
                throw AWSError(code: "ValidationError", message: "1 validation error detected: Value null at '\(name.prefix(1).lowercased() + name.dropFirst())' failed to satisfy constraint: Member must not be null",
                               status: 400)
            }
            return value
        }
        func result(_ members: [XMLElement]) -> AWSResponse {
            QueryEnvelope.result(action, namespace: Self.namespace, requestId: request.requestId, members)
        }
        func done() -> AWSResponse { QueryEnvelope.empty(action, namespace: Self.namespace, requestId: request.requestId) }

        switch action {
        case "CreateUser":
            return result([Self.user(try await iam.createUser(account: account, userName: try required("UserName"), path: parameters["Path"]))])
        case "GetUser":
            guard let name = parameters["UserName"] else {
                // Without a name: the caller, as IAM answers it (a root has no user name of its own).
                let caller = request.caller.identity
                return result([XMLElement("User", [
                    XMLElement("UserId", caller.userId), XMLElement("Arn", caller.arn), XMLElement("CreateDate", QueryEnvelope.date(Date())),
                ])])
            }
            return result([Self.user(try await iam.user(account: account, userName: name))])
        case "ListUsers":
            let users = try await iam.users(account: account, pathPrefix: parameters["PathPrefix"])
            let page = try Self.page(users, parameters, key: \.userName)
            return result([QueryEnvelope.members("Users", page.items) { Self.user($0).children }] + page.marker)
        case "DeleteUser":
            try await iam.deleteUser(account: account, userName: try required("UserName"))
            return done()
        case "CreateAccessKey":
            let key = try await iam.createAccessKey(caller: request.caller.identity, userName: parameters["UserName"])
            return result([XMLElement("AccessKey", [
                XMLElement("UserName", Self.userName(of: key.identity)), XMLElement("AccessKeyId", key.accessKeyId),
                XMLElement("Status", "Active"), XMLElement("SecretAccessKey", key.secretAccessKey),
                XMLElement("CreateDate", QueryEnvelope.date(key.createdAt)),
            ])])
        case "ListAccessKeys":
            let keys = try await iam.accessKeys(caller: request.caller.identity, userName: parameters["UserName"])
            return result([QueryEnvelope.members("AccessKeyMetadata", keys) { key in
                [XMLElement("UserName", Self.userName(of: key.identity)), XMLElement("AccessKeyId", key.accessKeyId),
                 XMLElement("Status", "Active"), XMLElement("CreateDate", QueryEnvelope.date(key.createdAt))]
            }, XMLElement("IsTruncated", "false")])
        case "DeleteAccessKey":
            try await iam.deleteAccessKey(caller: request.caller.identity, userName: parameters["UserName"],
                                          accessKeyId: try required("AccessKeyId"))
            return done()
        case "CreateRole":
            let role = try await iam.createRole(account: account, roleName: try required("RoleName"), path: parameters["Path"],
                                                assumeRolePolicyDocument: try required("AssumeRolePolicyDocument"),
                                                description: parameters["Description"],
                                                maxSessionDuration: try parameters.int("MaxSessionDuration"))
            return result([Self.role(role)])
        case "GetRole":
            return result([Self.role(try await iam.role(account: account, roleName: try required("RoleName")))])
        case "ListRoles":
            let roles = try await iam.roles(account: account, pathPrefix: parameters["PathPrefix"])
            let page = try Self.page(roles, parameters, key: \.roleName)
            return result([QueryEnvelope.members("Roles", page.items) { Self.role($0).children }] + page.marker)
        case "DeleteRole":
            try await iam.deleteRole(account: account, roleName: try required("RoleName"))
            return done()
        case "AttachRolePolicy":
            try await iam.attachRolePolicy(account: account, roleName: try required("RoleName"), policyArn: try required("PolicyArn"))
            return done()
        case "DetachRolePolicy":
            try await iam.detachRolePolicy(account: account, roleName: try required("RoleName"), policyArn: try required("PolicyArn"))
            return done()
        case "ListAttachedRolePolicies":
            let role = try await iam.role(account: account, roleName: try required("RoleName"))
            return result([QueryEnvelope.members("AttachedPolicies", role.attachedPolicyArns) { arn in
                [XMLElement("PolicyName", arn.split(separator: "/").last.map(String.init) ?? arn), XMLElement("PolicyArn", arn)]
            }, XMLElement("IsTruncated", "false")])
        case "CreateOpenIDConnectProvider":
            let provider = try await iam.createOpenIDConnectProvider(account: account, url: try required("Url"),
                                                                     clientIDs: parameters.list("ClientIDList.member"),
                                                                     thumbprints: parameters.list("ThumbprintList.member"))
            return result([XMLElement("OpenIDConnectProviderArn", provider.arn)])
        case "GetOpenIDConnectProvider":
            let provider = try await iam.openIDConnectProvider(arn: try required("OpenIDConnectProviderArn"))
            return result([
                XMLElement("Url", provider.url),
                XMLElement("ClientIDList", provider.clientIDs.map { XMLElement("member", $0) }),
                XMLElement("ThumbprintList", provider.thumbprints.map { XMLElement("member", $0) }),
                XMLElement("CreateDate", QueryEnvelope.date(provider.createdAt)),
            ])
        case "ListOpenIDConnectProviders":
            let providers = try await iam.openIDConnectProviders(account: account)
            return result([QueryEnvelope.members("OpenIDConnectProviderList", providers) { [XMLElement("Arn", $0.arn)] }])
        case "DeleteOpenIDConnectProvider":
            try await iam.deleteOpenIDConnectProvider(arn: try required("OpenIDConnectProviderArn"))
            return done()
        default:
            throw QueryEnvelope.unknownAction(parameters)
        }
    }

    static func userName(of identity: Identity) -> String {
        identity.arn.hasSuffix(":root") ? "root" : (identity.arn.split(separator: "/").last.map(String.init) ?? "")
    }

    static func user(_ user: IAMUser) -> XMLElement {
        XMLElement("User", [
            XMLElement("Path", user.path ?? "/"), XMLElement("UserName", user.userName), XMLElement("UserId", user.identity.userId),
            XMLElement("Arn", user.identity.arn), XMLElement("CreateDate", QueryEnvelope.date(user.createdAt)),
        ])
    }

    static func role(_ role: IAMRole) -> XMLElement {
        // IAM sends policy documents URL-encoded; the SDKs decode them.
        XMLElement("Role", [
            XMLElement("Path", role.path), XMLElement("RoleName", role.roleName), XMLElement("RoleId", role.roleId),
            XMLElement("Arn", role.arn), XMLElement("CreateDate", QueryEnvelope.date(role.createdAt)),
            XMLElement("AssumeRolePolicyDocument", role.assumeRolePolicyDocument.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""),
        ] + XMLElement.optional("Description", role.description) + [XMLElement("MaxSessionDuration", String(role.maxSessionDuration))])
    }

    /// One page of a list call: `MaxItems` (1 to 1000, default 100) after the opaque `Marker`.
    static func page<T>(_ items: [T], _ parameters: QueryParameters, key: (T) -> String) throws -> (items: [T], marker: [XMLElement]) {
        let size = try parameters.int("MaxItems") ?? 100
        guard (1...1000).contains(size) else {
            throw AWSError(code: "ValidationError", message: "1 validation error detected: Value '\(size)' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", status: 400)
        }
        var start = 0
        if let marker = parameters["Marker"] {
            guard let decoded = Data(base64Encoded: marker).flatMap({ String(data: $0, encoding: .utf8) }) else {
                throw AWSError(code: "InvalidInput", message: "Invalid Marker.", status: 400)
            }
            start = items.firstIndex { key($0) >= decoded } ?? items.count
        }
        let end = min(items.count, start + size)
        let truncated = end < items.count
        return (Array(items[start..<end]), [XMLElement("IsTruncated", truncated ? "true" : "false")]
                + (truncated ? [XMLElement("Marker", Data(key(items[end]).utf8).base64EncodedString())] : []))
    }
}
