import Foundation

/// A call in AWS's JSON protocol: `X-Amz-Target: PREFIX.Operation` names the operation, the body is its input.
struct JSONTargetCall {
    let operation: String
    let body: [UInt8]

    init(_ request: AWSRequest, targetPrefix: String) throws {
        guard let target = request.header("x-amz-target"), target.hasPrefix(targetPrefix + "."), request.method == "POST" else {
            throw AWSError(code: "UnknownOperationException", message: "", status: 400)
        }
        operation = String(target.dropFirst(targetPrefix.count + 1))
        body = request.body
    }

    /// The input, decoded; a body that is not the operation's JSON is a `SerializationException`.
    func input<Input: Decodable>(_ type: Input.Type) throws -> Input {
        do {
            return try WireJSON.decoder.decode(Input.self, from: Data(body.isEmpty ? Array("{}".utf8) : body))
        } catch {
            throw AWSError(code: "SerializationException", message: "Start of structure or map found where not expected.", status: 400)
        }
    }
}

extension AWSResponse {
    /// A JSON-protocol answer.
    static func amzJSON(_ object: some Encodable) throws -> AWSResponse {
        AWSResponse(status: 200, headers: [("Content-Type", "application/x-amz-json-1.1")], body: try WireJSON.encode(object))
    }

    static let emptyAmzJSON = AWSResponse(status: 200, headers: [("Content-Type", "application/x-amz-json-1.1")], body: Array("{}".utf8))
}
