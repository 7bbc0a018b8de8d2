import KubeModel

/// Who is making a request, as the authenticator established it.
public struct UserInfo: Sendable, Equatable {
    public let name: String
    public let groups: [String]
    public let uid: String
    /// What the authenticator adds beside name and groups (on EKS: `arn`, `canonicalArn`, `accessKeyId`, `sessionName`, …).
    public let extra: [String: [String]]

    public init(name: String, groups: [String], uid: String = "", extra: [String: [String]] = [:]) {
        self.name = name
        self.groups = groups
        self.uid = uid
        self.extra = extra
    }
}

/// A request to the Kubernetes API, free of any HTTP framework.
public struct APIRequest: Sendable {
    public var method: String
    /// The path, percent-decoded.
    public var path: String
    public var query: [String: String]
    public var headers: [String: String]
    public var body: [UInt8]
    public var user: UserInfo
    /// The client's address and port; nil for the control plane's own components, in process.
    public var source: String?

    public init(method: String, path: String, query: [String: String], headers: [String: String], body: [UInt8], user: UserInfo,
                source: String? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.user = user
        self.source = source
    }

    func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The media type of the body, without parameters (`application/merge-patch+json`).
    var contentType: String {
        (header("content-type") ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    }
}

/// A response: a whole body, or a stream of chunks (watches).
public struct APIResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        case stream(AsyncThrowingStream<[UInt8], any Error>)
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Body

    public init(status: Int, headers: [(String, String)], body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    static func json(_ value: JSON, status: Int = 200) -> APIResponse {
        APIResponse(status: status, headers: [("Content-Type", "application/json")], body: .bytes(JSONCoding.encode(value)))
    }

    /// Adds `Warning` headers, which kubectl prints as `Warning: …`.
    func warning(_ messages: [String]) -> APIResponse {
        var response = self
        for message in messages {
            response.headers.append(("Warning", "299 - \"\(message.replacingOccurrences(of: "\"", with: "\\\""))\""))
        }
        return response
    }

    public static func error(_ error: APIError) -> APIResponse {
        json(error.status, status: error.code)
    }
}
