/// An error as the EKS API reports it: the exception's name, HTTP status,
/// message, and the resource names EKS puts beside the message.
public struct EKSError: Error, Equatable, Sendable {
    public let code: String
    public let status: Int
    public let message: String
    public var clusterName: String?
    public var nodegroupName: String?
    public var addonName: String?

    public init(_ code: String, status: Int, _ message: String, clusterName: String? = nil, nodegroupName: String? = nil,
                addonName: String? = nil) {
        self.code = code
        self.status = status
        self.message = message
        self.clusterName = clusterName
        self.nodegroupName = nodegroupName
        self.addonName = addonName
    }

    /// The same error, naming the add-on it concerns.
    public func about(addon: String) -> EKSError {
        var error = self
        error.addonName = addon
        return error
    }

    public static func invalidParameter(_ message: String, cluster: String? = nil, nodegroup: String? = nil) -> EKSError {
        EKSError("InvalidParameterException", status: 400, message, clusterName: cluster, nodegroupName: nodegroup)
    }

    public static func invalidRequest(_ message: String, cluster: String? = nil, nodegroup: String? = nil) -> EKSError {
        EKSError("InvalidRequestException", status: 400, message, clusterName: cluster, nodegroupName: nodegroup)
    }

    public static func inUse(_ message: String, cluster: String? = nil, nodegroup: String? = nil) -> EKSError {
        EKSError("ResourceInUseException", status: 409, message, clusterName: cluster, nodegroupName: nodegroup)
    }

    public static func notFound(_ message: String, cluster: String? = nil, nodegroup: String? = nil) -> EKSError {
        EKSError("ResourceNotFoundException", status: 404, message, clusterName: cluster, nodegroupName: nodegroup)
    }

    public static func clusterNotFound(_ name: String) -> EKSError {
        notFound("No cluster found for name: \(name).", cluster: name)
    }

    public static func nodegroupNotFound(_ name: String, cluster: String) -> EKSError {
        notFound("No node group found for name: \(name).", cluster: cluster, nodegroup: name)
    }

    /// For the tagging operations, which use the generic REST errors.
    public static func badRequest(_ message: String) -> EKSError {
        EKSError("BadRequestException", status: 400, message)
    }

    public static func tagTargetNotFound(_ arn: String) -> EKSError {
        EKSError("NotFoundException", status: 404, "Resource \(arn) not found")
    }
}
