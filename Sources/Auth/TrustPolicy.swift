import Foundation

/// A role's trust policy (its assume-role policy document), evaluated as IAM evaluates one for
/// `sts:AssumeRole*`: an explicit Deny wins, else some Allow statement must match the action, the principal
/// and every condition. Skiff does not evaluate identity policies, so a principal naming an account
/// (`arn:aws:iam::ACCOUNT:root` or `ACCOUNT`) trusts every identity of that account.
public struct TrustPolicy: Sendable, Equatable {
    struct Statement: Sendable, Equatable {
        let allow: Bool
        let actions: [String]
        /// By principal type (`AWS`, `Federated`, `Service`); `["*": ["*"]]` for `"Principal": "*"`.
        let principals: [String: [String]]
        /// operator → key → values
        let conditions: [String: [String: [String]]]
    }

    let statements: [Statement]

    /// The caller of an `sts:AssumeRole*` call, as the policy sees it.
    public enum Principal: Sendable {
        /// An IAM identity: its ARN and account.
        case aws(arn: String, account: String)
        /// A web identity from an OIDC provider: the provider's ARN.
        case federated(String)
        /// An AWS service acting for a customer (`pods.eks.amazonaws.com` for EKS Pod Identity).
        case service(String)
    }

    public struct Malformed: Error, Equatable {
        public let message: String
    }

    public init(document: String) throws(Malformed) {
        guard let data = document.data(using: .utf8), let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Malformed(message: "This policy contains invalid Json")
        }
        let raw: [Any]
        if let list = root["Statement"] as? [Any] {
            raw = list
        } else if let one = root["Statement"] as? [String: Any] {
            raw = [one]
        } else {
            throw Malformed(message: "Syntax errors in policy.")
        }
        func strings(_ value: Any?) -> [String] {
            if let text = value as? String { return [text] }
            return (value as? [Any] ?? []).compactMap { $0 as? String }
        }
        var statements: [Statement] = []
        for case let statement as [String: Any] in raw {
            guard let effect = statement["Effect"] as? String, ["Allow", "Deny"].contains(effect) else {
                throw Malformed(message: "Invalid effect: \(statement["Effect"].map { "\($0)" } ?? "")")
            }
            let actions = strings(statement["Action"])
            guard !actions.isEmpty else { throw Malformed(message: "Policy statement must contain actions.") }
            var principals: [String: [String]] = [:]
            if let any = statement["Principal"] as? String, any == "*" {
                principals["*"] = ["*"]
            } else if let map = statement["Principal"] as? [String: Any] {
                for (type, value) in map { principals[type] = strings(value) }
            } else {
                throw Malformed(message: "Missing required field Principal")
            }
            var conditions: [String: [String: [String]]] = [:]
            for (op, value) in statement["Condition"] as? [String: Any] ?? [:] {
                for (key, values) in value as? [String: Any] ?? [:] { conditions[op, default: [:]][key] = strings(values) }
            }
            statements.append(Statement(allow: effect == "Allow", actions: actions, principals: principals, conditions: conditions))
        }
        guard !statements.isEmpty else { throw Malformed(message: "Syntax errors in policy.") }
        self.statements = statements
    }

    /// Whether `principal` may take `action` on the role, given the request's condition context (keys such
    /// as `sts:ExternalId` or `oidc.eks.REGION.amazonaws.com/id/ID:sub`).
    public func allows(_ action: String, by principal: Principal, context: [String: String] = [:]) -> Bool {
        let matching = statements.filter { statement in
            statement.actions.contains { Self.wildcard($0, matches: action) }
                && matches(statement.principals, principal)
                && statement.conditions.allSatisfy { op, keys in keys.allSatisfy { key, values in Self.condition(op, values, context[key]) } }
        }
        return !matching.contains { !$0.allow } && matching.contains { $0.allow }
    }

    private func matches(_ principals: [String: [String]], _ principal: Principal) -> Bool {
        if principals["*"] != nil { return true }
        switch principal {
        case .aws(let arn, let account):
            return (principals["AWS"] ?? []).contains { named in
                named == "*" || named == account || named == "arn:aws:iam::\(account):root" || named == arn
                    || named == AssumedRoleARN(arn)?.roleArn
            }
        case .federated(let provider):
            return (principals["Federated"] ?? []).contains(provider)
        case .service(let name):
            return (principals["Service"] ?? []).contains(name)
        }
    }

    static func condition(_ op: String, _ values: [String], _ actual: String?) -> Bool {
        let ifExists = op.hasSuffix("IfExists")
        let base = ifExists ? String(op.dropLast("IfExists".count)) : op
        guard let actual else { return ifExists }
        switch base {
        case "StringEquals": return values.contains(actual)
        case "StringNotEquals": return !values.contains(actual)
        case "StringEqualsIgnoreCase": return values.contains { $0.lowercased() == actual.lowercased() }
        case "StringLike": return values.contains { wildcard($0, matches: actual, ignoringCase: false) }
        case "StringNotLike": return !values.contains { wildcard($0, matches: actual, ignoringCase: false) }
        default: return false
        }
    }

    /// IAM's `*` and `?` wildcards; actions compare without case.
    static func wildcard(_ pattern: String, matches text: String, ignoringCase: Bool = true) -> Bool {
        let p = Array(ignoringCase ? pattern.lowercased() : pattern), t = Array(ignoringCase ? text.lowercased() : text)
        var memo: [[Bool?]] = Array(repeating: Array(repeating: nil, count: t.count + 1), count: p.count + 1)
        func match(_ i: Int, _ j: Int) -> Bool {
            if let known = memo[i][j] { return known }
            let result: Bool
            if i == p.count {
                result = j == t.count
            } else if p[i] == "*" {
                result = match(i + 1, j) || (j < t.count && match(i, j + 1))
            } else {
                result = j < t.count && (p[i] == "?" || p[i] == t[j]) && match(i + 1, j + 1)
            }
            memo[i][j] = result
            return result
        }
        return match(0, 0)
    }
}
