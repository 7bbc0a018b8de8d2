/// What an event does to a resource in a given status: move it, remove it, or refuse.
public enum LifecycleStep<Status: Equatable & Sendable>: Equatable, Sendable {
    case moveTo(Status)
    /// The resource is gone (deletion finished).
    case remove
    /// Not allowed in this status; the text says why, for the error the caller returns.
    case refuse(String)
}

/// Events that drive clusters and node groups through their lifecycles.
public enum LifecycleEvent: Sendable, Equatable {
    /// Provisioning finished.
    case provisioned
    case updateRequested
    case updateFinished
    case deleteRequested
    /// Tear-down finished.
    case deprovisioned
}

extension ClusterStatus {
    /// The cluster state machine: CREATING → ACTIVE ⇄ UPDATING, ACTIVE/FAILED → DELETING → gone.
    public func step(_ event: LifecycleEvent) -> LifecycleStep<ClusterStatus> {
        switch (self, event) {
        case (.CREATING, .provisioned): .moveTo(.ACTIVE)
        case (.ACTIVE, .updateRequested): .moveTo(.UPDATING)
        case (.UPDATING, .updateFinished): .moveTo(.ACTIVE)
        case (.ACTIVE, .deleteRequested), (.FAILED, .deleteRequested): .moveTo(.DELETING)
        case (.DELETING, .deprovisioned): .remove
        case (.UPDATING, .updateRequested):
            .refuse("An update is already in progress; wait for it to finish before starting another.")
        case (.DELETING, _):
            .refuse("The cluster is being deleted.")
        default:
            .refuse("The cluster is in \(rawValue) state; this operation needs it ACTIVE.")
        }
    }
}

extension NodegroupStatus {
    /// The node group state machine: CREATING → ACTIVE ⇄ UPDATING, ACTIVE/DEGRADED/CREATE_FAILED/DELETE_FAILED → DELETING → gone.
    public func step(_ event: LifecycleEvent) -> LifecycleStep<NodegroupStatus> {
        switch (self, event) {
        case (.CREATING, .provisioned): .moveTo(.ACTIVE)
        case (.ACTIVE, .updateRequested), (.DEGRADED, .updateRequested): .moveTo(.UPDATING)
        case (.UPDATING, .updateFinished): .moveTo(.ACTIVE)
        case (.ACTIVE, .deleteRequested), (.DEGRADED, .deleteRequested),
             (.CREATE_FAILED, .deleteRequested), (.DELETE_FAILED, .deleteRequested): .moveTo(.DELETING)
        case (.DELETING, .deprovisioned): .remove
        case (.UPDATING, .updateRequested):
            .refuse("An update is already in progress; wait for it to finish before starting another.")
        case (.DELETING, _):
            .refuse("The node group is being deleted.")
        default:
            .refuse("The node group is in \(rawValue) state; this operation needs it ACTIVE.")
        }
    }
}

extension AddonStatus {
    /// The add-on state machine: CREATING → ACTIVE (or CREATE_FAILED) ⇄ UPDATING, any settled status → DELETING → gone.
    /// DEGRADED is ACTIVE with unhealthy pods, seen when the add-on is described.
    public func step(_ event: LifecycleEvent) -> LifecycleStep<AddonStatus> {
        switch (self, event) {
        case (.CREATING, .provisioned): .moveTo(.ACTIVE)
        case (.ACTIVE, .updateRequested), (.DEGRADED, .updateRequested), (.UPDATE_FAILED, .updateRequested): .moveTo(.UPDATING)
        case (.UPDATING, .updateFinished): .moveTo(.ACTIVE)
        case (.ACTIVE, .deleteRequested), (.DEGRADED, .deleteRequested), (.CREATE_FAILED, .deleteRequested),
             (.UPDATE_FAILED, .deleteRequested), (.DELETE_FAILED, .deleteRequested): .moveTo(.DELETING)
        case (.DELETING, .deprovisioned): .remove
        default: .refuse("Addon status is \(rawValue)")
        }
    }
}
