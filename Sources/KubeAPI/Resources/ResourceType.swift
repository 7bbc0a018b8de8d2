import Foundation
import KubeModel

/// One served resource: its group, version, names and scope, and the strategy
/// that holds everything particular to it. Discovery, routing, RBAC and
/// OpenAPI all read the same table of these.
public struct ResourceType: Sendable {
    public enum NameRule: Sendable {
        /// DNS-1123 subdomain: most kinds.
        case subdomain
        /// DNS-1123 label: namespaces, services.
        case label
        /// Anything that is a valid path segment: RBAC roles and bindings.
        case pathSegment
    }

    public let group: String
    public let version: String
    /// The plural, lowercase resource name in URLs (`pods`).
    public let resource: String
    public let kind: String
    public let namespaced: Bool
    public let shortNames: [String]
    public let categories: [String]
    public let nameRule: NameRule
    /// Subresources served beside the resource (`status`, `scale`, `binding`, `eviction`).
    public let subresources: [String]
    /// What clients may do with it: every verb for stored kinds, `create` alone for reviews.
    public let verbs: [String]
    public let strategy: any ResourceStrategy
    /// For a version served beside the one its objects are stored in (which differs in `apiVersion` alone): that one.
    public let storageVersion: String?

    public init(group: String, version: String, resource: String, kind: String, namespaced: Bool,
                shortNames: [String] = [], categories: [String] = [], nameRule: NameRule = .subdomain,
                subresources: [String] = [], verbs: [String] = ResourceType.verbs, strategy: any ResourceStrategy = GenericStrategy(),
                storageVersion: String? = nil) {
        self.storageVersion = storageVersion
        self.group = group
        self.version = version
        self.resource = resource
        self.kind = kind
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.nameRule = nameRule
        self.subresources = subresources
        self.verbs = verbs
        self.strategy = strategy
    }

    /// Set for a version a later Kubernetes minor removes.
    public var deprecation: APIDeprecation? { APIDeprecation.of(group: group, version: version, resource: resource) }

    /// Kept in the store (not a review answered on the spot).
    public var isStored: Bool { verbs.contains("get") }

    public var singular: String { kind.lowercased() }
    public var groupVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public static let verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    /// The store prefix of every object of this resource (in one namespace when given).
    func keyPrefix(namespace: String?) -> String {
        let base = "/registry/\(group.isEmpty ? "core" : group)/\(resource)/"
        guard namespaced, let namespace else { return base }
        return base + namespace + "/"
    }

    func key(namespace: String?, name: String) -> String {
        keyPrefix(namespace: namespace) + name
    }
}

/// A column of `kubectl get`'s table for a kind.
public struct TableColumn: Sendable {
    public let name: String
    public let type: String
    public let format: String
    public let description: String
    /// 0: shown always; 1: shown with `-o wide`.
    public let priority: Int

    public init(_ name: String, type: String = "string", format: String = "", priority: Int = 0, description: String = "") {
        self.name = name
        self.type = type
        self.format = format
        self.priority = priority
        self.description = description
    }

    static let name = TableColumn("Name", format: "name", description: "Name must be unique within a namespace.")
    static let age = TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created.")
}

/// What is particular to one kind: defaults, validation, which fields an
/// update may touch, selectable fields, its table columns, and hooks around
/// the generic registry's writes (as kube-apiserver's strategies and store
/// hooks: a Service's addresses, a definition's served kinds, a namespace's
/// deletion).
public protocol ResourceStrategy: Sendable {
    /// Whether spec and status are written separately: the main resource ignores
    /// status changes and the `status` subresource ignores everything else.
    var hasStatus: Bool { get }
    /// Whether a create keeps the status it is given (a kubelet registers its Node with its status).
    var keepsStatusOnCreate: Bool { get }
    /// Fills in the defaults the real API server fills in, on create and update.
    func applyDefaults(_ object: inout JSON)
    /// Prepares a new object: e.g. its initial status.
    func prepareForCreate(_ object: inout JSON)
    /// Prepares an update of `old`, after what the update may not change has been carried over.
    func prepareForUpdate(_ object: inout JSON, old: JSON)
    func validate(_ object: JSON) -> [FieldError]
    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError]
    /// The values of the fields a field selector may name, beyond `metadata.name` and `metadata.namespace`.
    func selectableFields(_ object: JSON) -> [String: String]
    /// Selectable fields the watch cache indexes, for informers that look objects up by them (`spec.nodeName`).
    var indexedFields: [String] { get }
    /// What controllers read of every object of the kind, kept beside it in the watch cache so they need not
    /// decode it (a pod's readiness and deletion for its ReplicaSet).
    func summary(_ object: JSON) -> [String: String]
    var columns: [TableColumn] { get }
    /// One cell per column; `Name` and `Age` cells are filled in generically.
    func cells(_ object: JSON, now: Date) -> [JSON]
    /// Fields of the object its kind does not declare (for `fieldValidation`).
    func unknownFields(_ object: JSON) -> [String]

    /// Runs after validation, before a new object is stored (e.g. allocates a Service's addresses).
    /// The returned hook is told whether the write then succeeded, to commit or undo what it did.
    func beginCreate(_ object: inout JSON, context: WriteContext) async throws -> FinishWrite?
    /// Runs before an update is stored, with the same kind of finishing hook.
    func beginUpdate(_ object: inout JSON, old: JSON, context: WriteContext) async throws -> FinishWrite?
    /// Runs before an object is deleted or marked for deletion; may refuse it.
    func beginDelete(_ object: JSON, context: WriteContext) async throws
    /// Runs once an object is gone from the store.
    func afterDelete(_ object: JSON, context: WriteContext) async
    /// What must be cleared before a deleted object goes: its finalizers (and a namespace's `spec.finalizers`).
    func pendingFinalizers(_ object: JSON) -> [String]
    /// Marks an object kept while its finalizers run (a namespace turns `Terminating`).
    func prepareForDeletion(_ object: inout JSON)
    /// A subresource the kind serves with code of its own (`pods/binding`, `namespaces/finalize`).
    func subresource(_ name: String) -> (any SubresourceHandler)?
}

/// Told whether the write a `begin…` hook ran before succeeded.
public typealias FinishWrite = @Sendable (_ succeeded: Bool) async -> Void

/// What a strategy's hooks may reach: the registry they run in, and whether the request is a dry run.
public struct WriteContext: Sendable {
    public let registry: Registry
    public let dryRun: Bool
    /// Who asked for the write (nil for the API server's own writes, such as its bootstrap).
    public var requester: Requester? { Requester.current }
}

/// The user of the request being handled and the authorizer that decides for it, for the write hooks that
/// check what the requester itself may do (RBAC's escalation check), as kube-apiserver's storage reads them
/// from the request's context.
public struct Requester: Sendable {
    public let user: UserInfo
    public let authorizer: any Authorizer

    @TaskLocal public static var current: Requester?
}

extension ResourceStrategy {
    public var hasStatus: Bool { false }
    public var keepsStatusOnCreate: Bool { false }
    public func applyDefaults(_ object: inout JSON) {}
    public func prepareForCreate(_ object: inout JSON) {}
    public func prepareForUpdate(_ object: inout JSON, old: JSON) {}
    public func validate(_ object: JSON) -> [FieldError] { [] }
    public func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] { validate(object) }
    public func selectableFields(_ object: JSON) -> [String: String] { [:] }
    public var indexedFields: [String] { [] }
    public func summary(_ object: JSON) -> [String: String] { [:] }
    public var columns: [TableColumn] { [.name, .age] }
    public func cells(_ object: JSON, now: Date) -> [JSON] {
        [.string(object.name), .string(Age.since(object.creationTimestamp, now: now))]
    }
    public func unknownFields(_ object: JSON) -> [String] {
        guard let apiVersion = object["apiVersion"]?.string, let kind = object["kind"]?.string else { return [] }
        return FieldValidation.unknownFields(object, apiVersion: apiVersion, kind: kind)
    }
    public func beginCreate(_ object: inout JSON, context: WriteContext) async throws -> FinishWrite? { nil }
    public func beginUpdate(_ object: inout JSON, old: JSON, context: WriteContext) async throws -> FinishWrite? { nil }
    public func beginDelete(_ object: JSON, context: WriteContext) async throws {}
    public func afterDelete(_ object: JSON, context: WriteContext) async {}
    public func pendingFinalizers(_ object: JSON) -> [String] { object.finalizers }
    public func prepareForDeletion(_ object: inout JSON) {}
    public func subresource(_ name: String) -> (any SubresourceHandler)? { nil }
}

/// A subresource served by its kind's own code rather than the generic verbs.
public protocol SubresourceHandler: Sendable {
    func handle(_ request: SubresourceRequest) async throws -> APIResponse
}

public struct SubresourceRequest: Sendable {
    public let request: APIRequest
    public let resource: ResourceType
    public let namespace: String?
    public let name: String
    public let registry: Registry
    public var dryRun: Bool { request.query["dryRun"] == "All" }
}

/// For kinds with nothing particular.
public struct GenericStrategy: ResourceStrategy {
    public let hasStatus: Bool

    public init(hasStatus: Bool = false) {
        self.hasStatus = hasStatus
    }
}
