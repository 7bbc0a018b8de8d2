/// An entry of `metadata.ownerReferences`: the object another depends on.
public struct OwnerReference: Sendable, Equatable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    /// This owner manages the object (at most one reference has it).
    public var controller: Bool
    /// Foreground deletion of the owner waits for this dependent.
    public var blockOwnerDeletion: Bool

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool = false, blockOwnerDeletion: Bool = false) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }

    public init?(_ json: JSON) {
        guard let apiVersion = json["apiVersion"]?.string, let kind = json["kind"]?.string, let name = json["name"]?.string,
              let uid = json["uid"]?.string else { return nil }
        self.init(apiVersion: apiVersion, kind: kind, name: name, uid: uid, controller: json["controller"]?.bool ?? false,
                  blockOwnerDeletion: json["blockOwnerDeletion"]?.bool ?? false)
    }

    /// The reference a controller puts on what it creates for `owner`.
    public static func controlledBy(_ owner: JSON) -> OwnerReference {
        OwnerReference(apiVersion: owner["apiVersion"]?.string ?? "", kind: owner["kind"]?.string ?? "", name: owner.name,
                       uid: owner.uid ?? "", controller: true, blockOwnerDeletion: true)
    }

    public var json: JSON {
        var json: JSON = ["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(name), "uid": .string(uid)]
        if controller { json["controller"] = true }
        if blockOwnerDeletion { json["blockOwnerDeletion"] = true }
        return json
    }

    /// The API group of the owner's kind (empty for the core group).
    public var group: String {
        let parts = apiVersion.split(separator: "/")
        return parts.count == 2 ? String(parts[0]) : ""
    }
}

extension JSON {
    public var ownerReferences: [OwnerReference] {
        get { (self[path: ["metadata", "ownerReferences"]]?.array ?? []).compactMap(OwnerReference.init) }
        set { self[path: ["metadata", "ownerReferences"]] = newValue.isEmpty ? nil : .array(newValue.map(\.json)) }
    }

    /// The owner that manages this object, if any.
    public var controllerReference: OwnerReference? { ownerReferences.first { $0.controller } }

    /// `namespace/name`, or `name` for a cluster-scoped object: the key controllers queue.
    public var objectKey: ObjectKey { ObjectKey(namespace: namespace, name: name) }
}

/// A namespaced (or cluster-scoped) name, as controllers queue objects: `namespace/name`.
public struct ObjectKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let namespace: String?
    public let name: String

    public init(namespace: String?, name: String) {
        self.namespace = namespace.flatMap { $0.isEmpty ? nil : $0 }
        self.name = name
    }

    public var description: String { namespace.map { "\($0)/\(name)" } ?? name }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool { lhs.description < rhs.description }
}

/// The finalizers through which the garbage collector carries out a delete's propagation policy.
public enum GarbageCollection {
    /// `Foreground`: the owner stays until its blocking dependents are gone.
    public static let foregroundFinalizer = "foregroundDeletion"
    /// `Orphan`: the owner stays until its dependents no longer name it.
    public static let orphanFinalizer = "orphan"
}
