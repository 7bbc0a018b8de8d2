import KubeModel

/// What kube-apiserver's ServiceAccount admission adds to a new pod: the `kube-api-access-…` projected volume
/// (a bound token the kubelet keeps fresh, the cluster CA from `kube-root-ca.crt`, the namespace) mounted
/// at `/var/run/secrets/kubernetes.io/serviceaccount` in every container, unless the pod or its service
/// account turns automounting off. A pod whose service account does not exist is refused; mirror pods are
/// the kubelet's and pass untouched.
struct ServiceAccountAdmission: AdmissionPlugin {
    static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
    /// As kube-apiserver chooses it: an hour, plus a few seconds so that kubelets notice the refresh.
    static let tokenExpiration: Int64 = 3607
    /// How often a missing `default` account is looked for again: the service-account controller makes it
    /// moments after its namespace, so a pod created at once waits for it, as kube-apiserver's plugin does.
    static let defaultAccountAttempts = 10

    func admit(_ object: inout JSON, resource: ResourceType, namespace: String?, registry: Registry) async throws {
        guard let namespace, resource.group.isEmpty, resource.resource == "pods" else { return }
        if object[path: ["metadata", "annotations", "kubernetes.io/config.mirror"]] != nil { return }
        let accountName = object[path: ["spec", "serviceAccountName"]]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        guard let accounts = registry.resources.find(group: "", version: "v1", resource: "serviceaccounts") else { return }
        let account = try await Self.serviceAccount(accountName, namespace: namespace, accounts: accounts, registry: registry)
        guard let account else {
            let pod = object[path: ["metadata", "name"]]?.string ?? ""
            throw APIError.forbidden("pods \"\(pod)\" is forbidden: error looking up service account \(namespace)/\(accountName): "
                                     + "serviceaccount \"\(accountName)\" not found", resource: "pods", name: pod)
        }
        if object[path: ["spec", "automountServiceAccountToken"]] == .bool(false) { return }
        if account["automountServiceAccountToken"] == .bool(false),
           object[path: ["spec", "automountServiceAccountToken"]] != .bool(true) { return }
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

    /// The account from the watch cache, else from the store: once, or for `default` a few times a moment apart.
    static func serviceAccount(_ name: String, namespace: String, accounts: ResourceType, registry: Registry) async throws -> JSON? {
        if let cached = registry.cached(accounts).get(ObjectKey(namespace: namespace, name: name)) { return cached }
        let attempts = name == "default" ? defaultAccountAttempts : 1
        let pause = Duration.milliseconds(Int.random(in: 100..<200))
        for attempt in 0..<attempts {
            if attempt > 0 { try await Task.sleep(for: pause) }
            do {
                return try await registry.get(accounts, namespace: namespace, name: name)
            } catch let error as APIError where error.code == 404 {
                continue
            }
        }
        return nil
    }
}
