import KubeModel

/// What kube-apiserver's DefaultTolerationSeconds admission adds to every new pod: it tolerates a
/// `not-ready` or `unreachable` node for 300 seconds before it is evicted, unless it says otherwise.
struct DefaultTolerationSeconds: AdmissionPlugin {
    static let seconds: Int64 = 300
    static let keys = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]

    func admit(_ object: inout JSON, resource: ResourceType, namespace: String?, registry: Registry) async throws {
        guard resource.group.isEmpty, resource.resource == "pods" else { return }
        var tolerations = object[path: ["spec", "tolerations"]]?.array ?? []
        for key in Self.keys {
            // A toleration of the key with NoExecute (or of every effect) stands; so does one of every key.
            let tolerated = tolerations.contains { toleration in
                let effect = toleration["effect"]?.string ?? ""
                let coversKey = toleration["key"]?.string == key || (toleration["key"]?.string ?? "").isEmpty && toleration["operator"]?.string == "Exists"
                return coversKey && (effect.isEmpty || effect == "NoExecute")
            }
            if !tolerated {
                tolerations.append(["key": .string(key), "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": .int(Self.seconds)])
            }
        }
        object[path: ["spec", "tolerations"]] = .array(tolerations)
    }
}
