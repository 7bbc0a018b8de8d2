import Foundation

/// One Kubernetes minor version EKS offers, with its support window.
public struct KubernetesVersion: Sendable, Equatable {
    public enum Support: String, Sendable {
        case standard = "STANDARD_SUPPORT"
        case extended = "EXTENDED_SUPPORT"

        /// The lowercase form of the older `status` field.
        public var legacyStatus: String {
            switch self {
            case .standard: "standard-support"
            case .extended: "extended-support"
            }
        }
    }

    public let version: String
    public let support: Support
    public let patchVersion: String
    public let platformVersion: String
    public let releaseDate: Date
    public let endOfStandardSupportDate: Date
    public let endOfExtendedSupportDate: Date

    /// The minor number, for ordering and for one-minor-at-a-time upgrades.
    public var minor: Int { Int(version.split(separator: ".")[1])! }

    /// The AMI release a new node group of this version gets (`1.34.1-20251120`): the newest.
    public var releaseVersion: String { releaseVersions[0] }

    /// The EKS-optimized Amazon Linux AMI releases of this version, newest first: one a release date, from the
    /// version's own release on (the dates of EKS's AMI releases since October 2025).
    public var releaseVersions: [String] {
        let dates = ["20251120", "20251103", "20251017", "20251002"]
        let released = String(Self.compactDate(releaseDate))
        return dates.filter { $0 >= released }.map { "\(patchVersion)-\($0)" }
    }

    static func compactDate(_ date: Date) -> Int {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return (parts.year ?? 0) * 10_000 + (parts.month ?? 0) * 100 + (parts.day ?? 0)
    }
}

/// The versions EKS supports, in one place: newest first; the newest is the default.
public enum KubernetesVersions {
    public static let all: [KubernetesVersion] = [
        make("1.34", .standard, patch: "1.34.1", platform: "eks.9", released: "2025-10-02"),
        make("1.33", .standard, patch: "1.33.5", platform: "eks.21", released: "2025-05-29"),
        make("1.32", .standard, patch: "1.32.9", platform: "eks.26", released: "2025-01-23"),
        make("1.31", .extended, patch: "1.31.13", platform: "eks.44", released: "2024-09-26"),
        make("1.30", .extended, patch: "1.30.14", platform: "eks.52", released: "2024-05-23"),
        make("1.29", .extended, patch: "1.29.15", platform: "eks.55", released: "2024-01-23"),
    ]

    public static var `default`: KubernetesVersion { all[0] }

    public static func named(_ version: String) -> KubernetesVersion? {
        all.first { $0.version == version }
    }

    /// EKS ends standard support 14 months after release and extended support 12 months later.
    private static func make(_ version: String, _ support: KubernetesVersion.Support, patch: String,
                             platform: String, released: String) -> KubernetesVersion {
        let calendar = Calendar(identifier: .gregorian)
        let release = try! Date(released + "T00:00:00Z", strategy: .iso8601)
        return KubernetesVersion(
            version: version, support: support, patchVersion: patch, platformVersion: platform,
            releaseDate: release,
            endOfStandardSupportDate: calendar.date(byAdding: .month, value: 14, to: release)!,
            endOfExtendedSupportDate: calendar.date(byAdding: .month, value: 26, to: release)!)
    }
}
