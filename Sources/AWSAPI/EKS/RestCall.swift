import Foundation

/// A matched rest-json call: its path parameters, query and body.
struct RestCall: Sendable {
    let request: AWSRequest
    let path: [String: String]

    func pathParameter(_ name: String) -> String {
        path[name] ?? ""
    }

    func query(_ name: String) -> String? {
        request.query.first { $0.name == name }?.value
    }

    func queryList(_ name: String) -> [String]? {
        let values = request.query.filter { $0.name == name }.map(\.value)
        return values.isEmpty ? nil : values
    }

    func queryInt(_ name: String) throws(AWSError) -> Int? {
        guard let text = query(name) else { return nil }
        guard let value = Int(text) else { throw Self.invalid("\(name) must be an integer, not '\(text)'.") }
        return value
    }

    func queryBool(_ name: String) throws(AWSError) -> Bool? {
        guard let text = query(name) else { return nil }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: throw Self.invalid("\(name) must be true or false, not '\(text)'.")
        }
    }

    /// Decodes the JSON body; an empty body decodes as `{}`.
    func body<T: Decodable>(_ type: T.Type) throws(AWSError) -> T {
        let data = request.body.isEmpty ? Data("{}".utf8) : Data(request.body)
        do {
            return try WireJSON.decoder.decode(T.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw Self.invalid("Missing required parameter in input: \"\(key.stringValue)\"")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw Self.invalid("Invalid type for parameter \(field).")
        } catch DecodingError.dataCorrupted(let context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw Self.invalid(field.isEmpty ? "The request body is not valid JSON." : "Invalid value for parameter \(field).")
        } catch {
            throw Self.invalid("The request body could not be read.")
        }
    }

    static func invalid(_ message: String) -> AWSError {
        AWSError(code: "InvalidParameterException", message: message, status: 400)
    }
}
