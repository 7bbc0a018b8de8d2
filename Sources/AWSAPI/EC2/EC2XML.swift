import Foundation
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

    static func keyPair(_ pair: KeyPairRecord, includePublicKey: Bool) -> [XMLElement] {
        [
            XMLElement("keyPairId", pair.keyPairId),
            XMLElement("keyType", pair.keyType),
        ] + tagSet(pair.tags) + [
            XMLElement("keyName", pair.keyName),
            XMLElement("keyFingerprint", pair.keyFingerprint),
        ] + XMLElement.optional("publicKey", includePublicKey ? pair.publicKey : nil) + [
            XMLElement("createTime", ISO8601DateFormatter().string(from: pair.createTime)),
        ]
    }

    static func launchTemplate(_ template: LaunchTemplateRecord) -> [XMLElement] {
        [
            XMLElement("launchTemplateId", template.launchTemplateId),
            XMLElement("launchTemplateName", template.launchTemplateName),
            XMLElement("createTime", ISO8601DateFormatter().string(from: template.createTime)),
            XMLElement("createdBy", template.createdBy),
            XMLElement("defaultVersionNumber", String(template.defaultVersionNumber)),
            XMLElement("latestVersionNumber", String(template.latestVersionNumber)),
        ] + tagSet(template.tags)
    }

    static func launchTemplateVersion(_ template: LaunchTemplateRecord, _ version: LaunchTemplateVersion) -> [XMLElement] {
        let data = version.data
        return [
            XMLElement("launchTemplateId", template.launchTemplateId),
            XMLElement("launchTemplateName", template.launchTemplateName),
            XMLElement("versionNumber", String(version.versionNumber)),
        ] + XMLElement.optional("versionDescription", version.versionDescription) + [
            XMLElement("createTime", ISO8601DateFormatter().string(from: version.createTime)),
            XMLElement("createdBy", template.createdBy),
            XMLElement("defaultVersion", String(version.versionNumber == template.defaultVersionNumber)),
            XMLElement("launchTemplateData",
                       XMLElement.optional("imageId", data.imageId) + XMLElement.optional("instanceType", data.instanceType)
                        + XMLElement.optional("keyName", data.keyName) + XMLElement.optional("userData", data.userData)
                        + (data.securityGroupIds.isEmpty ? [] : [XMLElement("securityGroupIdSet", data.securityGroupIds.map { XMLElement("item", $0) })])),
        ]
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

    static func instance(_ instance: InstanceRecord, region: String, index: Int) -> [XMLElement] {
        let dns = instance.state == .terminated ? "" : instance.privateDnsName(region: region)
        return [
            XMLElement("instanceId", instance.instanceId),
            XMLElement("imageId", instance.imageId),
            XMLElement("instanceState", [XMLElement("code", String(instance.state.code)), XMLElement("name", instance.state.rawValue)]),
            XMLElement("privateDnsName", dns),
            XMLElement("dnsName", ""),
            XMLElement("reason", instance.stateTransitionReason),
            XMLElement("amiLaunchIndex", String(index)),
            XMLElement("productCodes", []),
            XMLElement("instanceType", instance.instanceType),
            XMLElement("launchTime", ISO8601DateFormatter().string(from: instance.launchTime)),
            XMLElement("placement", [XMLElement("availabilityZone", instance.availabilityZone), XMLElement("groupName", ""),
                                     XMLElement("tenancy", "default")]),
            XMLElement("monitoring", [XMLElement("state", "disabled")]),
        ] + (instance.state == .terminated ? [] : [
            XMLElement("subnetId", instance.subnetId),
            XMLElement("vpcId", instance.vpcId),
            XMLElement("privateIpAddress", instance.privateIpAddress),
        ]) + [
            XMLElement("sourceDestCheck", "true"),
            XMLElement.list("groupSet", instance.securityGroupIds) { [XMLElement("groupId", $0)] },
            XMLElement("architecture", "x86_64"),
            XMLElement("rootDeviceType", "ebs"),
            XMLElement("rootDeviceName", "/dev/xvda"),
            XMLElement("virtualizationType", "hvm"),
            XMLElement("hypervisor", "xen"),
            XMLElement("ebsOptimized", "false"),
            XMLElement("platformDetails", "Linux/UNIX"),
            XMLElement("usageOperation", "RunInstances"),
        ] + tagSet(instance.tags)
    }

    /// `DescribeInstances` groups instances by reservation: one per launch here.
    static func reservations(_ instances: [InstanceRecord], region: String, ownerId: String) -> XMLElement {
        XMLElement.list("reservationSet", instances) { instance in [
            XMLElement("reservationId", "r-" + instance.instanceId.dropFirst(2)),
            XMLElement("ownerId", ownerId),
            XMLElement("groupSet", []),
            XMLElement.list("instancesSet", [instance]) { Self.instance($0, region: region, index: 0) },
        ] }
    }

    static func stateChange(_ instance: InstanceRecord, previous: InstanceRecord.State) -> [XMLElement] {
        [
            XMLElement("instanceId", instance.instanceId),
            XMLElement("currentState", [XMLElement("code", String(instance.state.code)), XMLElement("name", instance.state.rawValue)]),
            XMLElement("previousState", [XMLElement("code", String(previous.code)), XMLElement("name", previous.rawValue)]),
        ]
    }
}
