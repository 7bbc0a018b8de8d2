import Auth
import EKS
import Foundation

/// Skiff's own operations, signed like any AWS request under the signing name `skiff`:
/// `GET /_skiff/clusters/{name}/kubeconfig` returns an administrator's kubeconfig.
public struct SkiffAdminAPI: AWSService {
    public let signingName = "skiff"
    public let wireProtocol = WireProtocol.restJSON
    public let signatureErrors = SignatureErrorCodes.json

    private let eks: EKSService
    private static let route = RestRoute("GET", "/_skiff/clusters/{name}/kubeconfig", "GetKubeconfig")

    public init(eks: EKSService) {
        self.eks = eks
    }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        guard let path = Self.route.match(method: request.method, rawPath: request.rawPath), let name = path["name"] else {
            throw AWSError(code: "UnknownOperationException", message: "No Skiff operation at \(request.method) \(request.rawPath).",
                           status: 404)
        }
        let access = try await eks.clusterAdminAccess(name: name)
        return AWSResponse(status: 200, headers: [("Content-Type", "application/yaml")], body: Array(Self.kubeconfig(access).utf8))
    }

    public func awsError(for error: any Error) -> AWSError? {
        switch error {
        case let error as AWSError: error
        case let error as EKSError: AWSError(error)
        default: nil
        }
    }

    /// A kubeconfig named after the cluster ARN, as `aws eks update-kubeconfig` names it.
    static func kubeconfig(_ access: ClusterAdminAccess) -> String {
        let arn = access.clusterArn
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - cluster:
                certificate-authority-data: \(access.certificateAuthorityData)
                server: \(access.endpoint)
              name: \(arn)
            contexts:
            - context:
                cluster: \(arn)
                user: \(arn)
              name: \(arn)
            current-context: \(arn)
            preferences: {}
            users:
            - name: \(arn)
              user:
                client-certificate-data: \(base64(access.clientCertificate.certificatePEM))
                client-key-data: \(base64(access.clientCertificate.privateKeyPEM))

            """
    }
}

