import Foundation
import RegionStore

extension EKSService {
    /// Carries out the add-on work due by `now`: creates and updates apply the add-on's objects to its cluster,
    /// deletes remove them (or, preserved, leave them); then records what came of each. Returns when the next is due.
    func advanceAddons(now: Date) async throws -> Date? {
        // Read first: the objects are applied through the cluster's API server, outside any transaction.
        let (creating, updating, deleting, next) = try await read { reader in
            var next: Date?
            func isDue(_ due: Date?) -> Bool {
                guard let due else { return false }
                if due <= now { return true }
                next = min(next ?? due, due)
                return false
            }
            let addons = try reader.all(AddonRecord.self)
            let creating = addons.filter { $0.addon.status == .CREATING && isDue($0.dueAt) }
            let deleting = addons.filter { $0.addon.status == .DELETING && isDue($0.dueAt) }
            let updating = try reader.all(UpdateRecord.self).filter { $0.addonName != nil && $0.update.status == .InProgress && isDue($0.dueAt) }
                .compactMap { update -> (UpdateRecord, AddonRecord)? in
                    guard let name = update.addonName,
                          let addon = try reader.get(AddonRecord.self, AddonRecord.key(cluster: update.clusterName, addon: name)) else { return nil }
                    return (update, addon)
                }
            return (creating, updating, deleting, next)
        }
        var created: [(AddonRecord, AddonApplyOutcome)] = []
        for record in creating {
            created.append((record, await controlPlanes.applyAddon(clusterName: record.addon.clusterName, record.installation(record.resolveConflicts))))
        }
        var updated: [(UpdateRecord, AddonApplyOutcome)] = []
        for (update, record) in updating {
            guard case .addon(let change) = update.change else { continue }
            let target = Self.applying(change, to: record)
            updated.append((update, await controlPlanes.applyAddon(clusterName: update.clusterName, target.installation(change.resolveConflicts))))
        }
        for record in deleting {
            await controlPlanes.removeAddon(clusterName: record.addon.clusterName, record.installation(.OVERWRITE), preserve: record.preserve)
        }
        let accessChanged: Set<String> = try await write { [self, created, updated] tx in
            var accessChanged: Set<String> = []
            for (done, outcome) in created {
                guard var record = try tx.get(AddonRecord.self, done.storeKey), record.addon.status == .CREATING else { continue }
                record.dueAt = nil
                record.addon.modifiedAt = Date()
                switch outcome {
                case .applied:
                    record.addon.status = .ACTIVE
                case .conflicts(let message):
                    record.addon.status = .CREATE_FAILED
                    record.addon.health = AddonHealth(issues: [AddonIssue(code: .ConfigurationConflict, message: message)])
                case .failed(let issue):
                    record.addon.status = .CREATE_FAILED
                    record.addon.health = AddonHealth(issues: [issue])
                }
                try tx.save(record)
            }
            for (done, outcome) in updated {
                guard var update = try tx.get(UpdateRecord.self, done.storeKey), update.update.status == .InProgress,
                      let name = update.addonName, case .addon(let change) = update.change,
                      var record = try tx.get(AddonRecord.self, AddonRecord.key(cluster: update.clusterName, addon: name)) else { continue }
                switch outcome {
                case .applied:
                    update.update.status = .Successful
                    record = Self.applying(change, to: record)
                    if let associations = change.podIdentityAssociations, let definition = AddonCatalog.named(name) {
                        try deleteAddonAssociations(tx, clusterName: update.clusterName, ownerArn: record.addon.addonArn)
                        let arns = try insertAddonAssociations(tx, definition, associations, namespace: record.installation(.NONE).namespace,
                                                               clusterName: update.clusterName, ownerArn: record.addon.addonArn,
                                                               tags: record.addon.tags)
                        record.addon.podIdentityAssociations = arns.isEmpty ? nil : arns
                        accessChanged.insert(update.clusterName)
                    }
                case .conflicts(let message):
                    update.update.status = .Failed
                    update.update.errors = [ErrorDetail(errorCode: "ConfigurationConflict", errorMessage: message, resourceIds: [name])]
                case .failed(let issue):
                    update.update.status = .Failed
                    update.update.errors = [ErrorDetail(errorCode: issue.code.rawValue, errorMessage: issue.message, resourceIds: [name])]
                }
                if case .moveTo(let status) = record.addon.status.step(.updateFinished) { record.addon.status = status }
                record.addon.modifiedAt = Date()
                try tx.save(update)
                try tx.save(record)
            }
            for done in deleting {
                guard let record = try tx.get(AddonRecord.self, done.storeKey), record.addon.status == .DELETING else { continue }
                if record.addon.podIdentityAssociations != nil {
                    try deleteAddonAssociations(tx, clusterName: record.addon.clusterName, ownerArn: record.addon.addonArn)
                    accessChanged.insert(record.addon.clusterName)
                }
                try tx.delete(AddonRecord.self, record.storeKey)
            }
            return accessChanged
        }
        for clusterName in accessChanged { await publishAccess(clusterName: clusterName) }
        return next
    }

    /// The add-on as an update leaves it.
    static func applying(_ change: AddonChange, to record: AddonRecord) -> AddonRecord {
        var record = record
        record.addon.addonVersion = change.addonVersion
        record.addon.serviceAccountRoleArn = change.serviceAccountRoleArn
        record.addon.configurationValues = change.configurationValues
        return record
    }
}
