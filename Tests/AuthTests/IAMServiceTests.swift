import Foundation
import RegionStore
import Testing
@testable import Auth

/// IAM users, keys, roles and STS sessions against a real region database.
struct IAMServiceTests {
    let iam: IAMService
    let credentials: CredentialStore
    static let account = "000000000000"
    static let root = Identity.root(of: account)

    init() throws {
        let database = try RegionDatabase(directory: FileManager.default.temporaryDirectory.appendingPathComponent("skiff-iam-\(UUID())"))
        credentials = CredentialStore(database: database)
        iam = IAMService(database: database, credentials: credentials)
    }

    func code(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as IAMError {
            return error.code
        } catch {
            return "\(error)"
        }
    }

    static func trust(_ principal: String, action: String = "sts:AssumeRole", condition: String = "") -> String {
        """
        {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":\(principal),"Action":"\(action)"\(condition)}]}
        """
    }

    @Test func usersAndTheirKeys() async throws {
        let user = try await iam.createUser(account: Self.account, userName: "carol", path: "/team/")
        #expect(user.identity.arn == "arn:aws:iam::000000000000:user/team/carol")
        #expect(await code { _ = try await iam.createUser(account: Self.account, userName: "carol", path: nil) } == "EntityAlreadyExists")
        #expect(await code { _ = try await iam.createUser(account: Self.account, userName: "no spaces", path: nil) } == "ValidationError")
        #expect(await code { _ = try await iam.createUser(account: Self.account, userName: "x", path: "team") } == "ValidationError")
        #expect(try await iam.users(account: Self.account, pathPrefix: "/team/").map(\.userName) == ["carol"])
        #expect(try await iam.users(account: Self.account, pathPrefix: "/other/").isEmpty)

        let first = try await iam.createAccessKey(caller: Self.root, userName: "carol")
        _ = try await iam.createAccessKey(caller: Self.root, userName: "carol")
        #expect(await code { _ = try await iam.createAccessKey(caller: Self.root, userName: "carol") } == "LimitExceeded")
        #expect(await code { _ = try await iam.createAccessKey(caller: Self.root, userName: "nobody") } == "NoSuchEntity")
        #expect(try await iam.accessKeys(caller: Self.root, userName: "carol").count == 2)
        // The key signs as the user.
        #expect(try await credentials.accessKey(id: first.accessKeyId)?.identity == user.identity)

        #expect(await code { try await iam.deleteUser(account: Self.account, userName: "carol") } == "DeleteConflict")
        let generation = credentials.revocationGeneration
        for key in try await iam.accessKeys(caller: Self.root, userName: "carol") {
            try await iam.deleteAccessKey(caller: Self.root, userName: "carol", accessKeyId: key.accessKeyId)
        }
        #expect(credentials.revocationGeneration > generation)
        #expect(try await credentials.accessKey(id: first.accessKeyId) == nil)
        try await iam.deleteUser(account: Self.account, userName: "carol")
        #expect(await code { _ = try await iam.user(account: Self.account, userName: "carol") } == "NoSuchEntity")
    }

    @Test func assumingARoleTakesATrustPolicyThatTrustsTheCaller() async throws {
        let carol = try await iam.createUser(account: Self.account, userName: "carol", path: nil)
        #expect(await code { _ = try await iam.createRole(account: Self.account, roleName: "bad", path: nil, assumeRolePolicyDocument: "{",
                                                          description: nil, maxSessionDuration: nil) } == "MalformedPolicyDocument")
        let role = try await iam.createRole(account: Self.account, roleName: "deployer", path: "/ci/",
                                            assumeRolePolicyDocument: Self.trust(#"{"AWS":"arn:aws:iam::000000000000:user/carol"}"#),
                                            description: "deploys", maxSessionDuration: nil)
        #expect(role.arn == "arn:aws:iam::000000000000:role/ci/deployer" && role.roleId.hasPrefix("AROA"))

        let session = try await iam.assumeRole(caller: carol.identity, roleArn: role.arn, sessionName: "run-1", durationSeconds: 900, externalId: nil)
        #expect(session.accessKeyId.hasPrefix("ASIA") && session.arn == "arn:aws:sts::000000000000:assumed-role/deployer/run-1")
        #expect(session.assumedRoleId == "\(role.roleId):run-1")
        let stored = try #require(try await credentials.accessKey(id: session.accessKeyId))
        #expect(stored.sessionToken == session.sessionToken)
        #expect(abs((stored.expiresAt ?? .distantPast).timeIntervalSince(session.expiration)) < 1)

        // The root of the account is not carol.
        #expect(await code { _ = try await iam.assumeRole(caller: Self.root, roleArn: role.arn, sessionName: "x1", durationSeconds: nil, externalId: nil) }
                == "AccessDenied")
        #expect(await code { _ = try await iam.assumeRole(caller: carol.identity, roleArn: role.arn, sessionName: "x1", durationSeconds: 7200,
                                                          externalId: nil) } == "ValidationError")
        #expect(await code { _ = try await iam.assumeRole(caller: carol.identity, roleArn: "arn:aws:iam::000000000000:role/none", sessionName: "x1",
                                                          durationSeconds: nil, externalId: nil) } == "AccessDenied")

        try await iam.attachRolePolicy(account: Self.account, roleName: "deployer", policyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess")
        #expect(await code { try await iam.attachRolePolicy(account: Self.account, roleName: "deployer",
                                                            policyArn: "arn:aws:iam::000000000000:policy/mine") } == "NoSuchEntity")
        #expect(await code { try await iam.deleteRole(account: Self.account, roleName: "deployer") } == "DeleteConflict")
        try await iam.detachRolePolicy(account: Self.account, roleName: "deployer", policyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess")
        try await iam.deleteRole(account: Self.account, roleName: "deployer")
    }

    @Test func trustPolicies() throws {
        let account = try TrustPolicy(document: Self.trust(#"{"AWS":"000000000000"}"#))
        #expect(account.allows("sts:AssumeRole", by: .aws(arn: "arn:aws:iam::000000000000:user/any", account: "000000000000")))
        #expect(!account.allows("sts:AssumeRole", by: .aws(arn: "arn:aws:iam::111111111111:user/any", account: "111111111111")))
        #expect(!account.allows("sts:AssumeRoleWithWebIdentity", by: .aws(arn: "arn:aws:iam::000000000000:root", account: "000000000000")))

        let role = try TrustPolicy(document: Self.trust(#"{"AWS":["arn:aws:iam::000000000000:role/base"]}"#, action: "sts:*"))
        #expect(role.allows("sts:AssumeRole", by: .aws(arn: "arn:aws:sts::000000000000:assumed-role/base/s", account: "000000000000")))

        let external = try TrustPolicy(document: Self.trust(#""*""#, condition: #","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}"#))
        #expect(external.allows("sts:AssumeRole", by: .aws(arn: "arn:aws:iam::1:root", account: "1"), context: ["sts:ExternalId": "abc"]))
        #expect(!external.allows("sts:AssumeRole", by: .aws(arn: "arn:aws:iam::1:root", account: "1"), context: ["sts:ExternalId": "x"]))
        #expect(!external.allows("sts:AssumeRole", by: .aws(arn: "arn:aws:iam::1:root", account: "1")))

        let web = try TrustPolicy(document: Self.trust(#"{"Federated":"arn:aws:iam::0:oidc-provider/issuer"}"#, action: "sts:AssumeRoleWithWebIdentity",
                                                       condition: #","Condition":{"StringLike":{"issuer:sub":"system:serviceaccount:apps:*"}}"#))
        #expect(web.allows("sts:AssumeRoleWithWebIdentity", by: .federated("arn:aws:iam::0:oidc-provider/issuer"),
                           context: ["issuer:sub": "system:serviceaccount:apps:web"]))
        #expect(!web.allows("sts:AssumeRoleWithWebIdentity", by: .federated("arn:aws:iam::0:oidc-provider/issuer"),
                            context: ["issuer:sub": "system:serviceaccount:other:web"]))

        let denied = try TrustPolicy(document: """
            {"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
                          {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::0:user/mallory"},"Action":"*"}]}
            """)
        #expect(!denied.allows("sts:AssumeRole", by: .aws(arn: "arn:aws:iam::0:user/mallory", account: "0")))
        #expect(denied.allows("sts:AssumeRole", by: .aws(arn: "arn:aws:iam::0:user/alice", account: "0")))
        #expect(throws: TrustPolicy.Malformed.self) { try TrustPolicy(document: #"{"Statement":[{"Effect":"Maybe","Action":"x","Principal":"*"}]}"#) }
    }
}
