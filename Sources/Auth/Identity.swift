/// Who signed a request: an account's root or one of its IAM users.
public struct Identity: Codable, Sendable, Equatable {
    public let account: String
    public let arn: String
    /// The unique id STS reports: the account id for a root, `AIDA…` for an IAM user.
    public let userId: String

    public init(account: String, arn: String, userId: String) {
        self.account = account
        self.arn = arn
        self.userId = userId
    }

    public static func root(of account: String) -> Identity {
        Identity(account: account, arn: "arn:aws:iam::\(account):root", userId: account)
    }
}

/// An STS assumed-role session ARN (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`), which stands for its
/// role wherever IAM names principals: in trust policies, access entries and aws-auth.
public struct AssumedRoleARN: Sendable, Equatable {
    public let account: String
    public let roleName: String
    public let sessionName: String

    public init?(_ arn: String) {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[2] == "sts" else { return nil }
        let resource = parts[5].split(separator: "/")
        guard resource.count == 3, resource[0] == "assumed-role" else { return nil }
        account = String(parts[4])
        roleName = String(resource[1])
        sessionName = String(resource[2])
    }

    /// The role's ARN (without its path, which a session ARN does not carry).
    public var roleArn: String { "arn:aws:iam::\(account):role/\(roleName)" }
}
