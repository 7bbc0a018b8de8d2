import Auth
import EKS
import Foundation

/// Amazon EKS over rest-json: the routes of the EKS service model, each
/// bound to the `EKSService` operation of the same name.
public struct EKSAPI: AWSService {
    public let signingName = "eks"
    public let wireProtocol = WireProtocol.restJSON
    public let signatureErrors = SignatureErrorCodes.json

    private let eks: EKSService

    public init(eks: EKSService) {
        self.eks = eks
    }

    private static let routes: [RestRoute] = [
        RestRoute("POST", "/clusters", "CreateCluster"),
        RestRoute("GET", "/clusters", "ListClusters"),
        RestRoute("GET", "/clusters/{name}", "DescribeCluster"),
        RestRoute("DELETE", "/clusters/{name}", "DeleteCluster"),
        RestRoute("POST", "/clusters/{name}/update-config", "UpdateClusterConfig"),
        RestRoute("POST", "/clusters/{name}/updates", "UpdateClusterVersion"),
        RestRoute("POST", "/clusters/{clusterName}/encryption-config/associate", "AssociateEncryptionConfig"),
        RestRoute("GET", "/clusters/{name}/updates", "ListUpdates"),
        RestRoute("GET", "/clusters/{name}/updates/{updateId}", "DescribeUpdate"),
        RestRoute("GET", "/cluster-versions", "DescribeClusterVersions"),
        RestRoute("POST", "/clusters/{name}/node-groups", "CreateNodegroup"),
        RestRoute("GET", "/clusters/{name}/node-groups", "ListNodegroups"),
        RestRoute("GET", "/clusters/{name}/node-groups/{nodegroupName}", "DescribeNodegroup"),
        RestRoute("DELETE", "/clusters/{name}/node-groups/{nodegroupName}", "DeleteNodegroup"),
        RestRoute("POST", "/clusters/{name}/node-groups/{nodegroupName}/update-config", "UpdateNodegroupConfig"),
        RestRoute("POST", "/clusters/{name}/node-groups/{nodegroupName}/update-version", "UpdateNodegroupVersion"),
        RestRoute("POST", "/clusters/{name}/access-entries", "CreateAccessEntry"),
        RestRoute("GET", "/clusters/{name}/access-entries", "ListAccessEntries"),
        RestRoute("GET", "/clusters/{name}/access-entries/{principalArn}", "DescribeAccessEntry"),
        RestRoute("POST", "/clusters/{name}/access-entries/{principalArn}", "UpdateAccessEntry"),
        RestRoute("DELETE", "/clusters/{name}/access-entries/{principalArn}", "DeleteAccessEntry"),
        RestRoute("POST", "/clusters/{name}/access-entries/{principalArn}/access-policies", "AssociateAccessPolicy"),
        RestRoute("GET", "/clusters/{name}/access-entries/{principalArn}/access-policies", "ListAssociatedAccessPolicies"),
        RestRoute("DELETE", "/clusters/{name}/access-entries/{principalArn}/access-policies/{policyArn}", "DisassociateAccessPolicy"),
        RestRoute("GET", "/access-policies", "ListAccessPolicies"),
        RestRoute("POST", "/clusters/{name}/pod-identity-associations", "CreatePodIdentityAssociation"),
        RestRoute("GET", "/clusters/{name}/pod-identity-associations", "ListPodIdentityAssociations"),
        RestRoute("GET", "/clusters/{name}/pod-identity-associations/{associationId}", "DescribePodIdentityAssociation"),
        RestRoute("POST", "/clusters/{name}/pod-identity-associations/{associationId}", "UpdatePodIdentityAssociation"),
        RestRoute("DELETE", "/clusters/{name}/pod-identity-associations/{associationId}", "DeletePodIdentityAssociation"),
        RestRoute("GET", "/addons/supported-versions", "DescribeAddonVersions"),
        RestRoute("GET", "/addons/configuration-schemas", "DescribeAddonConfiguration"),
        RestRoute("POST", "/clusters/{name}/addons", "CreateAddon"),
        RestRoute("GET", "/clusters/{name}/addons", "ListAddons"),
        RestRoute("GET", "/clusters/{name}/addons/{addonName}", "DescribeAddon"),
        RestRoute("POST", "/clusters/{name}/addons/{addonName}/update", "UpdateAddon"),
        RestRoute("DELETE", "/clusters/{name}/addons/{addonName}", "DeleteAddon"),
        RestRoute("POST", "/clusters/{name}/identity-provider-configs/associate", "AssociateIdentityProviderConfig"),
        RestRoute("POST", "/clusters/{name}/identity-provider-configs/describe", "DescribeIdentityProviderConfig"),
        RestRoute("POST", "/clusters/{name}/identity-provider-configs/disassociate", "DisassociateIdentityProviderConfig"),
        RestRoute("GET", "/clusters/{name}/identity-provider-configs", "ListIdentityProviderConfigs"),
        RestRoute("POST", "/cluster-registrations", "RegisterCluster"),
        RestRoute("DELETE", "/cluster-registrations/{name}", "DeregisterCluster"),
        RestRoute("POST", "/eks-anywhere-subscriptions", "CreateEksAnywhereSubscription"),
        RestRoute("GET", "/eks-anywhere-subscriptions", "ListEksAnywhereSubscriptions"),
        RestRoute("GET", "/eks-anywhere-subscriptions/{id}", "DescribeEksAnywhereSubscription"),
        RestRoute("POST", "/eks-anywhere-subscriptions/{id}", "UpdateEksAnywhereSubscription"),
        RestRoute("DELETE", "/eks-anywhere-subscriptions/{id}", "DeleteEksAnywhereSubscription"),
        RestRoute("POST", "/clusters/{name}/capabilities", "CreateCapability"),
        RestRoute("GET", "/clusters/{name}/capabilities", "ListCapabilities"),
        RestRoute("GET", "/clusters/{name}/capabilities/{capabilityName}", "DescribeCapability"),
        RestRoute("POST", "/clusters/{name}/capabilities/{capabilityName}", "UpdateCapability"),
        RestRoute("DELETE", "/clusters/{name}/capabilities/{capabilityName}", "DeleteCapability"),
        RestRoute("POST", "/clusters/{name}/insights", "ListInsights"),
        RestRoute("GET", "/clusters/{name}/insights/{id}", "DescribeInsight"),
        RestRoute("POST", "/clusters/{name}/insights-refresh", "StartInsightsRefresh"),
        RestRoute("GET", "/clusters/{name}/insights-refresh", "DescribeInsightsRefresh"),
        RestRoute("POST", "/clusters/{name}/fargate-profiles", "CreateFargateProfile"),
        RestRoute("GET", "/clusters/{name}/fargate-profiles", "ListFargateProfiles"),
        RestRoute("GET", "/clusters/{name}/fargate-profiles/{fargateProfileName}", "DescribeFargateProfile"),
        RestRoute("DELETE", "/clusters/{name}/fargate-profiles/{fargateProfileName}", "DeleteFargateProfile"),
        RestRoute("POST", "/tags/{resourceArn}", "TagResource"),
        RestRoute("DELETE", "/tags/{resourceArn}", "UntagResource"),
        RestRoute("GET", "/tags/{resourceArn}", "ListTagsForResource"),
    ]

    public func trailCall(_ request: AWSRequest) -> TrailCall? {
        for route in Self.routes {
            guard let path = route.match(method: request.method, rawPath: request.rawPath) else { continue }
            return .json(route.operation, body: request.body, extra: path)
        }
        return nil
    }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        for route in Self.routes {
            guard let path = route.match(method: request.method, rawPath: request.rawPath) else { continue }
            do {
                return try await perform(route.operation, RestCall(request: request, path: path))
            } catch var error as EKSError {
                // EKS names the cluster (and node group, add-on) a request was about beside every error of it.
                if error.clusterName == nil, let name = path["name"] { error.clusterName = name }
                if error.nodegroupName == nil, let name = path["nodegroupName"] { error.nodegroupName = name }
                if error.addonName == nil, let name = path["addonName"] { error.addonName = name }
                throw error
            }
        }
        throw AWSError(code: "UnknownOperationException", message: "No EKS operation at \(request.method) \(request.rawPath).",
                       status: 404)
    }

    public func awsError(for error: any Error) -> AWSError? {
        switch error {
        case let error as AWSError: error
        case let error as EKSError: AWSError(error)
        default: nil
        }
    }

    private func perform(_ operation: String, _ call: RestCall) async throws -> AWSResponse {
        let name = call.pathParameter("name")
        switch operation {
        case "CreateCluster":
            return try .json(["cluster": try await eks.createCluster(try call.body(CreateClusterRequest.self),
                                                                      creatorArn: call.request.caller.identity.arn)])
        case "ListClusters":
            let include = call.queryList("include") ?? []
            if let other = include.first(where: { $0 != "all" }) {
                throw RestCall.invalid("include must be all, not \(other).")
            }
            let page = try await eks.listClusters(maxResults: try call.queryInt("maxResults"), nextToken: call.query("nextToken"),
                                                  includeRegistered: !include.isEmpty)
            return try .json(NamedPage(key: "clusters", page: page))
        case "DescribeCluster":
            return try .json(["cluster": try await eks.describeAnyCluster(name: name)])
        case "DeleteCluster":
            return try .json(["cluster": try await eks.deleteCluster(name: name)])
        case "UpdateClusterConfig":
            return try .json(["update": try await eks.updateClusterConfig(name: name, try call.body(UpdateClusterConfigRequest.self))])
        case "AssociateEncryptionConfig":
            struct Input: Decodable { var encryptionConfig: [EncryptionConfig]; var clientRequestToken: String? }
            return try .json(["update": try await eks.associateEncryptionConfig(name: call.pathParameter("clusterName"),
                                                                                 encryptionConfig: try call.body(Input.self).encryptionConfig)])
        case "UpdateClusterVersion":
            return try .json(["update": try await eks.updateClusterVersion(name: name, try call.body(UpdateClusterVersionRequest.self))])
        case "ListUpdates":
            let page = try await eks.listUpdates(name: name, nodegroupName: call.query("nodegroupName"), addonName: call.query("addonName"),
                                                 capabilityName: call.query("capabilityName"), maxResults: try call.queryInt("maxResults"), nextToken: call.query("nextToken"))
            return try .json(NamedPage(key: "updateIds", page: page))
        case "DescribeUpdate":
            return try .json(["update": try await eks.describeUpdate(name: name, updateId: call.pathParameter("updateId"),
                                                                      nodegroupName: call.query("nodegroupName"),
                                                                      addonName: call.query("addonName"),
                                                                      capabilityName: call.query("capabilityName"))])
        case "DescribeClusterVersions":
            let page = try eks.describeClusterVersions(DescribeClusterVersionsRequest(
                clusterType: call.query("clusterType"), maxResults: try call.queryInt("maxResults"),
                nextToken: call.query("nextToken"), defaultOnly: try call.queryBool("defaultOnly"),
                includeAll: try call.queryBool("includeAll"), clusterVersions: call.queryList("clusterVersions"),
                status: call.query("status"), versionStatus: call.query("versionStatus")))
            return try .json(NamedPage(key: "clusterVersions", page: page))
        case "CreateNodegroup":
            return try .json(["nodegroup": try await eks.createNodegroup(clusterName: name, try call.body(CreateNodegroupRequest.self))])
        case "ListNodegroups":
            let page = try await eks.listNodegroups(clusterName: name, maxResults: try call.queryInt("maxResults"),
                                                    nextToken: call.query("nextToken"))
            return try .json(NamedPage(key: "nodegroups", page: page))
        case "DescribeNodegroup":
            return try .json(["nodegroup": try await eks.describeNodegroup(clusterName: name, nodegroupName: call.pathParameter("nodegroupName"))])
        case "DeleteNodegroup":
            return try .json(["nodegroup": try await eks.deleteNodegroup(clusterName: name, nodegroupName: call.pathParameter("nodegroupName"))])
        case "UpdateNodegroupConfig":
            return try .json(["update": try await eks.updateNodegroupConfig(
                clusterName: name, nodegroupName: call.pathParameter("nodegroupName"), try call.body(UpdateNodegroupConfigRequest.self))])
        case "UpdateNodegroupVersion":
            return try .json(["update": try await eks.updateNodegroupVersion(
                clusterName: name, nodegroupName: call.pathParameter("nodegroupName"), try call.body(UpdateNodegroupVersionRequest.self))])
        case "CreateAccessEntry":
            return try .json(["accessEntry": try await eks.createAccessEntry(clusterName: name, try call.body(CreateAccessEntryRequest.self))])
        case "ListAccessEntries":
            let page = try await eks.listAccessEntries(clusterName: name, associatedPolicyArn: call.query("associatedPolicyArn"),
                                                       maxResults: try call.queryInt("maxResults"), nextToken: call.query("nextToken"))
            return try .json(NamedPage(key: "accessEntries", page: page))
        case "DescribeAccessEntry":
            return try .json(["accessEntry": try await eks.describeAccessEntry(clusterName: name, principalArn: call.pathParameter("principalArn"))])
        case "UpdateAccessEntry":
            return try .json(["accessEntry": try await eks.updateAccessEntry(clusterName: name, principalArn: call.pathParameter("principalArn"),
                                                                              try call.body(UpdateAccessEntryRequest.self))])
        case "DeleteAccessEntry":
            try await eks.deleteAccessEntry(clusterName: name, principalArn: call.pathParameter("principalArn"))
            return try .json([String: String]())
        case "AssociateAccessPolicy":
            let principalArn = call.pathParameter("principalArn")
            let association = try await eks.associateAccessPolicy(clusterName: name, principalArn: principalArn,
                                                                  try call.body(AssociateAccessPolicyRequest.self))
            return try .json(AssociatedPolicyResponse(clusterName: name, principalArn: principalArn, associatedAccessPolicy: association))
        case "ListAssociatedAccessPolicies":
            let principalArn = call.pathParameter("principalArn")
            let page = try await eks.listAssociatedAccessPolicies(clusterName: name, principalArn: principalArn,
                                                                  maxResults: try call.queryInt("maxResults"), nextToken: call.query("nextToken"))
            return try .json(AssociatedPoliciesPage(clusterName: name, principalArn: principalArn, nextToken: page.nextToken,
                                                    associatedAccessPolicies: page.items))
        case "DisassociateAccessPolicy":
            try await eks.disassociateAccessPolicy(clusterName: name, principalArn: call.pathParameter("principalArn"),
                                                   policyArn: call.pathParameter("policyArn"))
            return try .json([String: String]())
        case "ListAccessPolicies":
            let page = try eks.listAccessPolicies(maxResults: try call.queryInt("maxResults"), nextToken: call.query("nextToken"))
            return try .json(NamedPage(key: "accessPolicies", page: page))
        case "CreatePodIdentityAssociation":
            return try .json(["association": try await eks.createPodIdentityAssociation(
                clusterName: name, try call.body(CreatePodIdentityAssociationRequest.self))])
        case "ListPodIdentityAssociations":
            let page = try await eks.listPodIdentityAssociations(clusterName: name, namespace: call.query("namespace"),
                                                                 serviceAccount: call.query("serviceAccount"),
                                                                 maxResults: try call.queryInt("maxResults"), nextToken: call.query("nextToken"))
            return try .json(NamedPage(key: "associations", page: page))
        case "DescribePodIdentityAssociation":
            return try .json(["association": try await eks.describePodIdentityAssociation(clusterName: name,
                                                                                         associationId: call.pathParameter("associationId"))])
        case "UpdatePodIdentityAssociation":
            return try .json(["association": try await eks.updatePodIdentityAssociation(
                clusterName: name, associationId: call.pathParameter("associationId"), try call.body(UpdatePodIdentityAssociationRequest.self))])
        case "DeletePodIdentityAssociation":
            return try .json(["association": try await eks.deletePodIdentityAssociation(clusterName: name,
                                                                                       associationId: call.pathParameter("associationId"))])
        case "DescribeAddonVersions":
            let page = try eks.describeAddonVersions(kubernetesVersion: call.query("kubernetesVersion"), addonName: call.query("addonName"),
                                                     types: call.queryList("types"), publishers: call.queryList("publishers"),
                                                     owners: call.queryList("owners"), maxResults: try call.queryInt("maxResults"),
                                                     nextToken: call.query("nextToken"))
            return try .json(NamedPage(key: "addons", page: page))
        case "DescribeAddonConfiguration":
            guard let addonName = call.query("addonName"), let addonVersion = call.query("addonVersion") else {
                throw RestCall.invalid("addonName and addonVersion are required.")
            }
            return try .json(try eks.describeAddonConfiguration(addonName: addonName, addonVersion: addonVersion))
        case "CreateAddon":
            return try .json(["addon": try await eks.createAddon(clusterName: name, try call.body(CreateAddonRequest.self))])
        case "ListAddons":
            let page = try await eks.listAddons(clusterName: name, maxResults: try call.queryInt("maxResults"), nextToken: call.query("nextToken"))
            return try .json(NamedPage(key: "addons", page: page))
        case "DescribeAddon":
            return try .json(["addon": try await eks.describeAddon(clusterName: name, addonName: call.pathParameter("addonName"))])
        case "UpdateAddon":
            return try .json(["update": try await eks.updateAddon(clusterName: name, addonName: call.pathParameter("addonName"),
                                                                  try call.body(UpdateAddonRequest.self))])
        case "DeleteAddon":
            return try .json(["addon": try await eks.deleteAddon(clusterName: name, addonName: call.pathParameter("addonName"),
                                                                  preserve: try call.queryBool("preserve") ?? false)])
        case "AssociateIdentityProviderConfig":
            let (update, tags) = try await eks.associateIdentityProviderConfig(clusterName: name,
                                                                                try call.body(AssociateIdentityProviderConfigRequest.self))
            return try .json(AssociatedIdentityProvider(update: update, tags: tags))
        case "DescribeIdentityProviderConfig":
            let config = try await eks.describeIdentityProviderConfig(clusterName: name, try call.body(IdentityProviderConfigInput.self).identityProviderConfig)
            return try .json(["identityProviderConfig": ["oidc": config]])
        case "DisassociateIdentityProviderConfig":
            return try .json(["update": try await eks.disassociateIdentityProviderConfig(
                clusterName: name, try call.body(IdentityProviderConfigInput.self).identityProviderConfig)])
        case "ListIdentityProviderConfigs":
            let page = try await eks.listIdentityProviderConfigs(clusterName: name, maxResults: try call.queryInt("maxResults"),
                                                                 nextToken: call.query("nextToken"))
            return try .json(NamedPage(key: "identityProviderConfigs", page: page))
        case "RegisterCluster":
            return try .json(["cluster": try await eks.registerCluster(try call.body(RegisterClusterRequest.self))])
        case "DeregisterCluster":
            return try .json(["cluster": try await eks.deregisterCluster(name: name)])
        case "CreateEksAnywhereSubscription":
            return try .json(["subscription": try await eks.createEksAnywhereSubscription(try call.body(CreateEksAnywhereSubscriptionRequest.self))])
        case "ListEksAnywhereSubscriptions":
            let page = try await eks.listEksAnywhereSubscriptions(includeStatus: call.queryList("includeStatus"),
                                                                  maxResults: try call.queryInt("maxResults"), nextToken: call.query("nextToken"))
            return try .json(NamedPage(key: "subscriptions", page: page))
        case "DescribeEksAnywhereSubscription":
            return try .json(["subscription": try await eks.describeEksAnywhereSubscription(id: call.pathParameter("id"))])
        case "UpdateEksAnywhereSubscription":
            struct Input: Decodable { var autoRenew: Bool; var clientRequestToken: String? }
            return try .json(["subscription": try await eks.updateEksAnywhereSubscription(id: call.pathParameter("id"),
                                                                                         autoRenew: try call.body(Input.self).autoRenew)])
        case "DeleteEksAnywhereSubscription":
            return try .json(["subscription": try await eks.deleteEksAnywhereSubscription(id: call.pathParameter("id"))])
        case "CreateCapability":
            return try .json(["capability": try await eks.createCapability(clusterName: name, try call.body(CreateCapabilityRequest.self))])
        case "ListCapabilities":
            let page = try await eks.listCapabilities(clusterName: name, maxResults: try call.queryInt("maxResults"), nextToken: call.query("nextToken"))
            return try .json(NamedPage(key: "capabilities", page: page))
        case "DescribeCapability":
            return try .json(["capability": try await eks.describeCapability(clusterName: name, capabilityName: call.pathParameter("capabilityName"))])
        case "UpdateCapability":
            return try .json(["update": try await eks.updateCapability(clusterName: name, capabilityName: call.pathParameter("capabilityName"),
                                                                       try call.body(UpdateCapabilityRequest.self))])
        case "DeleteCapability":
            return try .json(["capability": try await eks.deleteCapability(clusterName: name, capabilityName: call.pathParameter("capabilityName"))])
        case "ListInsights":
            struct Input: Decodable { var filter: InsightsFilter?; var maxResults: Int?; var nextToken: String? }
            let input = try call.body(Input.self)
            let page = try await eks.listInsights(clusterName: name, filter: input.filter, maxResults: input.maxResults, nextToken: input.nextToken)
            return try .json(NamedPage(key: "insights", page: page))
        case "DescribeInsight":
            return try .json(["insight": try await eks.describeInsight(clusterName: name, id: call.pathParameter("id"))])
        case "StartInsightsRefresh":
            let refresh = try await eks.startInsightsRefresh(clusterName: name)
            return try .json(["status": refresh.status, "message": refresh.message])
        case "DescribeInsightsRefresh":
            return try .json(try await eks.describeInsightsRefresh(clusterName: name))
        case "CreateFargateProfile":
            return try .json(["fargateProfile": try await eks.createFargateProfile(clusterName: name, try call.body(CreateFargateProfileRequest.self))])
        case "ListFargateProfiles":
            let page = try await eks.listFargateProfiles(clusterName: name, maxResults: try call.queryInt("maxResults"), nextToken: call.query("nextToken"))
            return try .json(NamedPage(key: "fargateProfileNames", page: page))
        case "DescribeFargateProfile":
            return try .json(["fargateProfile": try await eks.describeFargateProfile(clusterName: name,
                                                                                     name: call.pathParameter("fargateProfileName"))])
        case "DeleteFargateProfile":
            return try .json(["fargateProfile": try await eks.deleteFargateProfile(clusterName: name, name: call.pathParameter("fargateProfileName"))])
        case "TagResource":
            struct Input: Decodable { var tags: [String: String] }
            let input = try call.body(Input.self)
            try await eks.tagResource(arn: call.pathParameter("resourceArn"), tags: input.tags)
            return try .json([String: String]())
        case "UntagResource":
            try await eks.untagResource(arn: call.pathParameter("resourceArn"), tagKeys: call.queryList("tagKeys") ?? [])
            return try .json([String: String]())
        case "ListTagsForResource":
            return try .json(["tags": try await eks.listTagsForResource(arn: call.pathParameter("resourceArn"))])
        default:
            throw AWSError(code: "UnknownOperationException", message: "Unknown operation \(operation).", status: 404)
        }
    }
}

struct AssociatedIdentityProvider: Encodable {
    let update: Update
    let tags: [String: String]?
}

struct IdentityProviderConfigInput: Decodable {
    let identityProviderConfig: IdentityProviderConfig
    let clientRequestToken: String?
}

struct AssociatedPolicyResponse: Encodable {
    let clusterName: String
    let principalArn: String
    let associatedAccessPolicy: AssociatedAccessPolicy
}

struct AssociatedPoliciesPage: Encodable {
    let clusterName: String
    let principalArn: String
    let nextToken: String?
    let associatedAccessPolicies: [AssociatedAccessPolicy]
}

/// A list response: the items under the operation's own key, and `nextToken`.
struct NamedPage<Item: Encodable & Sendable>: Encodable {
    let key: String
    let page: ListPage<Item>

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(page.items, forKey: Key(stringValue: key))
        try container.encodeIfPresent(page.nextToken, forKey: Key(stringValue: "nextToken"))
    }
}
