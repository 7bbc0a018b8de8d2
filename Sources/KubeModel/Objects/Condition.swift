import Foundation

/// An entry of `status.conditions`, as pods, nodes and workloads report them.
public struct Condition: Sendable, Equatable {
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastTransitionTime: String?

    public init(type: String, status: String, reason: String? = nil, message: String? = nil, lastTransitionTime: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }

    public init?(_ json: JSON) {
        guard let type = json["type"]?.string, let status = json["status"]?.string else { return nil }
        self.init(type: type, status: status, reason: json["reason"]?.string, message: json["message"]?.string,
                  lastTransitionTime: json["lastTransitionTime"]?.string)
    }
}

extension JSON {
    /// The object's `status.conditions`.
    public var conditions: [Condition] {
        (self[path: ["status", "conditions"]]?.array ?? []).compactMap(Condition.init)
    }

    public func condition(_ type: String) -> Condition? { conditions.first { $0.type == type } }

    /// Sets one condition in `status.conditions`, keeping its transition time (and every other field the
    /// condition carries, such as `lastProbeTime`) unless its status changes; `now` stamps a transition.
    public mutating func setCondition(_ condition: Condition, now: Date = Date()) {
        var all = self[path: ["status", "conditions"]]?.array ?? []
        let index = all.firstIndex { $0["type"]?.string == condition.type }
        var entry = index.map { all[$0] } ?? [:]
        let changed = entry["status"]?.string != condition.status
        entry["type"] = .string(condition.type)
        entry["status"] = .string(condition.status)
        entry["reason"] = condition.reason.map(JSON.string)
        entry["message"] = condition.message.map(JSON.string)
        if changed || entry["lastTransitionTime"] == nil {
            entry["lastTransitionTime"] = .string(condition.lastTransitionTime ?? Timestamps.format(now))
        }
        if let index { all[index] = entry } else { all.append(entry) }
        self[path: ["status", "conditions"]] = .array(all)
    }
}
