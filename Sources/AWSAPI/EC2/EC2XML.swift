import VPC

/// EC2's XML for its resources, with the member names of the EC2 service model.
enum EC2XML {
    static func tagSet(_ tags: [Tag]) -> [XMLElement] {
        tags.isEmpty ? [] : [XMLElement.list("tagSet", tags) { [XMLElement("key", $0.key), XMLElement("value", $0.value)] }]
    }

    static func vpc(_ vpc: VPCRecord) -> [XMLElement] {
        [
            XMLElement("vpcId", vpc.vpcId),
            XMLElement("ownerId", vpc.ownerId),
            XMLElement("state", "available"),
            XMLElement("cidrBlock", vpc.cidrBlock.description),
            XMLElement.list("cidrBlockAssociationSet", [vpc]) { vpc in [
                XMLElement("cidrBlock", vpc.cidrBlock.description),
                XMLElement("associationId", vpc.cidrAssociationId),
                XMLElement("cidrBlockState", [XMLElement("state", "associated")]),
            ] },
            XMLElement("ipv6CidrBlockAssociationSet", []),
            XMLElement("dhcpOptionsId", vpc.dhcpOptionsId),
            XMLElement("instanceTenancy", "default"),
            XMLElement("isDefault", String(vpc.isDefault)),
        ] + tagSet(vpc.tags)
    }

    static func subnet(_ subnet: SubnetRecord) -> [XMLElement] {
        [
            XMLElement("subnetId", subnet.subnetId),
            XMLElement("subnetArn", subnet.subnetArn),
            XMLElement("state", "available"),
            XMLElement("ownerId", subnet.ownerId),
            XMLElement("vpcId", subnet.vpcId),
            XMLElement("cidrBlock", subnet.cidrBlock.description),
            XMLElement("ipv6CidrBlockAssociationSet", []),
            XMLElement("availableIpAddressCount", String(subnet.availableIpAddressCount)),
            XMLElement("availabilityZone", subnet.availabilityZone),
            XMLElement("availabilityZoneId", subnet.availabilityZoneId),
            XMLElement("defaultForAz", String(subnet.defaultForAz)),
            XMLElement("mapPublicIpOnLaunch", String(subnet.mapPublicIpOnLaunch)),
            XMLElement("assignIpv6AddressOnCreation", "false"),
            XMLElement("ipv6Native", "false"),
            XMLElement("mapCustomerOwnedIpOnLaunch", "false"),
            XMLElement("enableDns64", "false"),
        ] + tagSet(subnet.tags)
    }

    static func rule(_ rule: SecurityGroupRule, ownerId: String) -> [XMLElement] {
        [XMLElement("ipProtocol", rule.ipProtocol)]
            + XMLElement.optional("fromPort", rule.fromPort.map(String.init))
            + XMLElement.optional("toPort", rule.toPort.map(String.init))
            + [
                XMLElement.list("groups", rule.groupIds) { [XMLElement("userId", ownerId), XMLElement("groupId", $0)] },
                XMLElement.list("ipRanges", rule.cidrRanges) { [XMLElement("cidrIp", $0)] },
                XMLElement("ipv6Ranges", []),
                XMLElement("prefixListIds", []),
            ]
    }

    static func securityGroup(_ group: SecurityGroupRecord) -> [XMLElement] {
        [
            XMLElement("ownerId", group.ownerId),
            XMLElement("groupId", group.groupId),
            XMLElement("groupName", group.groupName),
            XMLElement("groupDescription", group.description),
            XMLElement("vpcId", group.vpcId),
            XMLElement("securityGroupArn", group.securityGroupArn),
            XMLElement.list("ipPermissions", group.ingress) { rule($0, ownerId: group.ownerId) },
            XMLElement.list("ipPermissionsEgress", group.egress) { rule($0, ownerId: group.ownerId) },
        ] + tagSet(group.tags)
    }

    static func zone(_ zone: AvailabilityZone, region: String) -> [XMLElement] {
        [
            XMLElement("zoneName", zone.name),
            XMLElement("zoneId", zone.id),
            XMLElement("zoneState", "available"),
            XMLElement("regionName", region),
            XMLElement("groupName", region),
            XMLElement("networkBorderGroup", region),
            XMLElement("optInStatus", "opt-in-not-required"),
            XMLElement("zoneType", "availability-zone"),
            XMLElement("messageSet", []),
        ]
    }
}
