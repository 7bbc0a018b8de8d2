import Testing
@testable import KubeAPI

struct AuthorizationTests {
    let chain = AuthenticatorChain([ClientCertificateAuthenticator()])
    let authorizer = MastersAuthorizer()

    @Test func certificatesNameUsersAndRequestsWithoutCredentialsAreAnonymous() async {
        let admin = Credentials(clientCertificate: CertificateSubject(commonName: "admin", organizations: ["system:masters"]), bearerToken: nil)
        #expect(await chain.authenticate(admin) == .user(UserInfo(name: "admin", groups: ["system:masters", "system:authenticated"])))
        #expect(await chain.authenticate(Credentials(clientCertificate: nil, bearerToken: nil)) == .user(.anonymous))
        // A token nobody can read, or a certificate without a name, proves nothing.
        #expect(await chain.authenticate(Credentials(clientCertificate: nil, bearerToken: "k8s-aws-v1.x")) == .rejected)
        #expect(await chain.authenticate(Credentials(clientCertificate: CertificateSubject(commonName: nil, organizations: []),
                                                     bearerToken: nil)) == .rejected)
    }

    func allowed(_ user: UserInfo, get path: String) async -> Bool {
        await authorizer.authorize(AuthorizationRequest(user: user, nonResource: NonResourceAttributes(verb: "get", path: path))).allowed
    }

    func allowed(_ user: UserInfo, _ verb: String, _ resource: String, group: String = "") async -> Bool {
        await authorizer.authorize(AuthorizationRequest(user: user, resource: ResourceAttributes(
            verb: verb, group: group, version: "v1", resource: resource, subresource: nil, namespace: "default", name: nil))).allowed
    }

    @Test func theDefaultRolesOfEveryCluster() async {
        let jane = UserInfo(name: "jane", groups: ["system:authenticated"])
        let admin = UserInfo(name: "admin", groups: ["system:masters", "system:authenticated"])
        #expect(await allowed(.anonymous, get: "/version"))
        #expect(await allowed(.anonymous, get: "/healthz"))
        #expect(await !allowed(.anonymous, get: "/api"))
        #expect(await !allowed(.anonymous, get: "/openapi/v2"))
        #expect(await allowed(jane, get: "/apis/apps/v1"))
        #expect(await !allowed(jane, get: "/metrics"))
        #expect(await allowed(jane, "create", "selfsubjectaccessreviews", group: "authorization.k8s.io"))
        #expect(await !allowed(jane, "list", "pods"))
        #expect(await !allowed(.anonymous, "create", "selfsubjectaccessreviews", group: "authorization.k8s.io"))
        #expect(await allowed(admin, "delete", "nodes"))
        #expect(await allowed(admin, get: "/metrics"))
        #expect(await authorizer.rules(for: .anonymous, namespace: "default").resourceRules.isEmpty)
    }
}
