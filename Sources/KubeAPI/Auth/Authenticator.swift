/// What a request carries to say who sent it.
public struct Credentials: Sendable {
    /// The subject of the client certificate the TLS layer verified against the cluster CA, if one was presented.
    public let clientCertificate: CertificateSubject?
    /// The token of `Authorization: Bearer …`, if given.
    public let bearerToken: String?
    /// Whom the token must be for (a `TokenReview`'s `spec.audiences`); nil: the API server itself.
    public let audiences: [String]?
    /// The client's address and port, as the authenticator's log records it; nil inside the process.
    public let source: String?

    public init(clientCertificate: CertificateSubject?, bearerToken: String?, audiences: [String]? = nil, source: String? = nil) {
        self.clientCertificate = clientCertificate
        self.bearerToken = bearerToken
        self.audiences = audiences
        self.source = source
    }
}

public struct CertificateSubject: Sendable, Equatable {
    public let commonName: String?
    public let organizations: [String]

    public init(commonName: String?, organizations: [String]) {
        self.commonName = commonName
        self.organizations = organizations
    }
}

public enum Authentication: Sendable, Equatable {
    case user(UserInfo)
    /// The request carries nothing this authenticator reads.
    case noCredentials
    /// It carries credentials that prove nothing: 401, never anonymous.
    case rejected
}

/// Decides who sent a request, as the API server's authenticators do; tokens (`aws eks get-token`,
/// service accounts) arrive with a later issue.
public protocol Authenticator: Sendable {
    func authenticate(_ credentials: Credentials) async -> Authentication
}

extension UserInfo {
    /// Who a request with no credentials is, with anonymous authentication on (as on EKS).
    public static let anonymous = UserInfo(name: "system:anonymous", groups: ["system:unauthenticated"])
}

/// Client certificates: the common name is the user, the organizations its groups.
public struct ClientCertificateAuthenticator: Authenticator {
    public init() {}

    public func authenticate(_ credentials: Credentials) async -> Authentication {
        guard let subject = credentials.clientCertificate else { return .noCredentials }
        guard let name = subject.commonName, !name.isEmpty else { return .rejected }
        return .user(UserInfo(name: name, groups: subject.organizations + ["system:authenticated"]))
    }
}

/// Each authenticator in turn; the first that names a user wins. A request with credentials nobody accepts
/// (a bearer token no authenticator reads included) is rejected; one with none at all is anonymous.
public struct AuthenticatorChain: Authenticator {
    let authenticators: [any Authenticator]

    public init(_ authenticators: [any Authenticator]) {
        self.authenticators = authenticators
    }

    public func authenticate(_ credentials: Credentials) async -> Authentication {
        var rejected = credentials.bearerToken != nil
        for authenticator in authenticators {
            switch await authenticator.authenticate(credentials) {
            case .user(let user): return .user(user)
            case .rejected: rejected = true
            case .noCredentials: continue
            }
        }
        return rejected ? .rejected : .user(.anonymous)
    }
}
