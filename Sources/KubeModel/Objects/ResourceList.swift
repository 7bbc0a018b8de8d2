/// Amounts by resource name (`cpu`, `memory`, `pods`, `ephemeral-storage`, extended resources), as
/// requests, limits, capacity and allocatable are written; kept in milli-units so sums are exact.
public struct ResourceList: Sendable, Equatable {
    public private(set) var milli: [String: Int64] = [:]

    public init() {}

    public init(_ json: JSON?) {
        for (name, value) in json?.object ?? [:] {
            if let quantity = Quantity(value) { milli[name] = quantity.milliValue }
        }
    }

    public subscript(name: String) -> Int64 {
        get { milli[name] ?? 0 }
        set { milli[name] = newValue }
    }

    public var names: Dictionary<String, Int64>.Keys { milli.keys }

    public static func + (lhs: ResourceList, rhs: ResourceList) -> ResourceList {
        var sum = lhs
        sum.milli.merge(rhs.milli, uniquingKeysWith: +)
        return sum
    }

    public static func += (lhs: inout ResourceList, rhs: ResourceList) { lhs = lhs + rhs }

    public static func - (lhs: ResourceList, rhs: ResourceList) -> ResourceList {
        var difference = lhs
        for (name, value) in rhs.milli { difference.milli[name, default: 0] -= value }
        return difference
    }

    /// The larger amount of each resource in either list.
    public func maximum(_ other: ResourceList) -> ResourceList {
        var result = self
        result.milli.merge(other.milli, uniquingKeysWith: max)
        return result
    }

    /// Written as Kubernetes writes quantities (`1500m`, `2`, `256Mi`).
    public var json: JSON {
        .object(Dictionary(uniqueKeysWithValues: milli.map { ($0.key, JSON.string(Quantity(milli: $0.value).formatted(for: $0.key))) }))
    }
}

extension Quantity {
    /// The amount in thousandths of the base unit, rounded up as Kubernetes' `MilliValue` rounds.
    public var milliValue: Int64 {
        let scaled = value * 1000
        let nearest = scaled.rounded()
        // Within floating-point noise of a whole number of milli-units (`0.3` is 300m, not 301m).
        return Int64(abs(scaled - nearest) <= 1e-6 * max(1, abs(scaled)) ? nearest : scaled.rounded(.up))
    }

    public init(milli: Int64) {
        self.init(value: Double(milli) / 1000)
    }
}
