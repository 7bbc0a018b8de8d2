import KubeModel

/// What every cluster starts with, as kube-apiserver's bootstrap controller makes it: the initial
/// namespaces and the `kubernetes` Service at the first address of the service CIDR.
public enum ClusterBootstrap {
    /// The namespaces every cluster starts with.
    public static let initialNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"]

    /// Creates what is missing, reconciles the bootstrap RBAC policy; serves the stored custom resource definitions' kinds.
    public static func run(_ registry: Registry) async throws {
        guard let namespaces = registry.resources.find(group: "", version: "v1", resource: "namespaces"),
              let services = registry.resources.find(group: "", version: "v1", resource: "services") else { return }
        try await ServiceStrategy.repairAllocations(registry, services: services)
        var initial: [(ResourceType, String?, JSON)] = initialNamespaces.map {
            (namespaces, nil, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string($0)]])
        }
        if let network = registry.serviceNetwork {
            initial.append((services, "default", [
                "apiVersion": "v1", "kind": "Service",
                "metadata": ["name": "kubernetes", "labels": ["component": "apiserver", "provider": "kubernetes"]],
                "spec": ["clusterIP": .string(network.apiServiceIP), "type": "ClusterIP",
                         "ports": [["name": "https", "port": 443, "protocol": "TCP", "targetPort": 443]]],
            ]))
        }
        for (resource, namespace, body) in initial {
            do {
                _ = try await registry.create(resource, namespace: namespace, body: body)
            } catch let error as APIError where error.reason == "AlreadyExists" {
                continue
            }
        }
        try await BootstrapPolicy.reconcile(registry)
        try await registry.syncCustomResources()
    }
}
