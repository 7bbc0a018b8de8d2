/// An error as EC2 reports it: a code such as `InvalidVpcID.NotFound` and a message.
public struct EC2Error: Error, Equatable, Sendable {
    public let code: String
    public let message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func notFound(_ kind: String, _ id: String) -> EC2Error {
        switch kind {
        case "vpc": EC2Error("InvalidVpcID.NotFound", "The vpc ID '\(id)' does not exist")
        case "subnet": EC2Error("InvalidSubnetID.NotFound", "The subnet ID '\(id)' does not exist")
        default: EC2Error("InvalidGroup.NotFound", "The security group '\(id)' does not exist")
        }
    }

    public static func missingParameter(_ name: String) -> EC2Error {
        EC2Error("MissingParameter", "The request must contain the parameter \(name)")
    }

    public static func invalidValue(_ value: String, parameter: String) -> EC2Error {
        EC2Error("InvalidParameterValue", "Value (\(value)) for parameter \(parameter) is invalid.")
    }
}
