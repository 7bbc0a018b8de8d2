import Foundation

/// The `metadata` fields the API server itself reads and writes.
extension JSON {
    public var name: String {
        get { self[path: ["metadata", "name"]]?.string ?? "" }
        set { self[path: ["metadata", "name"]] = .string(newValue) }
    }

    public var namespace: String? {
        get { self[path: ["metadata", "namespace"]]?.string }
        set { self[path: ["metadata", "namespace"]] = newValue.map(JSON.string) }
    }

    public var labels: [String: String] {
        self[path: ["metadata", "labels"]]?.stringMap ?? [:]
    }

    public var annotations: [String: String] {
        self[path: ["metadata", "annotations"]]?.stringMap ?? [:]
    }

    public var finalizers: [String] {
        (self[path: ["metadata", "finalizers"]]?.array ?? []).compactMap(\.string)
    }

    public var resourceVersion: String? {
        get { self[path: ["metadata", "resourceVersion"]]?.string }
        set { self[path: ["metadata", "resourceVersion"]] = newValue.map(JSON.string) }
    }

    public var uid: String? { self[path: ["metadata", "uid"]]?.string }

    public var creationTimestamp: Date? {
        self[path: ["metadata", "creationTimestamp"]]?.string.flatMap(Timestamps.parse)
    }

    public var deletionTimestamp: String? { self[path: ["metadata", "deletionTimestamp"]]?.string }

    public var generation: Int64 { self[path: ["metadata", "generation"]]?.int ?? 0 }
}

/// RFC 3339 timestamps at second precision, as Kubernetes writes them.
public enum Timestamps {
    /// `2026-11-24T09:15:36Z`; written by hand, as every write stamps one or two.
    public static func format(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var bytes = [UInt8](repeating: 0, count: 20)
        func put(_ value: Int32, at offset: Int, digits: Int) {
            var value = value
            for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                bytes[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(parts.tm_year + 1900, at: 0, digits: 4)
        put(parts.tm_mon + 1, at: 5, digits: 2)
        put(parts.tm_mday, at: 8, digits: 2)
        put(parts.tm_hour, at: 11, digits: 2)
        put(parts.tm_min, at: 14, digits: 2)
        put(parts.tm_sec, at: 17, digits: 2)
        for (offset, separator) in [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (19, "Z")] as [(Int, Unicode.Scalar)] {
            bytes[offset] = UInt8(ascii: separator)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func parse(_ text: String) -> Date? {
        try? Date(text, strategy: .iso8601)
    }

    /// `2026-11-24T09:15:36.123456Z`: a MicroTime, as Leases and Events carry.
    public static func formatMicro(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let micros = Int((date.timeIntervalSince1970 - seconds) * 1_000_000)
        let fraction = String(micros)
        return String(format(Date(timeIntervalSince1970: seconds)).dropLast()) + "." + String(repeating: "0", count: 6 - fraction.count)
            + fraction + "Z"
    }

    /// A timestamp with or without a fraction of a second.
    public static func parseMicro(_ text: String) -> Date? {
        guard let dot = text.firstIndex(of: "."), text.hasSuffix("Z") else { return parse(text) }
        guard let whole = parse(String(text[..<dot]) + "Z"), let fraction = Double("0" + text[dot..<text.index(before: text.endIndex)]) else {
            return nil
        }
        return whole.addingTimeInterval(fraction)
    }
}

/// Ages as kubectl shows them: `45s`, `5m12s`, `3h`, `2d4h`, `400d`.
public enum Age {
    public static func since(_ date: Date?, now: Date) -> String {
        guard let date else { return "<unknown>" }
        return format(max(0, now.timeIntervalSince(date)))
    }

    /// Kubernetes' `HumanDuration`.
    public static func format(_ interval: TimeInterval) -> String {
        let seconds = Int(interval)
        if seconds < 60 * 2 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 60 * 3 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        if hours < 24 * 365 * 8 { return "\(hours / 24 / 365)y\(hours / 24 % 365)d" }
        return "\(hours / 24 / 365)y"
    }
}
