import Foundation
import RegionStore
import VPC

/// The checks a node group's request goes through, and the values EKS derives from it: AMI type and release,
/// scaling and update settings, launch templates, node repair and warm pools.
extension EKSService {
    /// The AMI type asked for, or AL2023 of the instance types' architecture; it must be offered for the version.
    static func amiType(_ requested: String?, version: KubernetesVersion, instanceTypes: [String],
                        hasLaunchTemplate: Bool, nodegroup: String) throws(EKSError) -> String {
        let arm = instanceTypes.contains(where: AMITypes.isARM)
        let type = requested ?? (arm ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD")
        guard AMITypes.all.contains(type) else {
            throw EKSError.invalidParameter("AMI type \(type) is not supported.", nodegroup: nodegroup)
        }
        if type.hasPrefix("AL2_"), version.minor > AMITypes.lastAL2Minor {
            throw EKSError.invalidParameter(
                "AMI Type \(type) is only supported for kubernetes versions 1.\(AMITypes.lastAL2Minor) or earlier", nodegroup: nodegroup)
        }
        if type == "CUSTOM", !hasLaunchTemplate {
            throw EKSError.invalidParameter("AMI type CUSTOM needs a launch template that names the AMI.", nodegroup: nodegroup)
        }
        return type
    }

    /// Merges a requested scaling config over the current one (or EKS's defaults) and checks min ≤ desired ≤ max.
    static func scaling(_ requested: NodegroupScalingConfig, over current: NodegroupScalingConfig?,
                        nodegroup: String) throws(EKSError) -> NodegroupScalingConfig {
        let minSize = requested.minSize ?? current?.minSize ?? 1
        let maxSize = requested.maxSize ?? current?.maxSize ?? max(2, minSize)
        let desiredSize = requested.desiredSize ?? current?.desiredSize ?? Swift.min(max(2, minSize), maxSize)
        guard minSize >= 0, desiredSize >= 0 else {
            throw EKSError.invalidParameter("Sizes of a node group cannot be negative.", nodegroup: nodegroup)
        }
        guard maxSize >= 1 else {
            throw EKSError.invalidParameter("Maximum capacity \(maxSize) must be at least 1.", nodegroup: nodegroup)
        }
        guard minSize <= desiredSize else {
            throw EKSError.invalidParameter("Minimum capacity \(minSize) can't be greater than desired size \(desiredSize)", nodegroup: nodegroup)
        }
        guard desiredSize <= maxSize else {
            throw EKSError.invalidParameter("Desired capacity \(desiredSize) can't be greater than max size \(maxSize)", nodegroup: nodegroup)
        }
        return NodegroupScalingConfig(minSize: minSize, maxSize: maxSize, desiredSize: desiredSize)
    }

    /// `maxUnavailable` or `maxUnavailablePercentage`, not both, each from 1 to 100.
    static func updateConfig(_ config: NodegroupUpdateConfig?, nodegroup: String) throws(EKSError) -> NodegroupUpdateConfig? {
        guard let config else { return nil }
        switch (config.maxUnavailable, config.maxUnavailablePercentage) {
        case (.some, .some):
            throw EKSError.invalidParameter("Specify either maxUnavailable or maxUnavailablePercentage, not both.", nodegroup: nodegroup)
        case (let value?, nil) where !(1...100).contains(value), (nil, let value?) where !(1...100).contains(value):
            throw EKSError.invalidParameter("maxUnavailable must be from 1 to 100.", nodegroup: nodegroup)
        default:
            return config
        }
    }

    /// The AMI release asked for, which must be one of the version's Amazon Linux releases; the newest when none is.
    /// Bottlerocket, Windows and custom AMIs have release numbers of their own, taken as given.
    static func releaseVersion(_ requested: String?, of version: KubernetesVersion, amiType: String,
                               nodegroup: String) throws(EKSError) -> String {
        guard let requested else { return version.releaseVersion }
        guard amiType.hasPrefix("AL2") else { return requested }
        guard version.releaseVersions.contains(requested) else {
            throw EKSError.invalidParameter("Requested release version \(requested) is not valid for kubernetes version \(version.version).",
                                            nodegroup: nodegroup)
        }
        return requested
    }

    /// A node group names its launch template by id or by name, not both.
    static func checkTemplateReference(_ template: LaunchTemplateSpecification, nodegroup: String) throws(EKSError) {
        switch (template.id, template.name) {
        case (.some, .some):
            throw EKSError.invalidParameter("Either provide launch template ID or launch template name in the request.", nodegroup: nodegroup)
        case (nil, nil):
            throw EKSError.invalidParameter("Launch template ID or name is required.", nodegroup: nodegroup)
        default:
            return
        }
    }

    /// The launch template version a node group uses: the template must exist, and so must the version (its default when none is given).
    func resolvedTemplate(_ reader: RecordReader, _ template: LaunchTemplateSpecification, nodegroup: String) throws
        -> (specification: LaunchTemplateSpecification, data: LaunchTemplateData) {
        guard let record = try network.launchTemplate(reader, id: template.id, name: template.name) else {
            throw EKSError.invalidParameter("Launch template \(template.id ?? template.name ?? "") does not exist.", nodegroup: nodegroup)
        }
        guard let version = record.version(template.version) else {
            throw EKSError.invalidParameter("Launch template version \(template.version ?? "") does not exist for \(record.launchTemplateId).",
                                            nodegroup: nodegroup)
        }
        return (LaunchTemplateSpecification(name: record.launchTemplateName, version: String(version.versionNumber), id: record.launchTemplateId),
                version.data)
    }

    /// A node group cannot take more nodes out at once than it may have.
    static func checkMaxUnavailable(_ config: NodegroupUpdateConfig, maxSize: Int?, nodegroup: String) throws(EKSError) {
        if let value = config.maxUnavailable, let maxSize, value > maxSize {
            throw EKSError.invalidParameter("maxUnavailable (\(value)) cannot be greater than the node group's maxSize (\(maxSize)).",
                                            nodegroup: nodegroup)
        }
    }

    /// `family.size`, e.g. `t3.medium`, `m7g.16xlarge`.
    static func isInstanceTypeName(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } }
    }

    /// Node repair's thresholds are a count or a percentage, not both; a warm pool's state is one EC2 knows and its
    /// prepared capacity no smaller than its minimum.
    static func checkRepairAndWarmPool(_ input: CreateNodegroupRequest, nodegroup: String) throws {
        if let repair = input.nodeRepairConfig {
            if repair.maxUnhealthyNodeThresholdCount != nil && repair.maxUnhealthyNodeThresholdPercentage != nil {
                throw EKSError.invalidParameter("Specify either maxUnhealthyNodeThresholdCount or maxUnhealthyNodeThresholdPercentage, not both.",
                                                nodegroup: nodegroup)
            }
            if repair.maxParallelNodesRepairedCount != nil && repair.maxParallelNodesRepairedPercentage != nil {
                throw EKSError.invalidParameter("Specify either maxParallelNodesRepairedCount or maxParallelNodesRepairedPercentage, not both.",
                                                nodegroup: nodegroup)
            }
            for percentage in [repair.maxUnhealthyNodeThresholdPercentage, repair.maxParallelNodesRepairedPercentage].compactMap({ $0 })
            where !(1...100).contains(percentage) {
                throw EKSError.invalidParameter("Node repair percentages must be between 1 and 100.", nodegroup: nodegroup)
            }
            for count in [repair.maxUnhealthyNodeThresholdCount, repair.maxParallelNodesRepairedCount].compactMap({ $0 }) where count < 1 {
                throw EKSError.invalidParameter("Node repair counts must be at least 1.", nodegroup: nodegroup)
            }
        }
        if let pool = input.warmPoolConfig {
            if let state = pool.poolState, !["STOPPED", "RUNNING", "HIBERNATED"].contains(state) {
                throw EKSError.invalidParameter("warmPoolConfig.poolState \(state) is not one of STOPPED, RUNNING, HIBERNATED.", nodegroup: nodegroup)
            }
            if let minimum = pool.minSize, minimum < 0 {
                throw EKSError.invalidParameter("warmPoolConfig.minSize cannot be negative.", nodegroup: nodegroup)
            }
            if let minimum = pool.minSize, let prepared = pool.maxGroupPreparedCapacity, prepared != -1, prepared < minimum {
                throw EKSError.invalidParameter("warmPoolConfig.maxGroupPreparedCapacity must be at least minSize.", nodegroup: nodegroup)
            }
        }
    }
}
