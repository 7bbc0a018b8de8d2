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
