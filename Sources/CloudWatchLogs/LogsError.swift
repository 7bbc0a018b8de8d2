/// An error as CloudWatch Logs sends it: its code (`__type`) and message.
public struct LogsError: Error, Equatable, Sendable {
    public let code: String
    public let message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func invalidParameter(_ message: String) -> LogsError { LogsError("InvalidParameterException", message) }
    public static let noSuchGroup = LogsError("ResourceNotFoundException", "The specified log group does not exist.")
    public static let noSuchStream = LogsError("ResourceNotFoundException", "The specified log stream does not exist.")
    public static let groupExists = LogsError("ResourceAlreadyExistsException", "The specified log group already exists")
    public static let streamExists = LogsError("ResourceAlreadyExistsException", "The specified log stream already exists")

    /// The wording of the service's request validation: `1 validation error detected: Value 'x' at 'field' failed …`.
    public static func validation(_ value: String, at field: String, _ constraint: String) -> LogsError {
        LogsError("InvalidParameterException",
                  "1 validation error detected: Value '\(value)' at '\(field)' failed to satisfy constraint: \(constraint)")
    }
}
