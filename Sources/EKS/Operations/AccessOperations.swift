import Foundation
import PKI

/// What a kubeconfig for a cluster's administrator holds.
public struct ClusterAdminAccess: Sendable {
    public let clusterArn: String
    public let endpoint: String
    /// The cluster CA, base64 PEM (`certificate-authority-data`).
    public let certificateAuthorityData: String
    public let clientCertificate: IssuedCertificate
}

extension EKSService {
    /// A new client certificate for the cluster's administrator (`kubernetes-admin` in `system:masters`), signed by its CA.
    public func clusterAdminAccess(name: String) async throws -> ClusterAdminAccess {
        let record = try await read { reader in
            guard let record = try reader.get(ClusterRecord.self, name) else { throw EKSError.clusterNotFound(name) }
            return record
        }
        guard [.ACTIVE, .UPDATING].contains(record.cluster.status) else {
            throw EKSError.invalidRequest("Cluster \(name) is \(record.cluster.status.rawValue); its API server is not up yet.", cluster: name)
        }
        let certificate = try record.certificateAuthority.issueClient(user: "kubernetes-admin", groups: ["system:masters"])
        return ClusterAdminAccess(clusterArn: record.cluster.arn, endpoint: record.endpoint,
                                  certificateAuthorityData: record.certificateAuthority.certificateData,
                                  clientCertificate: certificate)
    }
}
