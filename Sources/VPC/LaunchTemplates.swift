import Foundation
import RegionStore

/// What a launch template version sets for the instances launched from it (the part node groups read).
public struct LaunchTemplateData: Codable, Sendable, Equatable {
    public var imageId: String?
    public var instanceType: String?
    public var keyName: String?
    public var userData: String?
    public var securityGroupIds: [String]

    public init(imageId: String? = nil, instanceType: String? = nil, keyName: String? = nil, userData: String? = nil,
                securityGroupIds: [String] = []) {
        self.imageId = imageId
        self.instanceType = instanceType
        self.keyName = keyName
        self.userData = userData
        self.securityGroupIds = securityGroupIds
    }
}

public struct LaunchTemplateVersion: Codable, Sendable, Equatable {
    public let versionNumber: Int
    public let versionDescription: String?
    public let createTime: Date
    public let data: LaunchTemplateData
}

/// An EC2 launch template and its versions.
public struct LaunchTemplateRecord: StoredRecord, Equatable {
    public static let kind = "ec2.launchTemplate"
    public var storeKey: String { launchTemplateId }

    public let launchTemplateId: String
    public let launchTemplateName: String
    public let createTime: Date
    public let createdBy: String
    public var defaultVersionNumber: Int
    public var versions: [LaunchTemplateVersion]
    public var tags: [Tag]

    public var latestVersionNumber: Int { versions.map(\.versionNumber).max() ?? 1 }

    /// `$Latest`, `$Default` or a number; nil when there is no such version.
    public func version(_ text: String?) -> LaunchTemplateVersion? {
        let number: Int? = switch text {
        case nil, "$Default": defaultVersionNumber
        case "$Latest": latestVersionNumber
        case let text?: Int(text)
        }
        return versions.first { $0.versionNumber == number }
    }
}

extension RegionNetwork {
    public func createLaunchTemplate(name: String?, description: String?, data: LaunchTemplateData, tags: [Tag],
                                     createdBy: String) async throws -> LaunchTemplateRecord {
        guard let name else { throw EC2Error.missingParameter("LaunchTemplateName") }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789().-/_")
        guard (3...128).contains(name.count), name.allSatisfy(allowed.contains) else {
            throw EC2Error("InvalidLaunchTemplateName.MalformedException",
                           "A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.'")
        }
        return try await database.write { tx in
            guard try !tx.all(LaunchTemplateRecord.self).contains(where: { $0.launchTemplateName == name }) else {
                throw EC2Error("InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
            }
            let now = Date()
            let record = LaunchTemplateRecord(launchTemplateId: ResourceID.make("lt"), launchTemplateName: name, createTime: now,
                                              createdBy: createdBy, defaultVersionNumber: 1,
                                              versions: [LaunchTemplateVersion(versionNumber: 1, versionDescription: description, createTime: now, data: data)],
                                              tags: tags)
            try tx.insert(record)
            return record
        }
    }

    /// The templates named by id or name (all without either); an unknown one is EC2's not-found error.
    public func describeLaunchTemplates(ids: [String], names: [String]) async throws -> [LaunchTemplateRecord] {
        try await database.read { reader in try Self.launchTemplates(reader, ids: ids, names: names) }
    }

    public func describeLaunchTemplateVersions(id: String?, name: String?, versions: [String]) async throws -> [(LaunchTemplateRecord, LaunchTemplateVersion)] {
        guard id != nil || name != nil else {
            throw EC2Error("MissingParameter", "The request must contain the parameter launchTemplateName or launchTemplateId")
        }
        return try await database.read { reader in
            guard let template = try Self.launchTemplates(reader, ids: id.map { [$0] } ?? [], names: name.map { [$0] } ?? []).first else { return [] }
            if versions.isEmpty { return template.versions.map { (template, $0) } }
            return try versions.map { text in
                guard let version = template.version(text) else {
                    throw EC2Error("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version \(text) for template \(template.launchTemplateId).")
                }
                return (template, version)
            }
        }
    }

    /// The template a node group names (by id or name) and its version, or why not.
    public func launchTemplate(_ reader: RecordReader, id: String?, name: String?) throws -> LaunchTemplateRecord? {
        try reader.all(LaunchTemplateRecord.self).first { ($0.launchTemplateId == id && id != nil) || ($0.launchTemplateName == name && name != nil) }
    }

    static func launchTemplates(_ reader: RecordReader, ids: [String], names: [String]) throws -> [LaunchTemplateRecord] {
        let all = try reader.all(LaunchTemplateRecord.self)
        if ids.isEmpty && names.isEmpty { return all.sorted { $0.createTime < $1.createTime } }
        var found: [LaunchTemplateRecord] = []
        for id in ids {
            guard let template = all.first(where: { $0.launchTemplateId == id }) else {
                throw EC2Error("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID \(id), does not exist.")
            }
            found.append(template)
        }
        for name in names {
            guard let template = all.first(where: { $0.launchTemplateName == name }) else {
                throw EC2Error("InvalidLaunchTemplateName.NotFoundException",
                               "At least one of the launch templates specified in the request does not exist.")
            }
            found.append(template)
        }
        return found
    }
}
