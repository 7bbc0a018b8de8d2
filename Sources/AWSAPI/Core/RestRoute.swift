/// One rest-json operation: an HTTP method and a path template such as
/// `/clusters/{name}/node-groups/{nodegroupName}`.
struct RestRoute: Sendable {
    let method: String
    let segments: [Segment]
    let operation: String

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    init(_ method: String, _ template: String, _ operation: String) {
        self.method = method
        self.operation = operation
        segments = template.split(separator: "/").map { part in
            part.hasPrefix("{") ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
        }
    }

    /// The decoded path parameters when `rawPath` fits the template.
    func match(method: String, rawPath: String) -> [String: String]? {
        guard method == self.method else { return nil }
        let parts = rawPath.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard parts.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (part, segment) in zip(parts, segments) {
            // Split before decoding: an ARN parameter carries its slashes as %2F.
            let decoded = part.contains("%") ? part.removingPercentEncoding ?? String(part) : String(part)
            switch segment {
            case .literal(let literal) where literal == decoded: continue
            case .parameter(let name) where !decoded.isEmpty: parameters[name] = decoded
            default: return nil
            }
        }
        return parameters
    }
}
