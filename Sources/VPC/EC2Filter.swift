/// A `Filter.N` of an EC2 Describe call: a name and the values any of which may match,
/// with `*` and `?` as wildcards.
public struct EC2Filter: Sendable, Equatable {
    public let name: String
    public let values: [String]

    public init(name: String, values: [String]) {
        self.name = name
        self.values = values
    }
}

/// A resource that Describe calls filter: it gives the values it has for a filter name.
public protocol EC2Filterable {
    /// The resource's values for `filter`, or nil if the name is not a filter of this resource.
    func values(forFilter filter: String) -> [String]?
    var tags: [Tag] { get }
}

extension EC2Filterable {
    func tagValues(forFilter filter: String) -> [String]? {
        if filter.hasPrefix("tag:") {
            let key = filter.dropFirst(4)
            return tags.filter { $0.key == key }.map(\.value)
        }
        switch filter {
        case "tag-key": return tags.map(\.key)
        case "tag-value": return tags.map(\.value)
        default: return nil
        }
    }
}

enum EC2Filtering {
    /// Keeps the resources that match every filter (filters AND, values OR).
    static func apply<R: EC2Filterable>(_ filters: [EC2Filter], to resources: [R]) throws(EC2Error) -> [R] {
        for filter in filters {
            guard let sample = resources.first else { break }
            guard sample.values(forFilter: filter.name) != nil || sample.tagValues(forFilter: filter.name) != nil else {
                throw EC2Error("InvalidParameterValue", "The filter '\(filter.name)' is invalid")
            }
        }
        return resources.filter { resource in
            filters.allSatisfy { filter in
                let have = resource.values(forFilter: filter.name) ?? resource.tagValues(forFilter: filter.name) ?? []
                return filter.values.contains { pattern in have.contains { wildcardMatch(pattern, $0) } }
            }
        }
    }

    static func wildcardMatch(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

/// One page of a Describe call's results.
public struct EC2Page<Item: Sendable>: Sendable {
    public let items: [Item]
    public let nextToken: String?
}

enum EC2Paging {
    /// Pages `items` after the one whose id is in `nextToken`; `maxResults` must be within `bounds`.
    static func page<Item>(_ items: [Item], id: (Item) -> String, maxResults: Int?, nextToken: String?,
                           bounds: ClosedRange<Int> = 5...1000) throws(EC2Error) -> EC2Page<Item> {
        var start = 0
        if let nextToken {
            guard let index = items.firstIndex(where: { id($0) == nextToken }) else {
                throw EC2Error("InvalidNextToken", "The token '\(nextToken)' is invalid.")
            }
            start = index
        }
        guard let maxResults else { return EC2Page(items: Array(items[start...]), nextToken: nil) }
        guard bounds.contains(maxResults) else {
            throw EC2Error("InvalidParameterValue",
                           "Value ( \(maxResults) ) for parameter maxResults is invalid. Parameter must be between \(bounds.lowerBound) and \(bounds.upperBound).")
        }
        let end = min(items.count, start + maxResults)
        return EC2Page(items: Array(items[start..<end]), nextToken: end < items.count ? id(items[end]) : nil)
    }
}

extension VPCRecord: EC2Filterable {
    public func values(forFilter filter: String) -> [String]? {
        switch filter {
        case "vpc-id": [vpcId]
        case "cidr", "cidr-block-association.cidr-block": [cidrBlock.description]
        case "cidr-block-association.association-id": [cidrAssociationId]
        case "cidr-block-association.state": ["associated"]
        case "dhcp-options-id": [dhcpOptionsId]
        case "is-default", "isDefault": [String(isDefault)]
        case "owner-id": [ownerId]
        case "state": ["available"]
        default: nil
        }
    }
}

extension SubnetRecord: EC2Filterable {
    public func values(forFilter filter: String) -> [String]? {
        switch filter {
        case "subnet-id": [subnetId]
        case "subnet-arn": [subnetArn]
        case "vpc-id": [vpcId]
        case "availability-zone", "availabilityZone": [availabilityZone]
        case "availability-zone-id", "availabilityZoneId": [availabilityZoneId]
        case "available-ip-address-count": [String(availableIpAddressCount)]
        case "cidr-block", "cidr", "cidrBlock": [cidrBlock.description]
        case "default-for-az", "defaultForAz": [String(defaultForAz)]
        case "map-public-ip-on-launch": [String(mapPublicIpOnLaunch)]
        case "owner-id": [ownerId]
        case "state": ["available"]
        default: nil
        }
    }
}

extension SecurityGroupRecord: EC2Filterable {
    public func values(forFilter filter: String) -> [String]? {
        switch filter {
        case "group-id": [groupId]
        case "group-name": [groupName]
        case "description": [description]
        case "vpc-id": [vpcId]
        case "owner-id": [ownerId]
        default: nil
        }
    }
}

extension AvailabilityZone {
    func values(forFilter filter: String, region: String) -> [String]? {
        switch filter {
        case "zone-name": [name]
        case "zone-id": [id]
        case "region-name", "group-name", "network-border-group": [region]
        case "state": ["available"]
        case "opt-in-status": ["opt-in-not-required"]
        case "zone-type": ["availability-zone"]
        default: nil
        }
    }
}
