import Auth
import EKS
import VPC

/// An error in the terms every AWS protocol shares: a code, a message, the
/// HTTP status, whose fault it is, and any extra members the service's error
/// shape carries (EKS puts `clusterName` and `nodegroupName` there).
public struct AWSError: Error, Equatable, Sendable {
    public var code: String
    public var message: String
    public var status: Int
    public var senderFault: Bool
    public var fields: [String: String]

    public init(code: String, message: String, status: Int, senderFault: Bool = true, fields: [String: String] = [:]) {
        self.code = code
        self.message = message
        self.status = status
        self.senderFault = senderFault
        self.fields = fields
    }

    public init(_ error: EKSError) {
        var fields: [String: String] = [:]
        fields["clusterName"] = error.clusterName
        fields["nodegroupName"] = error.nodegroupName
        fields["addonName"] = error.addonName
        self.init(code: error.code, message: error.message, status: error.status, senderFault: error.status < 500, fields: fields)
    }

    public init(_ error: EC2Error) {
        // EC2 sends its client errors as 400, except a dry run's "would have succeeded".
        self.init(code: error.code, message: error.message, status: error.code == "DryRunOperation" ? 412 : 400)
    }
}

/// The codes each protocol family uses for a signature it refuses.
public struct SignatureErrorCodes: Sendable {
    public var missing: String
    public var incomplete: String
    public var unknownKey: String
    public var mismatch: String
    public var expiredToken: String

    /// JSON services such as EKS.
    public static let json = SignatureErrorCodes(missing: "MissingAuthenticationTokenException",
                                                 incomplete: "IncompleteSignatureException",
                                                 unknownKey: "UnrecognizedClientException",
                                                 mismatch: "InvalidSignatureException", expiredToken: "ExpiredTokenException")
    /// Query services such as STS.
    public static let query = SignatureErrorCodes(missing: "MissingAuthenticationToken", incomplete: "IncompleteSignature",
                                                  unknownKey: "InvalidClientTokenId", mismatch: "SignatureDoesNotMatch",
                                                  expiredToken: "ExpiredToken")
    /// EC2, which folds key and signature failures into `AuthFailure`.
    public static let ec2 = SignatureErrorCodes(missing: "MissingAuthenticationToken", incomplete: "IncompleteSignature",
                                                unknownKey: "AuthFailure", mismatch: "AuthFailure", expiredToken: "RequestExpired")

    public func error(for failure: SignatureFailure) -> AWSError {
        switch failure {
        case .missingAuthentication:
            AWSError(code: missing, message: "Missing Authentication Token", status: 403)
        case .incompleteSignature(let text):
            AWSError(code: incomplete, message: text, status: 403)
        case .unknownAccessKey:
            AWSError(code: unknownKey, message: unknownKey == "AuthFailure"
                     ? "AWS was not able to validate the provided access credentials"
                     : "The security token included in the request is invalid.", status: 403)
        case .signatureMismatch:
            AWSError(code: mismatch, message: mismatch == "AuthFailure"
                     ? "AWS was not able to validate the provided access credentials"
                     : "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
                     status: 403)
        case .expired(let text):
            AWSError(code: mismatch, message: text, status: 403)
        case .wrongRegion(let region):
            AWSError(code: mismatch, message: "Credential should be scoped to a valid region, not '\(region)'.", status: 403)
        case .invalidSessionToken:
            AWSError(code: unknownKey, message: unknownKey == "AuthFailure"
                     ? "AWS was not able to validate the provided access credentials"
                     : "The security token included in the request is invalid.", status: 403)
        case .expiredSessionToken:
            AWSError(code: expiredToken, message: "The security token included in the request is expired", status: 400)
        }
    }
}
