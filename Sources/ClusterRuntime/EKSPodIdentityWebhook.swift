import EKS
import KubeAPI
import KubeModel

/// What EKS's pod identity webhooks add to a new pod, as an admission plugin of the cluster's API server:
/// for a service account annotated `eks.amazonaws.com/role-arn` (IRSA), the role's ARN and a projected web
/// identity token for `sts.amazonaws.com`; for a service account with an EKS Pod Identity association, the
/// credentials endpoint and a projected token for `pods.eks.amazonaws.com`.
struct EKSPodIdentityWebhook: AdmissionPlugin {
    static let roleAnnotation = "eks.amazonaws.com/role-arn"
    static let irsaMountPath = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
    static let podIdentityMountPath = "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount"
    /// The EKS Pod Identity Agent's address on every node.
    static let credentialsURI = "http://169.254.170.23/v1/credentials"

    let region: String
    let access: ClusterAccessState

    func admit(_ object: inout JSON, resource: ResourceType, namespace: String?, registry: Registry) async throws {
        guard let namespace, resource.group.isEmpty, resource.resource == "pods",
              let accounts = registry.resources.find(group: "", version: "v1", resource: "serviceaccounts") else { return }
        let accountName = object[path: ["spec", "serviceAccountName"]]?.string ?? "default"
        let cached = registry.cached(accounts)
        await cached.waitUntilLoaded()
        let account = cached.get(ObjectKey(namespace: namespace, name: accountName))
        let annotations = account?[path: ["metadata", "annotations"]]?.stringMap ?? [:]
        if let roleArn = annotations[Self.roleAnnotation], !roleArn.isEmpty {
            let audience = annotations["eks.amazonaws.com/audience"] ?? "sts.amazonaws.com"
            let expiration = annotations["eks.amazonaws.com/token-expiration"].flatMap(Int64.init) ?? 86400
            inject(into: &object, marker: "AWS_ROLE_ARN", env: [
                ("AWS_STS_REGIONAL_ENDPOINTS", annotations["eks.amazonaws.com/sts-regional-endpoints"] == "false" ? "legacy" : "regional"),
                ("AWS_DEFAULT_REGION", region), ("AWS_REGION", region), ("AWS_ROLE_ARN", roleArn),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", Self.irsaMountPath + "/token"),
            ], volume: "aws-iam-token", mountPath: Self.irsaMountPath,
               token: ["audience": .string(audience), "expirationSeconds": .int(expiration), "path": "token"])
        } else if access.access.podIdentities["\(namespace)/\(accountName)"] != nil {
            inject(into: &object, marker: "AWS_CONTAINER_CREDENTIALS_FULL_URI", env: [
                ("AWS_STS_REGIONAL_ENDPOINTS", "regional"), ("AWS_DEFAULT_REGION", region), ("AWS_REGION", region),
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", Self.credentialsURI),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", Self.podIdentityMountPath + "/eks-pod-identity-token"),
            ], volume: "eks-pod-identity-token", mountPath: Self.podIdentityMountPath,
               token: ["audience": "pods.eks.amazonaws.com", "expirationSeconds": 86400, "path": "eks-pod-identity-token"])
        }
    }

    /// Adds the environment and the token volume's mount to every container that does not set `marker` itself.
    private func inject(into pod: inout JSON, marker: String, env: [(String, String)], volume: String, mountPath: String, token: JSON) {
        var spec = pod["spec"] ?? [:]
        var touched = false
        for key in ["initContainers", "containers"] {
            guard let containers = spec[key]?.array else { continue }
            spec[key] = .array(containers.map { container in
                var container = container
                var variables = container["env"]?.array ?? []
                guard !variables.contains(where: { $0["name"]?.string == marker }) else { return container }
                for (name, value) in env where !variables.contains(where: { $0["name"]?.string == name }) {
                    variables.append(["name": .string(name), "value": .string(value)])
                }
                container["env"] = .array(variables)
                var mounts = container["volumeMounts"]?.array ?? []
                mounts.append(["name": .string(volume), "mountPath": .string(mountPath), "readOnly": true])
                container["volumeMounts"] = .array(mounts)
                touched = true
                return container
            })
        }
        guard touched else { return }
        var volumes = spec["volumes"]?.array ?? []
        if !volumes.contains(where: { $0["name"]?.string == volume }) {
            volumes.append(["name": .string(volume), "projected": ["defaultMode": 420, "sources": [["serviceAccountToken": token]]]])
        }
        spec["volumes"] = .array(volumes)
        pod["spec"] = spec
    }
}
