/// An OIDC identity provider, as kube-apiserver's `--oidc-*` flags configure one.
public struct OIDCIssuer: Sendable, Equatable {
    public let issuerURL: String
    public let clientID: String
    public let usernameClaim: String
    /// nil: kube-apiserver's default, the issuer URL and `#` (none for the `email` claim); `-`: none.
    public let usernamePrefix: String?
    public let groupsClaim: String?
    public let groupsPrefix: String
    public let requiredClaims: [String: String]

    public init(issuerURL: String, clientID: String, usernameClaim: String = "sub", usernamePrefix: String? = nil,
                groupsClaim: String? = nil, groupsPrefix: String = "", requiredClaims: [String: String] = [:]) {
        self.issuerURL = issuerURL
        self.clientID = clientID
        self.usernameClaim = usernameClaim
        self.usernamePrefix = usernamePrefix
        self.groupsClaim = groupsClaim
        self.groupsPrefix = groupsPrefix
        self.requiredClaims = requiredClaims
    }
}
