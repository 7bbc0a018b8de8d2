import Auth
import EKS
import Foundation

/// Amazon EKS Auth over rest-json: `AssumeRoleForPodIdentity`, which the EKS Pod Identity Agent calls with
/// a pod's service-account token (audience `pods.eks.amazonaws.com`) to get its association's role credentials.
public struct EKSAuthAPI: AWSService {
    public let signingName = "eks-auth"
    public let wireProtocol = WireProtocol.restJSON
    public let signatureErrors = SignatureErrorCodes.json
    public static let audience = "pods.eks.amazonaws.com"

    /// The namespace and name of the service account whose token the cluster signed for `audience`.
    public typealias ServiceAccountOfToken = @Sendable (_ cluster: String, _ token: String, _ audience: String) async -> (namespace: String, name: String)?

    private let eks: EKSService
    private let iam: IAMService
    private let serviceAccount: ServiceAccountOfToken

    public init(eks: EKSService, iam: IAMService, serviceAccount: @escaping ServiceAccountOfToken) {
        self.eks = eks
        self.iam = iam
        self.serviceAccount = serviceAccount
    }

    private static let route = RestRoute("POST", "/clusters/{clusterName}/assume-role-for-pod-identity", "AssumeRoleForPodIdentity")

    public func trailCall(_ request: AWSRequest) -> TrailCall? {
        Self.route.match(method: request.method, rawPath: request.rawPath).map { .json("AssumeRoleForPodIdentity", body: request.body, extra: $0) }
    }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        guard let path = Self.route.match(method: request.method, rawPath: request.rawPath) else {
            throw AWSError(code: "UnknownOperationException", message: "No EKS Auth operation at \(request.method) \(request.rawPath).", status: 404)
        }
        let call = RestCall(request: request, path: path)
        struct Input: Decodable { var token: String }
        let clusterName = call.pathParameter("clusterName")
        let token = try call.body(Input.self).token
        _ = try await eks.describeCluster(name: clusterName)
        guard let account = await serviceAccount(clusterName, token, Self.audience) else {
            throw AWSError(code: "InvalidTokenException", message: "Failed to validate the token: it is invalid, expired, or not for \(Self.audience).",
                           status: 400)
        }
        guard let association = try await eks.podIdentityAssociation(clusterName: clusterName, namespace: account.namespace,
                                                                     serviceAccount: account.name) else {
            throw AWSError(code: "ResourceNotFoundException",
                           message: "No Pod Identity Association found for service account \(account.namespace)/\(account.name).", status: 404)
        }
        let session: SessionCredentials
        do {
            session = try await iam.assumeRole(asService: Self.audience, roleArn: association.roleArn,
                                               sessionName: "eks-\(clusterName)-\(account.name)-\(UUID().uuidString.prefix(8).lowercased())")
        } catch let error as IAMError where error.code == "AccessDenied" {
            throw AWSError(code: "AccessDeniedException", message: error.message, status: 400)
        }
        struct Output: Encodable {
            struct Subject: Encodable { let namespace: String; let serviceAccount: String }
            struct Association: Encodable { let associationArn: String; let associationId: String }
            struct RoleUser: Encodable { let arn: String; let assumeRoleId: String }
            struct Credentials: Encodable { let sessionToken: String; let secretAccessKey: String; let accessKeyId: String; let expiration: Date }
            let subject: Subject
            let audience: String
            let podIdentityAssociation: Association
            let assumedRoleUser: RoleUser
            let credentials: Credentials
        }
        return try .json(Output(
            subject: .init(namespace: account.namespace, serviceAccount: account.name), audience: Self.audience,
            podIdentityAssociation: .init(associationArn: association.associationArn, associationId: association.associationId),
            assumedRoleUser: .init(arn: session.arn, assumeRoleId: session.assumedRoleId),
            credentials: .init(sessionToken: session.sessionToken, secretAccessKey: session.secretAccessKey,
                               accessKeyId: session.accessKeyId, expiration: session.expiration)))
    }

    public func awsError(for error: any Error) -> AWSError? {
        switch error {
        case let error as AWSError: error
        case let error as EKSError: AWSError(error)
        case let error as IAMError: AWSError(error)
        default: nil
        }
    }
}
