import KubeModel

/// What kube-apiserver's ServiceAccount admission adds to a new pod: the `kube-api-access-…` projected volume
/// (a bound token the kubelet keeps fresh, the cluster CA from `kube-root-ca.crt`, the namespace) mounted
/// at `/var/run/secrets/kubernetes.io/serviceaccount` in every container, unless the pod or its service
/// account turns automounting off.
struct ServiceAccountAdmission: AdmissionPlugin {
    static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
    /// As kube-apiserver chooses it: an hour, plus a few seconds so that kubelets notice the refresh.
    static let tokenExpiration: Int64 = 3607

    func admit(_ object: inout JSON, resource: ResourceType, namespace: String?, registry: Registry) async throws {
        guard let namespace, resource.group.isEmpty, resource.resource == "pods" else { return }
        if object[path: ["spec", "automountServiceAccountToken"]] == .bool(false) { return }
        let accountName = object[path: ["spec", "serviceAccountName"]]?.string ?? "default"
        if let accounts = registry.resources.find(group: "", version: "v1", resource: "serviceaccounts") {
            let cached = registry.cached(accounts)
            if cached.get(ObjectKey(namespace: namespace, name: accountName))?["automountServiceAccountToken"] == .bool(false),
               object[path: ["spec", "automountServiceAccountToken"]] != .bool(true) { return }
        }
        var spec = object["spec"] ?? [:]
        let containerKeys = ["initContainers", "containers"]
        let alreadyMounted = containerKeys.contains { key in
            (spec[key]?.array ?? []).contains { ($0["volumeMounts"]?.array ?? []).contains { $0["mountPath"]?.string == Self.mountPath } }
        }
        if alreadyMounted { return }
        let name = Registry.generatedName("kube-api-access-")
        var volumes = spec["volumes"]?.array ?? []
        volumes.append(["name": .string(name), "projected": [
            "defaultMode": 420,
            "sources": [
                ["serviceAccountToken": ["expirationSeconds": .int(Self.tokenExpiration), "path": "token"]],
                ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                ["downwardAPI": ["items": [["path": "namespace", "fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.namespace"]]]]],
            ],
        ]])
        spec["volumes"] = .array(volumes)
        for key in containerKeys {
            guard let containers = spec[key]?.array else { continue }
            spec[key] = .array(containers.map { container in
                var container = container
                var mounts = container["volumeMounts"]?.array ?? []
                mounts.append(["name": .string(name), "mountPath": .string(Self.mountPath), "readOnly": true])
                container["volumeMounts"] = .array(mounts)
                return container
            })
        }
        object["spec"] = spec
    }
}
