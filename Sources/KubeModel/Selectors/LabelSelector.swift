/// A label selector as `kubectl -l` and `?labelSelector=` write it:
/// `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-separated.
public struct LabelSelector: Sendable, Equatable {
    public enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
    }

    public let requirements: [Requirement]

    public static let everything = LabelSelector(requirements: [])

    public init(requirements: [Requirement]) {
        self.requirements = requirements
    }

    public init(parsing text: String) throws(APIError) {
        var requirements: [Requirement] = []
        for term in Self.splitTerms(text) {
            let term = term.trimmingCharacters(in: .whitespaces)
            if term.isEmpty { continue }
            requirements.append(try Self.requirement(term))
        }
        self.requirements = requirements
    }

    /// A `matchLabels`/`matchExpressions` selector, as in a Deployment's `spec.selector`.
    public init(object: JSON) throws(APIError) {
        var requirements = object["matchLabels"]?.stringMap.sorted { $0.key < $1.key }.map { Requirement.equals($0.key, $0.value) } ?? []
        for expression in object["matchExpressions"]?.array ?? [] {
            guard let key = expression["key"]?.string, let op = expression["operator"]?.string else {
                throw .badRequest("invalid label selector: matchExpressions need a key and an operator")
            }
            let values = Set((expression["values"]?.array ?? []).compactMap(\.string))
            switch op {
            case "In": requirements.append(.isIn(key, values))
            case "NotIn": requirements.append(.notIn(key, values))
            case "Exists": requirements.append(.exists(key))
            case "DoesNotExist": requirements.append(.doesNotExist(key))
            default: throw .badRequest("invalid label selector operator \"\(op)\"")
            }
        }
        self.requirements = requirements
    }

    /// Splits on commas outside parentheses.
    package static func splitTerms(_ text: String) -> [String] {
        var terms: [String] = [], current = "", depth = 0
        for character in text {
            switch character {
            case "(": depth += 1; current.append(character)
            case ")": depth -= 1; current.append(character)
            case "," where depth == 0: terms.append(current); current = ""
            default: current.append(character)
            }
        }
        terms.append(current)
        return terms
    }

    package static func requirement(_ term: String) throws(APIError) -> Requirement {
        let invalid = APIError.badRequest("unable to parse requirement: found '\(term)', expected: identifier")
        for (op, make) in [("!=", Requirement.notEquals), ("==", Requirement.equals), ("=", Requirement.equals)] as [(String, (String, String) -> Requirement)] {
            if let range = term.range(of: op) {
                let key = term[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let value = term[range.upperBound...].trimmingCharacters(in: .whitespaces)
                guard !key.isEmpty else { throw invalid }
                return make(key, value)
            }
        }
        let words = term.split(separator: " ", maxSplits: 1).map(String.init)
        if words.count == 2 {
            let rest = words[1].trimmingCharacters(in: .whitespaces)
            for (op, isIn) in [("notin", false), ("in", true)] where rest.hasPrefix(op) {
                let list = rest.dropFirst(op.count).trimmingCharacters(in: .whitespaces)
                guard list.hasPrefix("("), list.hasSuffix(")") else { throw invalid }
                let values = Set(list.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                return isIn ? .isIn(words[0], values) : .notIn(words[0], values)
            }
            throw invalid
        }
        if term.hasPrefix("!") { return .doesNotExist(String(term.dropFirst()).trimmingCharacters(in: .whitespaces)) }
        return .exists(term)
    }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): labels[key] == value
            case .notEquals(let key, let value): labels[key] != value
            case .isIn(let key, let values): labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): !(labels[key].map(values.contains) ?? false)
            case .exists(let key): labels[key] != nil
            case .doesNotExist(let key): labels[key] == nil
            }
        }
    }

    public var isEmpty: Bool { requirements.isEmpty }
}

/// A field selector: `metadata.name=x,status.phase!=Running`.
public struct FieldSelector: Sendable, Equatable {
    public struct Term: Sendable, Equatable {
        public let field: String
        public let value: String
        public let equal: Bool

        public init(field: String, value: String, equal: Bool) {
            self.field = field
            self.value = value
            self.equal = equal
        }
    }

    public let terms: [Term]

    public static let everything = FieldSelector(terms: [])

    public init(terms: [Term]) {
        self.terms = terms
    }

    public init(parsing text: String) throws(APIError) {
        var terms: [Term] = []
        for part in text.split(separator: ",") {
            let part = String(part)
            if let range = part.range(of: "!=") {
                terms.append(Term(field: String(part[..<range.lowerBound]), value: String(part[range.upperBound...]), equal: false))
            } else if let range = part.range(of: "==") ?? part.range(of: "=") {
                terms.append(Term(field: String(part[..<range.lowerBound]), value: String(part[range.upperBound...]), equal: true))
            } else {
                throw .badRequest("invalid selector: '\(text)'; can't understand '\(part)'")
            }
        }
        self.terms = terms
    }

    /// Whether an object with these selectable field values matches.
    public func matches(_ fields: [String: String]) -> Bool {
        terms.allSatisfy { term in (fields[term.field] ?? "") == term.value ? term.equal : !term.equal }
    }

    public var isEmpty: Bool { terms.isEmpty }
}
