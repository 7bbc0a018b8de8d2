/// A PodDisruptionBudget's arithmetic, as the disruption controller and the eviction API both do it: of the
/// pods its selector selects (not being deleted), how many are healthy (Ready), how many must stay healthy
/// (`minAvailable`, or all but `maxUnavailable`; percentages of the selected pods, rounded up), and so how
/// many may be disrupted now.
public struct DisruptionBudget: Sendable, Equatable {
    public let expected: Int64
    public let healthy: Int64
    public let desired: Int64
    public var allowed: Int64 { max(0, healthy - desired) }

    public init(_ budget: JSON, selected pods: [JSON]) {
        let live = pods.filter { $0.deletionTimestamp == nil }
        expected = Int64(live.count)
        healthy = Int64(live.filter { Pod($0).isReady }.count)
        let expected = self.expected
        func resolve(_ value: JSON?) -> Int64? {
            switch value {
            case .int(let number)?: return number
            case .string(let text)? where text.hasSuffix("%"):
                guard let percent = Double(text.dropLast()) else { return nil }
                return Int64((Double(expected) * percent / 100).rounded(.up))
            case .string(let text)?: return Int64(text)
            default: return nil
            }
        }
        if let minimum = resolve(budget[path: ["spec", "minAvailable"]]) {
            desired = minimum
        } else if let maximum = resolve(budget[path: ["spec", "maxUnavailable"]]) {
            desired = max(0, expected - maximum)
        } else {
            desired = expected
        }
    }
}
