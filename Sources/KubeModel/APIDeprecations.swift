/// A served API version Kubernetes deprecated and removes in a later minor: what kube-apiserver warns about,
/// annotates audit events with (`k8s.io/deprecated`, `k8s.io/removed-release`), and EKS's upgrade insights report.
public struct APIDeprecation: Sendable, Equatable {
    public let group: String
    public let version: String
    public let resource: String
    public let kind: String
    /// Minors, as `1.29`.
    public let deprecatedIn: String
    public let removedIn: String
    /// The version that replaces it, and the minor that first served that.
    public let replacementVersion: String
    public let replacementServedSince: String

    /// `/apis/GROUP/VERSION/RESOURCE`, as EKS's insights name a usage.
    public var path: String { "/apis/\(group)/\(version)/\(resource)" }
    public var replacementPath: String { "/apis/\(group)/\(replacementVersion)/\(resource)" }

    /// kube-apiserver's warning: `flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema is deprecated in v1.29+, unavailable in v1.32+; use …`.
    public var warning: String {
        "\(group)/\(version) \(kind) is deprecated in v\(deprecatedIn)+, unavailable in v\(removedIn)+; use \(group)/\(replacementVersion) \(kind)"
    }

    /// The deprecated versions of the Kubernetes minors EKS offers (1.29 on) that a later minor removes.
    public static let all: [APIDeprecation] = [
        APIDeprecation(group: "flowcontrol.apiserver.k8s.io", version: "v1beta3", resource: "flowschemas", kind: "FlowSchema",
                       deprecatedIn: "1.29", removedIn: "1.32", replacementVersion: "v1", replacementServedSince: "1.29"),
        APIDeprecation(group: "flowcontrol.apiserver.k8s.io", version: "v1beta3", resource: "prioritylevelconfigurations",
                       kind: "PriorityLevelConfiguration", deprecatedIn: "1.29", removedIn: "1.32", replacementVersion: "v1",
                       replacementServedSince: "1.29"),
    ]

    public static func of(group: String, version: String, resource: String) -> APIDeprecation? {
        all.first { $0.group == group && $0.version == version && $0.resource == resource }
    }

    /// Whether `minor` comes before `other` (`1.9` before `1.10`).
    public static func minor(_ minor: String, isBefore other: String) -> Bool {
        let parse = { (text: String) in text.split(separator: ".").compactMap { Int($0) } }
        return parse(minor).lexicographicallyPrecedes(parse(other))
    }
}
