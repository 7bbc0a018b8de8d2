/// A refusal as the Kubernetes API server reports it: a `Status` object with
/// an HTTP code, a reason (`NotFound`, `AlreadyExists`, `Conflict`, `Invalid`…),
/// a message kubectl prints verbatim, and details.
public struct APIError: Error, Equatable, Sendable {
    public var code: Int
    public var reason: String
    public var message: String
    public var details: JSON?

    public init(code: Int, reason: String, message: String, details: JSON? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var status: JSON {
        var status: JSON = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(message), "reason": .string(reason), "code": .int(Int64(code)),
        ]
        if let details { status["details"] = details }
        return status
    }

    /// `pods "web"`, or `deployments.apps "web"` for a named group.
    package static func qualified(_ resource: String, group: String) -> String {
        group.isEmpty ? resource : "\(resource).\(group)"
    }

    package static func details(name: String, resource: String, group: String) -> JSON {
        var details: JSON = ["name": .string(name), "kind": .string(resource)]
        if !group.isEmpty { details["group"] = .string(group) }
        return details
    }

    public static func notFound(_ resource: String, group: String = "", name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(qualified(resource, group: group)) \"\(name)\" not found",
                 details: details(name: name, resource: resource, group: group))
    }

    public static func alreadyExists(_ resource: String, group: String = "", name: String) -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(qualified(resource, group: group)) \"\(name)\" already exists",
                 details: details(name: name, resource: resource, group: group))
    }

    public static func conflict(_ resource: String, group: String = "", name: String,
                                why: String = "the object has been modified; please apply your changes to the latest version and try again") -> APIError {
        APIError(code: 409, reason: "Conflict",
                 message: "Operation cannot be fulfilled on \(qualified(resource, group: group)) \"\(name)\": \(why)",
                 details: details(name: name, resource: resource, group: group))
    }

    public static func invalid(kind: String, group: String = "", name: String, causes: [FieldError]) -> APIError {
        let list = causes.map(\.description).joined(separator: ", ")
        var details: JSON = ["name": .string(name), "kind": .string(kind),
                             "causes": .array(causes.map(\.cause))]
        if !group.isEmpty { details["group"] = .string(group) }
        let qualifiedKind = group.isEmpty ? kind : "\(kind).\(group)"
        return APIError(code: 422, reason: "Invalid",
                        message: "\(qualifiedKind) \"\(name)\" is invalid: \(causes.count == 1 ? list : "[\(list)]")",
                        details: details)
    }

    public static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    public static func methodNotAllowed(_ message: String) -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: message)
    }

    public static func notAcceptable(_ message: String) -> APIError {
        APIError(code: 406, reason: "NotAcceptable", message: message)
    }

    public static func unsupportedMediaType(_ type: String) -> APIError {
        APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/apply-patch+yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json")
    }

    /// A resource version that has been compacted away.
    public static func expired(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    public static func gone(_ message: String) -> APIError {
        APIError(code: 410, reason: "Gone", message: message)
    }

    public static func forbidden(_ message: String, resource: String = "", group: String = "", name: String = "") -> APIError {
        APIError(code: 403, reason: "Forbidden", message: message,
                 details: resource.isEmpty ? nil : details(name: name, resource: resource, group: group))
    }

    public static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")

    public static func tooLarge(_ message: String = "Request entity too large: limit is 3145728") -> APIError {
        APIError(code: 413, reason: "RequestEntityTooLarge", message: message)
    }

    public static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    public static func timeout(_ message: String) -> APIError {
        APIError(code: 504, reason: "Timeout", message: message)
    }
}

/// One problem with one field, as in a 422 `Invalid` status's causes.
public struct FieldError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case invalid = "FieldValueInvalid"
        case required = "FieldValueRequired"
        case notSupported = "FieldValueNotSupported"
        case forbidden = "FieldValueForbidden"
        case duplicate = "FieldValueDuplicate"
        case tooLong = "FieldValueTooLong"
    }

    public let kind: Kind
    public let field: String
    public let value: JSON?
    public let detail: String

    public init(kind: Kind, field: String, value: JSON?, detail: String) {
        self.kind = kind
        self.field = field
        self.value = value
        self.detail = detail
    }

    public static func invalid(_ field: String, _ value: JSON, _ detail: String) -> FieldError {
        FieldError(kind: .invalid, field: field, value: value, detail: detail)
    }

    public static func required(_ field: String, _ detail: String = "") -> FieldError {
        FieldError(kind: .required, field: field, value: nil, detail: detail)
    }

    public static func forbidden(_ field: String, _ detail: String) -> FieldError {
        FieldError(kind: .forbidden, field: field, value: nil, detail: detail)
    }

    public static func notSupported(_ field: String, _ value: JSON, _ allowed: [String]) -> FieldError {
        FieldError(kind: .notSupported, field: field, value: value,
                   detail: "supported values: \(allowed.map { "\"\($0)\"" }.joined(separator: ", "))")
    }

    /// The text after the field name, as the API server writes it.
    package var summary: String {
        switch kind {
        case .invalid:
            "Invalid value: \(Self.render(value ?? .null))\(detail.isEmpty ? "" : ": \(detail)")"
        case .required:
            "Required value\(detail.isEmpty ? "" : ": \(detail)")"
        case .notSupported:
            "Unsupported value: \(Self.render(value ?? .null)): \(detail)"
        case .forbidden:
            "Forbidden: \(detail)"
        case .duplicate:
            "Duplicate value: \(Self.render(value ?? .null))"
        case .tooLong:
            "Too long: \(detail)"
        }
    }

    public var description: String { "\(field): \(summary)" }

    package var cause: JSON {
        ["reason": .string(kind.rawValue), "message": .string(summary), "field": .string(field)]
    }

    package static func render(_ value: JSON) -> String {
        switch value {
        case .string(let text): "\"\(text)\""
        case .int(let number): String(number)
        case .double(let number): String(number)
        case .bool(let flag): String(flag)
        case .null: "null"
        default: String(decoding: JSONCoding.encode(value), as: UTF8.self)
        }
    }
}
