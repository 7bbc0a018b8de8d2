import Foundation
import KubeModel
import RegionStore

/// EKS's upgrade insights, computed from what the cluster really has and does: clients still calling API versions
/// the next Kubernetes minor removes (from the cluster's audit log, the last 30 days), add-ons whose version the
/// next minor does not run, node groups that would fall outside the kubelet's version skew, and the cluster's
/// health. A refresh recomputes them (`StartInsightsRefresh`); the first list computes them if none has yet.
extension EKSService {
    public func listInsights(clusterName: String, filter: InsightsFilter?, maxResults: Int?, nextToken: String?) async throws
        -> ListPage<InsightSummary> {
        let insights = try await currentInsights(clusterName)
            .filter { filter?.categories == nil || filter!.categories!.contains($0.category) }
            .filter { filter?.kubernetesVersions == nil || filter!.kubernetesVersions!.contains($0.kubernetesVersion) }
            .filter { filter?.statuses == nil || filter!.statuses!.contains($0.insightStatus.status) }
            .sorted { $0.id < $1.id }
        return try Paging.page(insights.map(\.summary), key: \.id, maxResults: maxResults, nextToken: nextToken)
    }

    public func describeInsight(clusterName: String, id: String) async throws -> Insight {
        guard let insight = try await currentInsights(clusterName).first(where: { $0.id == id }) else {
            throw EKSError.notFound("No insight found for id: \(id)", cluster: clusterName)
        }
        return insight
    }

    public func startInsightsRefresh(clusterName: String) async throws -> InsightsRefresh {
        _ = try await currentInsights(clusterName)
        let refresh: InsightsRefresh = try await write { [self] tx in
            guard var record = try tx.get(InsightsRecord.self, clusterName) else { throw EKSError.clusterNotFound(clusterName) }
            if record.refresh.status == "IN_PROGRESS" { return record.refresh }
            record.refresh = InsightsRefresh(status: "IN_PROGRESS", message: "Insights refresh is in progress", startedAt: Date(), endedAt: nil)
            record.dueAt = dueTime()
            try tx.save(record)
            return record.refresh
        }
        transitionScheduled()
        return refresh
    }

    public func describeInsightsRefresh(clusterName: String) async throws -> InsightsRefresh {
        try await read { reader in
            _ = try reader.get(ClusterRecord.self, clusterName) ?? { throw EKSError.clusterNotFound(clusterName) }()
            guard let record = try reader.get(InsightsRecord.self, clusterName) else {
                throw EKSError.notFound("No insights refresh found for cluster: \(clusterName)", cluster: clusterName)
            }
            return record.refresh
        }
    }

    /// The insights of the last refresh, computed now if there has been none.
    private func currentInsights(_ clusterName: String) async throws -> [Insight] {
        let stored = try await read { [self] reader -> InsightsRecord? in
            guard try reader.get(ClusterRecord.self, clusterName) != nil else {
                try refuseRegistered(reader, clusterName)
                throw EKSError.clusterNotFound(clusterName)
            }
            return try reader.get(InsightsRecord.self, clusterName)
        }
        if let stored { return stored.insights }
        let now = Date()
        let insights = try await computeInsights(clusterName, previous: [], now: now)
        return try await write { tx in
            if let raced = try tx.get(InsightsRecord.self, clusterName) { return raced.insights }
            try tx.insert(InsightsRecord(clusterName: clusterName, insights: insights,
                                         refresh: InsightsRefresh(status: "COMPLETED", message: "Insights refresh completed", startedAt: now,
                                                                  endedAt: now)))
            return insights
        }
    }

    /// Completes the insight refreshes due by `now`; returns when the next is due.
    func advanceInsights(now: Date) async throws -> Date? {
        let due = try await read { reader in try reader.all(InsightsRecord.self).filter { $0.refresh.status == "IN_PROGRESS" } }
        var next: Date?
        for record in due {
            guard let dueAt = record.dueAt, dueAt <= now else {
                next = min(next ?? record.dueAt ?? now, record.dueAt ?? now)
                continue
            }
            let insights = try await computeInsights(record.clusterName, previous: record.insights, now: now)
            try await write { tx in
                guard var current = try tx.get(InsightsRecord.self, record.clusterName), current.refresh.status == "IN_PROGRESS" else { return }
                current.insights = insights
                current.refresh.status = "COMPLETED"
                current.refresh.message = "Insights refresh completed"
                current.refresh.endedAt = Date()
                current.dueAt = nil
                try tx.save(current)
            }
        }
        return next
    }

    func computeInsights(_ clusterName: String, previous: [Insight], now: Date) async throws -> [Insight] {
        let (record, addons, nodegroups) = try await read { reader in
            guard let record = try reader.get(ClusterRecord.self, clusterName) else { throw EKSError.clusterNotFound(clusterName) }
            return (record, try reader.all(AddonRecord.self, keyPrefix: clusterName + "/").map(\.addon),
                    try reader.all(NodegroupRecord.self, keyPrefix: clusterName + "/").map(\.nodegroup))
        }
        let current = record.cluster.version
        let minor = Int(current.split(separator: ".").last ?? "") ?? 0
        let next = "1.\(minor + 1)"
        let calls = await controlPlanes.deprecatedAPICalls(clusterName: clusterName, since: now.addingTimeInterval(-30 * 24 * 3600))

        func insight(_ key: String, name: String, description: String, status: String, reason: String, recommendation: String,
                     resources: [InsightResourceDetail] = [], summary: InsightCategorySpecificSummary = .init(),
                     additionalInfo: [String: String] = [:]) -> Insight {
            let id = Self.stableID("\(record.cluster.arn)/\(key)")
            let before = previous.first { $0.id == id }
            let transition = before.map { $0.insightStatus.status == status ? $0.lastTransitionTime : now } ?? now
            return Insight(id: id, name: name, category: "UPGRADE_READINESS", kubernetesVersion: next, lastRefreshTime: now,
                           lastTransitionTime: transition, description: description, insightStatus: InsightStatus(status: status, reason: reason),
                           recommendation: recommendation, additionalInfo: additionalInfo, resources: resources, categorySpecificSummary: summary)
        }

        // Deprecated APIs the next minor removes, with who still calls them.
        let removed = APIDeprecation.all.filter { $0.removedIn == next }
        let details = removed.map { deprecation in
            DeprecationDetail(usage: deprecation.path, replacedWith: deprecation.replacementPath, stopServingVersion: deprecation.removedIn,
                              startServingReplacementVersion: deprecation.replacementServedSince,
                              clientStats: calls.filter { $0.group == deprecation.group && $0.version == deprecation.version
                                  && $0.resource == deprecation.resource }
                                  .sorted { $0.userAgent < $1.userAgent }
                                  .map { ClientStat(userAgent: $0.userAgent, numberOfRequestsLast30Days: $0.count, lastRequestTime: $0.lastRequestTime) })
        }
        let used = details.contains { !$0.clientStats.isEmpty }
        let deprecated = insight(
            "deprecated-apis-\(next)", name: "Deprecated APIs removed in Kubernetes v\(next)",
            description: "Checks for usage of deprecated APIs that are scheduled for removal in Kubernetes v\(next). Upgrading your cluster before migrating to the updated APIs supported by v\(next) could cause application impact.",
            status: used ? "ERROR" : "PASSING",
            reason: used ? "Deprecated API usage detected within last 30 days and your cluster is on Kubernetes v\(current)."
                         : "No deprecated API usage detected within the last 30 days.",
            recommendation: "Update manifests and API clients to use newer Kubernetes APIs if applicable before upgrading to Kubernetes v\(next).",
            summary: InsightCategorySpecificSummary(deprecationDetails: details, addonCompatibilityDetails: nil),
            additionalInfo: ["EKS update cluster documentation": "https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html",
                             "Kubernetes v\(next) deprecation guide": "https://kubernetes.io/docs/reference/using-api/deprecation-guide/"])

        // Add-ons whose installed version does not run on the next minor.
        let knownNext = KubernetesVersions.named(next) != nil
        let compatibility = addons.sorted { $0.addonName < $1.addonName }.map { addon in
            AddonCompatibilityDetail(name: addon.addonName,
                                     compatibleVersions: AddonCatalog.named(addon.addonName)?.versions
                                         .filter { $0.clusterVersions.contains(next) }.map(\.version) ?? [])
        }
        let incompatible = addons.filter { addon in
            !(AddonCatalog.named(addon.addonName)?.version(addon.addonVersion)?.clusterVersions.contains(next) ?? false)
        }
        let addonStatus = addons.isEmpty ? "PASSING" : !knownNext ? "UNKNOWN" : incompatible.isEmpty ? "PASSING" : "ERROR"
        let addonReason = switch addonStatus {
        case "ERROR": "Add-on versions are not compatible with the next Kubernetes version: \(incompatible.map(\.addonName).sorted().joined(separator: ", "))."
        case "UNKNOWN": "Add-on versions for Kubernetes v\(next) are not yet available."
        default: "All installed add-on versions are compatible with the next Kubernetes version."
        }
        let addonInsight = insight(
            "addon-compatibility-\(next)", name: "Amazon EKS add-on version compatibility",
            description: "Checks version of installed EKS add-ons to ensure they are compatible with the next version of Kubernetes.",
            status: addonStatus,
            reason: addonReason,
            recommendation: "Upgrade your EKS add-ons to versions compatible with Kubernetes v\(next) before upgrading the cluster.",
            resources: incompatible.map { InsightResourceDetail(insightStatus: InsightStatus(status: "ERROR", reason: "\($0.addonVersion) is not compatible with v\(next)."),
                                                                kubernetesResourceUri: nil, arn: $0.addonArn) },
            summary: InsightCategorySpecificSummary(deprecationDetails: nil, addonCompatibilityDetails: compatibility))

        // Node groups more than three minors behind the control plane once it is at the next minor.
        let skewed = nodegroups.filter { (Int($0.version.split(separator: ".").last ?? "") ?? minor) + 3 < minor + 1 }
        let skew = insight(
            "kubelet-version-skew-\(next)", name: "Kubelet version skew",
            description: "Checks for kubelet versions of worker nodes in the cluster to see if upgrade would cause kubelet to be more than the supported skew with the control plane.",
            status: skewed.isEmpty ? "PASSING" : "ERROR",
            reason: skewed.isEmpty ? "Node kubelet versions would stay within the supported skew after the upgrade."
                                   : "Node kubelet versions would be more than three minor versions behind the control plane after the upgrade.",
            recommendation: "Upgrade your worker nodes to a newer Kubernetes version before upgrading the cluster.",
            resources: skewed.map { InsightResourceDetail(insightStatus: InsightStatus(status: "ERROR", reason: "Node group is at v\($0.version)."),
                                                          kubernetesResourceUri: nil, arn: $0.nodegroupArn) })

        let healthIssues = record.cluster.health.issues
        let health = insight(
            "cluster-health-\(next)", name: "Cluster health issues",
            description: "Checks for any cluster health issues that prevent successful upgrade to the next Kubernetes version on EKS.",
            status: healthIssues.isEmpty ? "PASSING" : "ERROR",
            reason: healthIssues.isEmpty ? "No cluster health issues detected." : "Cluster health issues detected.",
            recommendation: "Fix the cluster's health issues before upgrading.")
        return [deprecated, addonInsight, skew, health]
    }

    /// An id in UUID form that stays the same for the same insight of the same cluster across refreshes.
    static func stableID(_ text: String) -> String {
        func fnv(_ seed: UInt64) -> UInt64 {
            var hash = seed
            for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
            return hash
        }
        let hex = String(format: "%016llx%016llx", fnv(0xcbf29ce484222325), fnv(0x84222325cbf29ce4))
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }
}
