/// An availability zone of the region, by name (`us-east-1a`) and id (`use1-az1`).
public struct AvailabilityZone: Sendable, Equatable {
    public let name: String
    public let id: String
}

/// The AWS region one Skiff endpoint serves, with its account and zones.
public struct Region: Sendable {
    public let name: String
    public let account: String
    public let availabilityZones: [AvailabilityZone]

    /// Each region gets three zones, `a` to `c`, with ids as AWS spells them
    /// (`us-east-1` → `use1-az1`, `ap-southeast-2` → `apse2-az1`).
    public init(name: String, account: String) {
        self.name = name
        self.account = account
        let prefix = Self.zoneIdPrefix(name)
        availabilityZones = ["a", "b", "c"].enumerated().map { index, letter in
            AvailabilityZone(name: name + letter, id: "\(prefix)-az\(index + 1)")
        }
    }

    static func zoneIdPrefix(_ region: String) -> String {
        let parts = region.split(separator: "-").map(String.init)
        guard parts.count == 3 else { return region.replacingOccurrences(of: "-", with: "") }
        let direction: String
        switch parts[1] {
        case "northeast": direction = "ne"
        case "northwest": direction = "nw"
        case "southeast": direction = "se"
        case "southwest": direction = "sw"
        case "central": direction = "c"
        default: direction = String(parts[1].prefix(1))
        }
        return parts[0] + direction + parts[2]
    }

    public func zone(named name: String) -> AvailabilityZone? {
        availabilityZones.first { $0.name == name }
    }

    public func zone(id: String) -> AvailabilityZone? {
        availabilityZones.first { $0.id == id }
    }
}
