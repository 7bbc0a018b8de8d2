import Auth
import Foundation
import KubeModel

/// An authenticated request on its way to a service.
public struct AWSRequest: Sendable {
    public let method: String
    /// The path as sent, still percent-encoded.
    public let rawPath: String
    /// Query parameters, decoded, in the order sent.
    public let query: [(name: String, value: String)]
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]
    public let caller: VerifiedRequest
    public let requestId: String

    public init(method: String, rawPath: String, query: [(name: String, value: String)],
                headers: [(name: String, value: String)], body: [UInt8], caller: VerifiedRequest, requestId: String) {
        self.method = method
        self.rawPath = rawPath
        self.query = query
        self.headers = headers
        self.body = body
        self.caller = caller
        self.requestId = requestId
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name }?.value
    }
}

/// A response before it is put on the wire.
public struct AWSResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    static func json(_ object: some Encodable, status: Int = 200) throws -> AWSResponse {
        AWSResponse(status: status, headers: [("Content-Type", "application/json")],
                    body: try WireJSON.encode(object))
    }

    static func xml(_ document: XMLElement, status: Int = 200) -> AWSResponse {
        AWSResponse(status: status, headers: [("Content-Type", "text/xml")], body: Array(document.document.utf8))
    }
}

/// JSON as the rest-json protocol writes it: timestamps as epoch seconds.
enum WireJSON {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        try JSONValueEncoder().encodeToBytes(value)
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()
}
