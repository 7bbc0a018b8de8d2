import Auth
import VPC

/// The part of Amazon EC2 an EKS user touches, over the EC2 protocol:
/// VPCs, subnets, security groups and availability zones.
public struct EC2API: AWSService {
    public let signingName = "ec2"
    public static let namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"
    public let wireProtocol = WireProtocol.ec2
    public let signatureErrors = SignatureErrorCodes.ec2

    private let network: RegionNetwork

    public init(network: RegionNetwork) {
        self.network = network
    }

    public func awsError(for error: any Error) -> AWSError? {
        switch error {
        case let error as AWSError: error
        case let error as EC2Error: AWSError(error)
        default: nil
        }
    }

    public func trailCall(_ request: AWSRequest) -> TrailCall? { .query(request) }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        let p = request.queryParameters
        let action = p["Action"] ?? ""
        guard Self.actions.contains(action) else {
            throw EC2Error("InvalidAction", "The action \(action) is not valid for this web service.")
        }
        if p.bool("DryRun") {
            throw EC2Error("DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
        }
        let members: [XMLElement]
        switch action {
        case "DescribeVpcs":
            let page = try await network.describeVpcs(ids: p.list("VpcId"), filters: Self.filters(p),
                                                      maxResults: try p.int("MaxResults"), nextToken: p["NextToken"])
            members = [XMLElement.list("vpcSet", page.items, EC2XML.vpc)] + XMLElement.optional("nextToken", page.nextToken)
        case "CreateVpc":
            let vpc = try await network.createVpc(cidrBlock: p["CidrBlock"], tags: try Self.tags(p, resourceType: "vpc"))
            members = [XMLElement("vpc", EC2XML.vpc(vpc))]
        case "DeleteVpc":
            guard let id = p["VpcId"] else { throw EC2Error.missingParameter("VpcId") }
            try await network.deleteVpc(id: id)
            members = [XMLElement("return", "true")]
        case "DescribeSubnets":
            let page = try await network.describeSubnets(ids: p.list("SubnetId"), filters: Self.filters(p),
                                                         maxResults: try p.int("MaxResults"), nextToken: p["NextToken"])
            members = [XMLElement.list("subnetSet", page.items, EC2XML.subnet)] + XMLElement.optional("nextToken", page.nextToken)
        case "CreateSubnet":
            let subnet = try await network.createSubnet(vpcId: p["VpcId"], cidrBlock: p["CidrBlock"],
                                                        availabilityZone: p["AvailabilityZone"],
                                                        availabilityZoneId: p["AvailabilityZoneId"],
                                                        tags: try Self.tags(p, resourceType: "subnet"))
            members = [XMLElement("subnet", EC2XML.subnet(subnet))]
        case "DeleteSubnet":
            try await network.deleteSubnet(id: p["SubnetId"])
            members = [XMLElement("return", "true")]
        case "DescribeSecurityGroups":
            let page = try await network.describeSecurityGroups(ids: p.list("GroupId"), names: p.list("GroupName"),
                                                                filters: Self.filters(p), maxResults: try p.int("MaxResults"),
                                                                nextToken: p["NextToken"])
            members = [XMLElement.list("securityGroupInfo", page.items, EC2XML.securityGroup)]
                + XMLElement.optional("nextToken", page.nextToken)
        case "DescribeInstances":
            let page = try await network.describeInstances(ids: p.list("InstanceId"), filters: Self.filters(p),
                                                           maxResults: try p.int("MaxResults"), nextToken: p["NextToken"])
            members = [EC2XML.reservations(page.items, region: network.region.name, ownerId: network.region.account)]
                + XMLElement.optional("nextToken", page.nextToken)
        case "TerminateInstances":
            let ids = p.list("InstanceId")
            let before = try await network.describeInstances(ids: ids, filters: [], maxResults: nil, nextToken: nil).items
            let after = try await network.terminateInstances(ids: ids)
            members = [XMLElement.list("instancesSet", Array(zip(after, before))) { EC2XML.stateChange($0.0, previous: $0.1.state) }]
        case "CreateLaunchTemplate":
            let data = LaunchTemplateData(imageId: p["LaunchTemplateData.ImageId"], instanceType: p["LaunchTemplateData.InstanceType"],
                                          keyName: p["LaunchTemplateData.KeyName"], userData: p["LaunchTemplateData.UserData"],
                                          securityGroupIds: p.list("LaunchTemplateData.SecurityGroupId"))
            let template = try await network.createLaunchTemplate(name: p["LaunchTemplateName"], description: p["VersionDescription"], data: data,
                                                                  tags: try Self.tags(p, resourceType: "launch-template"),
                                                                  createdBy: request.caller.identity.arn)
            members = [XMLElement("launchTemplate", EC2XML.launchTemplate(template))]
        case "DescribeLaunchTemplates":
            let templates = try await network.describeLaunchTemplates(ids: p.list("LaunchTemplateId"), names: p.list("LaunchTemplateName"))
            members = [XMLElement.list("launchTemplates", templates, EC2XML.launchTemplate)]
        case "DescribeLaunchTemplateVersions":
            let versions = try await network.describeLaunchTemplateVersions(id: p["LaunchTemplateId"], name: p["LaunchTemplateName"],
                                                                            versions: p.list("LaunchTemplateVersion"))
            members = [XMLElement.list("launchTemplateVersionSet", versions) { EC2XML.launchTemplateVersion($0.0, $0.1) }]
        case "CreateKeyPair":
            let (pair, material) = try await network.createKeyPair(name: p["KeyName"], type: p["KeyType"], format: p["KeyFormat"],
                                                                   tags: try Self.tags(p, resourceType: "key-pair"))
            members = [XMLElement("keyName", pair.keyName), XMLElement("keyFingerprint", pair.keyFingerprint),
                       XMLElement("keyMaterial", material), XMLElement("keyPairId", pair.keyPairId)] + EC2XML.tagSet(pair.tags)
        case "DescribeKeyPairs":
            let pairs = try await network.describeKeyPairs(names: p.list("KeyName"), ids: p.list("KeyPairId"))
            let withPublicKey = p.bool("IncludePublicKey")
            members = [XMLElement.list("keySet", pairs) { EC2XML.keyPair($0, includePublicKey: withPublicKey) }]
        case "DeleteKeyPair":
            try await network.deleteKeyPair(name: p["KeyName"], id: p["KeyPairId"])
            members = [XMLElement("return", "true")]
        default: // DescribeAvailabilityZones
            let zones = try network.describeAvailabilityZones(names: p.list("ZoneName"), ids: p.list("ZoneId"), filters: Self.filters(p))
            members = [XMLElement.list("availabilityZoneInfo", zones) { EC2XML.zone($0, region: network.region.name) }]
        }
        return .xml(XMLElement("\(action)Response", attributes: [("xmlns", Self.namespace)],
                               [XMLElement("requestId", request.requestId)] + members))
    }

    private static let actions: Set<String> = [
        "DescribeVpcs", "CreateVpc", "DeleteVpc", "DescribeSubnets", "CreateSubnet", "DeleteSubnet",
        "DescribeSecurityGroups", "DescribeAvailabilityZones", "DescribeInstances", "TerminateInstances",
        "CreateLaunchTemplate", "DescribeLaunchTemplates", "DescribeLaunchTemplateVersions", "CreateKeyPair", "DescribeKeyPairs",
        "DeleteKeyPair",
    ]

    /// `Filter.N.Name` with `Filter.N.Value.M`.
    static func filters(_ p: QueryParameters) -> [EC2Filter] {
        p.indices(of: "Filter").compactMap { index in
            guard let name = p["Filter.\(index).Name"] else { return nil }
            return EC2Filter(name: name, values: p.list("Filter.\(index).Value"))
        }
    }

    /// The tags of `TagSpecification.N` entries for `resourceType`; other types are refused as EC2 does.
    static func tags(_ p: QueryParameters, resourceType: String) throws(EC2Error) -> [Tag] {
        var tags: [Tag] = []
        for index in p.indices(of: "TagSpecification") {
            let prefix = "TagSpecification.\(index)"
            let type = p["\(prefix).ResourceType"] ?? ""
            guard type == resourceType else {
                throw EC2Error("InvalidParameterValue", "'\(type)' is not a valid taggable resource type for this operation.")
            }
            for tagIndex in p.indices(of: "\(prefix).Tag") {
                guard let key = p["\(prefix).Tag.\(tagIndex).Key"] else { continue }
                tags.append(Tag(key: key, value: p["\(prefix).Tag.\(tagIndex).Value"] ?? ""))
            }
        }
        return tags
    }
}
