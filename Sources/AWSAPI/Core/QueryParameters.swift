/// The parameters of a query- or EC2-protocol request (`Action=…&Filter.1.Name=…`),
/// with the flattened lists and structures those protocols use.
public struct QueryParameters: Sendable {
    private let values: [String: String]

    public init(_ items: [(name: String, value: String)]) {
        var values: [String: String] = [:]
        for item in items where values[item.name] == nil { values[item.name] = item.value }
        self.values = values
    }

    public subscript(_ name: String) -> String? { values[name] }

    public var all: [String: String] { values }

    public func int(_ name: String) throws(AWSError) -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text) else {
            throw AWSError(code: "InvalidParameterValue", message: "Value (\(text)) for parameter \(name) is invalid.", status: 400)
        }
        return value
    }

    public func bool(_ name: String) -> Bool {
        values[name]?.lowercased() == "true"
    }

    /// `Name.1`, `Name.2`, … in index order.
    public func list(_ name: String) -> [String] {
        indices(of: name).compactMap { values["\(name).\($0)"] }
    }

    /// The indices N for which some `prefix.N` or `prefix.N.…` parameter exists, ascending.
    public func indices(of prefix: String) -> [Int] {
        let lead = prefix + "."
        var found: Set<Int> = []
        for key in values.keys where key.hasPrefix(lead) {
            let rest = key.dropFirst(lead.count)
            if let index = Int(rest.prefix { $0 != "." }) { found.insert(index) }
        }
        return found.sorted()
    }
}
