import Auth
import EKS
import Foundation
import KubeAPI
import Logging
import Synchronization

/// A cluster's current `ClusterAccess`, shared by its IAM authenticator and its access-policy authorizer,
/// replaced whenever an access entry or the authentication mode changes.
public final class ClusterAccessState: Sendable {
    private let current: Mutex<(access: ClusterAccess, generation: Int)>

    public init(_ access: ClusterAccess) {
        current = Mutex((access, 0))
    }

    public var access: ClusterAccess {
        get { current.withLock { $0.access } }
        set { current.withLock { $0 = (newValue, $0.generation + 1) } }
    }

    /// The access and how many times it has been replaced, read together.
    var versioned: (access: ClusterAccess, generation: Int) { current.withLock { $0 } }
}

/// The IAM principal behind a verified identity, as the aws-iam-authenticator canonicalizes it: an
/// assumed-role session stands for its role.
struct IAMPrincipal: Equatable {
    /// The ARN the caller signed as.
    let arn: String
    /// `arn:aws:iam::ACCOUNT:role/NAME` for a role session, else `arn`.
    let canonicalArn: String
    let account: String
    let sessionName: String?
    /// For roles, the name without path: access entries match a role whatever its path.
    let roleName: String?
    /// The private DNS name of the EC2 instance a node role's session is named after (`{{EC2PrivateDNSName}}`).
    var privateDNSName: String?

    init(arn: String, privateDNSName: String? = nil) {
        self.arn = arn
        self.privateDNSName = privateDNSName
        if let session = AssumedRoleARN(arn) {
            account = session.account
            canonicalArn = session.roleArn
            sessionName = session.sessionName
            roleName = session.roleName
            return
        }
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        account = parts.count == 6 ? String(parts[4]) : ""
        let resource = parts.count == 6 ? parts[5].split(separator: "/").map(String.init) : []
        canonicalArn = arn
        sessionName = nil
        roleName = resource.first == "role" ? resource.last : nil
    }
}

/// `Authorization: Bearer k8s-aws-v1.…` (what `aws eks get-token` makes, and kubectl sends through
/// `aws eks update-kubeconfig`'s exec plugin): the token's IAM identity becomes the Kubernetes user its access
/// entry, or the creator's implicit admin, names. A valid token of an identity with no mapping is refused (401),
/// as on EKS. A verified token is remembered until it expires, so that only its first use costs a signature check.
/// Each verification and each refusal is a line in the cluster's authenticator log, as the aws-iam-authenticator
/// writes one per webhook call (kube-apiserver caches its answers, so reuses of a token are not logged either).
public final class IAMAuthenticator: Authenticator {
    /// Finds the private DNS name of an EC2 instance by its id.
    public typealias InstanceDNSNames = @Sendable (String) async -> String?

    private struct Verified {
        let identity: Identity
        let accessKeyId: String
        /// For a session named after an EC2 instance, the instance's private DNS name, looked up once.
        let privateDNSName: String?
        let expires: Date
        /// The credential store's revocation generation when verified: a deletion since means verify again.
        let generation: Int
        /// The user it mapped to by an access entry (or the creator's admin), and the access generation it was
        /// mapped at: reused while the access is unchanged. Users that aws-auth maps are mapped anew each time.
        var mapped: (user: UserInfo, accessGeneration: Int)? = nil
    }

    static let cacheLimit = 10_000

    private let clusterName: String
    private let verifier: EKSTokenVerifier
    private let access: ClusterAccessState
    private let awsAuth: AWSAuthReader?
    private let verified = Mutex<[String: Verified]>([:])
    private let instanceDNSNames: InstanceDNSNames?
    private let decisions: ControlPlaneLog?
    private let logger: Logger

    /// - Parameters:
    ///   - awsAuth: nil for clusters whose aws-auth is never read (benchmarks).
    ///   - instanceDNSNames: resolves `{{EC2PrivateDNSName}}`; without it, templates that use it map nobody.
    ///   - decisions: the cluster's authenticator log.
    init(clusterName: String, verifier: EKSTokenVerifier, access: ClusterAccessState, awsAuth: AWSAuthReader?,
         instanceDNSNames: InstanceDNSNames?, decisions: ControlPlaneLog?, logger: Logger) {
        self.clusterName = clusterName
        self.verifier = verifier
        self.access = access
        self.awsAuth = awsAuth
        self.instanceDNSNames = instanceDNSNames
        self.decisions = decisions
        var logger = logger
        logger[metadataKey: "authenticator"] = "aws-iam"
        self.logger = logger
    }

    public convenience init(clusterName: String, verifier: EKSTokenVerifier, access: ClusterAccessState, logger: Logger) {
        self.init(clusterName: clusterName, verifier: verifier, access: access, awsAuth: nil, instanceDNSNames: nil, decisions: nil,
                  logger: logger)
    }

    public func authenticate(_ credentials: Credentials) async -> Authentication {
        guard let token = credentials.bearerToken, EKSTokenVerifier.claims(token) else { return .noCredentials }
        let now = Date()
        let generation = verifier.revocationGeneration
        var known = verified.withLock { cache in cache[token].flatMap { $0.expires > now && $0.generation == generation ? $0 : nil } }
        let fresh = known == nil
        if known == nil {
            do {
                let request = try await verifier.verify(token, clusterName: clusterName, now: now)
                let tokenExpires = (request.signedAt ?? now).addingTimeInterval(EKSTokenVerifier.lifetime)
                var dnsName: String?
                if let session = AssumedRoleARN(request.identity.arn)?.sessionName, session.hasPrefix("i-") {
                    dnsName = await instanceDNSNames?(session)
                }
                let entry = Verified(identity: request.identity, accessKeyId: request.accessKeyId, privateDNSName: dnsName,
                                     expires: min(tokenExpires, request.credentialsExpireAt ?? tokenExpires), generation: generation)
                verified.withLock { cache in
                    if cache.count >= Self.cacheLimit { cache = cache.filter { $0.value.expires > now } }
                    if cache.count < Self.cacheLimit { cache[token] = entry }
                }
                known = entry
            } catch {
                denied(credentials, arn: nil, error: "\(error)")
                return .rejected
            }
        }
        guard let known else { return .rejected }
        let (access, accessGeneration) = access.versioned
        if let mapped = known.mapped, mapped.accessGeneration == accessGeneration { return .user(mapped.user) }
        let principal = IAMPrincipal(arn: known.identity.arn, privateDNSName: known.privateDNSName)
        if let user = Self.user(for: principal, accessKeyId: known.accessKeyId, userId: known.identity.userId, access: access) {
            verified.withLock { cache in cache[token]?.mapped = (user, accessGeneration) }
            if fresh { granted(credentials, principal, user) }
            return .user(user)
        }
        let configMap = access.usesConfigMap ? await awsAuth?.current() ?? AWSAuthConfigMap() : AWSAuthConfigMap()
        guard let user = Self.user(for: principal, accessKeyId: known.accessKeyId, userId: known.identity.userId, access: access,
                                   awsAuth: configMap) else {
            denied(credentials, arn: principal.arn, error: Self.unmappedReason(principal, access: access, awsAuth: configMap))
            return .rejected
        }
        if fresh { granted(credentials, principal, user) }
        return .user(user)
    }

    /// Why a verified principal maps to nobody, in the authenticator's words.
    static func unmappedReason(_ principal: IAMPrincipal, access: ClusterAccess, awsAuth: AWSAuthConfigMap) -> String {
        let template = (access.usesAccessEntries ? entry(for: principal, in: access)?.username : nil)
            ?? (access.usesConfigMap ? awsAuth.mapping(for: principal)?.username : nil)
        if let template, template.contains("{{EC2PrivateDNSName}}") {
            return "failed to get the private DNS name of instance \(principal.sessionName ?? ""): the session is not named after a known EC2 instance"
        }
        return "ARN is not mapped: \(principal.canonicalArn)"
    }

    private func granted(_ credentials: Credentials, _ principal: IAMPrincipal, _ user: UserInfo) {
        decisions?.append(LogfmtLine.line(level: "info", message: "access granted", fields: [
            "arn": principal.arn, "client": credentials.source ?? "", "groups": "[\(user.groups.filter { $0 != "system:authenticated" }.joined(separator: " "))]",
            "method": "POST", "path": "/authenticate", "uid": user.uid, "username": user.name,
        ]))
        logger.debug("authenticated", metadata: ["arn": "\(principal.arn)", "username": "\(user.name)"])
    }

    private func denied(_ credentials: Credentials, arn: String?, error: String) {
        var fields = ["client": credentials.source ?? "", "error": error, "method": "POST", "path": "/authenticate"]
        if let arn { fields["arn"] = arn }
        decisions?.append(LogfmtLine.line(level: "warning", message: "access denied", fields: fields))
        logger.info("refused token", metadata: ["reason": "\(error)"])
    }

    /// The Kubernetes user a principal is on a cluster with `access` and `awsAuth`, or nil when nothing maps it:
    /// an access entry first, then (in the modes with CONFIG_MAP) the creator's hidden admin and aws-auth.
    static func user(for principal: IAMPrincipal, accessKeyId: String, userId: String, access: ClusterAccess,
                     awsAuth: AWSAuthConfigMap = AWSAuthConfigMap()) -> UserInfo? {
        let extra: [String: [String]] = [
            "accessKeyId": [accessKeyId], "arn": [principal.arn], "canonicalArn": [principal.canonicalArn],
            "principalId": [userId], "sessionName": [principal.sessionName ?? ""],
        ]
        let uid = "aws-iam-authenticator:\(principal.account):\(userId)"
        if access.usesAccessEntries, let entry = entry(for: principal, in: access) {
            guard let name = expand(entry.username, principal) else { return nil }
            return UserInfo(name: name, groups: entry.groups.compactMap { expand($0, principal) } + ["system:authenticated"],
                            uid: uid, extra: extra)
        }
        if access.usesConfigMap, access.implicitAdminArn == principal.canonicalArn {
            return UserInfo(name: "kubernetes-admin", groups: ["system:masters", "system:authenticated"], uid: uid, extra: extra)
        }
        if access.usesConfigMap, let row = awsAuth.mapping(for: principal) {
            guard let name = expand(row.username ?? principal.canonicalArn, principal) else { return nil }
            return UserInfo(name: name, groups: row.groups.compactMap { expand($0, principal) } + ["system:authenticated"],
                            uid: uid, extra: extra)
        }
        return nil
    }

    /// The access entry of a principal: by ARN, or for a role session by its role's name, whatever the entry's path.
    static func entry(for principal: IAMPrincipal, in access: ClusterAccess) -> ClusterAccess.Entry? {
        if let entry = access.entries[principal.canonicalArn] { return entry }
        guard let roleName = principal.roleName else { return nil }
        let prefix = "arn:aws:iam::\(principal.account):role/"
        return access.entries.first { arn, _ in arn.hasPrefix(prefix) && arn.split(separator: "/").last.map(String.init) == roleName }?.value
    }

    /// Fills the templates EKS allows in usernames and groups; nil when one names an EC2 instance the
    /// session is not named after.
    static func expand(_ template: String, _ principal: IAMPrincipal) -> String? {
        guard template.contains("{{") else { return template }
        let session = principal.sessionName ?? ""
        var template = template
        if template.contains("{{EC2PrivateDNSName}}") {
            guard let dnsName = principal.privateDNSName else { return nil }
            template = template.replacingOccurrences(of: "{{EC2PrivateDNSName}}", with: dnsName)
        }
        return template.replacingOccurrences(of: "{{AccountID}}", with: principal.account)
            .replacingOccurrences(of: "{{SessionNameRaw}}", with: session)
            // The authenticator replaces `@` in session names, which Kubernetes user names may hold but ARNs cannot.
            .replacingOccurrences(of: "{{SessionName}}", with: session.replacingOccurrences(of: "@", with: "-"))
    }
}

/// EKS access policies, asked after the other authorizers as EKS's webhook is: a principal's associated
/// policies grant their rules in the whole cluster or in the namespaces of their scope.
public struct AccessPolicyAuthorizer: Authorizer {
    let access: ClusterAccessState

    public init(access: ClusterAccessState) {
        self.access = access
    }

    /// The policies of the user's access entry whose scope covers `namespace` (nil: a cluster-wide request).
    private func grants(for user: UserInfo, namespace: String?) -> [ClusterAccess.PolicyGrant] {
        let access = access.access
        guard access.usesAccessEntries, let arn = user.extra["arn"]?.first,
              let entry = IAMAuthenticator.entry(for: IAMPrincipal(arn: arn), in: access) else { return [] }
        return entry.policies.filter { grant in
            guard let namespaces = grant.namespaces else { return true }
            guard let namespace, !namespace.isEmpty else { return false }
            return namespaces.contains { $0 == namespace || ($0.hasSuffix("*") && namespace.hasPrefix($0.dropLast())) }
        }
    }

    public func authorize(_ request: AuthorizationRequest) async -> AuthorizationDecision {
        let namespace = request.resource?.namespace
        for grant in grants(for: request.user, namespace: namespace)
        where AccessPolicyRules.rules(ofPolicy: grant.policyName).contains(where: { $0.allows(request) }) {
            return AuthorizationDecision(allowed: true, reason: "EKS Access Policy: allowed by \(grant.policyName)")
        }
        return AuthorizationDecision(allowed: false)
    }

    public func rules(for user: UserInfo, namespace: String) async -> AuthorizationRules {
        AuthorizationRules(grants(for: user, namespace: namespace).flatMap { AccessPolicyRules.rules(ofPolicy: $0.policyName) })
    }
}

