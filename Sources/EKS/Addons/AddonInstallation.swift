import KubeModel

/// An add-on as a cluster's control plane installs it: which objects at which version, configured how.
public struct AddonInstallation: Sendable, Equatable {
    public let name: String
    public let version: String
    public let namespace: String
    /// `configurationValues`, checked against the add-on's schema; `{}` for none.
    public let configuration: JSON
    /// The IAM role the add-on's service account is annotated with (IRSA).
    public let serviceAccountRoleArn: String?
    public let resolveConflicts: ResolveConflicts

    public init(name: String, version: String, namespace: String, configuration: JSON = [:], serviceAccountRoleArn: String? = nil,
                resolveConflicts: ResolveConflicts = .OVERWRITE) {
        self.name = name
        self.version = version
        self.namespace = namespace
        self.configuration = configuration
        self.serviceAccountRoleArn = serviceAccountRoleArn
        self.resolveConflicts = resolveConflicts
    }

    /// The add-ons a new cluster of `minor` gets, self-managed, at their default versions.
    public static func bootstrapped(minor: String) -> [AddonInstallation] {
        AddonCatalog.bootstrapped.compactMap { name in
            guard let definition = AddonCatalog.named(name), let version = definition.defaultVersion(for: minor) else { return nil }
            return AddonInstallation(name: name, version: version, namespace: definition.defaultNamespace)
        }
    }
}

/// What applying an add-on's objects came to.
public enum AddonApplyOutcome: Sendable, Equatable {
    case applied
    /// Fields of its objects are someone else's and the add-on's `resolveConflicts` keeps them: EKS's message, naming them.
    case conflicts(String)
    /// The cluster refused an object (its API server does not run, or an admission check failed).
    case failed(AddonIssue)
}

extension AddonRecord {
    /// How the control plane installs the add-on as it is recorded, conflicts resolved by `resolveConflicts`.
    func installation(_ resolveConflicts: ResolveConflicts) -> AddonInstallation {
        let schema = AddonCatalog.named(addon.addonName)?.configurationSchema ?? [:]
        return AddonInstallation(name: addon.addonName, version: addon.addonVersion,
                                 namespace: addon.namespaceConfig?.namespace ?? AddonCatalog.named(addon.addonName)?.defaultNamespace ?? "kube-system",
                                 configuration: (try? ConfigurationValues.parse(addon.configurationValues, schema: schema)) ?? [:],
                                 serviceAccountRoleArn: addon.serviceAccountRoleArn, resolveConflicts: resolveConflicts)
    }
}
