import Foundation

/// A resource quantity (`500m`, `2`, `128Mi`, `1G`, `1e3`) as a number of base units.
public struct Quantity: Comparable, Sendable, Hashable {
    public let value: Double

    package static let suffixes: [(String, Double)] = [
        ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776), ("Pi", 1_125_899_906_842_624),
        ("Ei", 1_152_921_504_606_846_976), ("n", 1e-9), ("u", 1e-6), ("m", 1e-3), ("k", 1e3), ("M", 1e6), ("G", 1e9),
        ("T", 1e12), ("P", 1e15), ("E", 1e18),
    ]

    public init(value: Double) {
        self.value = value
    }

    public init?(_ json: JSON?) {
        switch json {
        case .int(let number)?: value = Double(number)
        case .double(let number)?: value = number
        case .string(let text)?: guard let parsed = Quantity(parsing: text) else { return nil }; self = parsed
        default: return nil
        }
    }

    public init?(parsing text: String) {
        for (suffix, multiplier) in Self.suffixes where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)) else { return nil }
            value = number * multiplier
            return
        }
        guard let number = Double(text) else { return nil }
        value = number
    }

    public static func < (lhs: Quantity, rhs: Quantity) -> Bool { lhs.value < rhs.value }
    public static func + (lhs: Quantity, rhs: Quantity) -> Quantity { Quantity(value: lhs.value + rhs.value) }

    /// The canonical form Kubernetes prints: `1500m`, `2`, `256Mi`.
    public func formatted(for resource: String) -> String {
        let isMemoryLike = resource.contains("memory") || resource.contains("storage")
        if isMemoryLike {
            for (suffix, multiplier) in [("Ei", 1_152_921_504_606_846_976.0), ("Pi", 1_125_899_906_842_624), ("Ti", 1_099_511_627_776),
                                         ("Gi", 1_073_741_824), ("Mi", 1_048_576), ("Ki", 1024)]
            where value >= multiplier && value.truncatingRemainder(dividingBy: multiplier) == 0 {
                return "\(Int64(value / multiplier))\(suffix)"
            }
        }
        if value == value.rounded() { return String(Int64(value)) }
        return "\(Int64((value * 1000).rounded()))m"
    }
}
