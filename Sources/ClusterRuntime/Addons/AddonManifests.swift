import EKS
import KubeAPI
import KubeModel

/// The objects each add-on of `AddonCatalog` consists of, at the images of its version, with its
/// `configurationValues` landed in them (vpc-cni's `env` in the `aws-node` container, coredns's `replicaCount`
/// and `corefile`, …) and its service account annotated with `serviceAccountRoleArn`. In the order they are
/// applied: service accounts and configuration before the workloads that use them.
enum AddonManifests {
    static func objects(_ addon: AddonInstallation, spec: ControlPlaneSpec) -> [JSON] {
        let context = Context(addon: addon, spec: spec)
        var objects: [JSON]
        switch addon.name {
        case "vpc-cni": objects = vpcCni(context)
        case "kube-proxy": objects = kubeProxy(context)
        case "coredns": objects = coreDNS(context)
        case "aws-ebs-csi-driver": objects = ebsCSIDriver(context)
        case "eks-pod-identity-agent": objects = podIdentityAgent(context)
        case "metrics-server": objects = metricsServer(context)
        default: objects = []
        }
        if addon.namespace != "kube-system" {
            objects.insert(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(addon.namespace)]], at: 0)
        }
        return objects
    }

    /// What every add-on's objects are built from.
    struct Context {
        let addon: AddonInstallation
        let spec: ControlPlaneSpec

        var namespace: String { addon.namespace }
        var configuration: JSON { addon.configuration }
        var registry: String { AddonCatalog.imageRegistry(region: spec.region) }
        /// `v1.48.0` of `v1.48.0-eksbuild.2`: the upstream image tag.
        var upstreamVersion: String { String(addon.version.split(separator: "-").first ?? Substring(addon.version)) }

        func config(_ path: String...) -> JSON? { configuration[path: path] }

        func serviceAccount(_ name: String) -> JSON {
            var account: JSON = ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": .string(name), "namespace": .string(namespace)]]
            if let role = addon.serviceAccountRoleArn, AddonCatalog.named(addon.name)?.roleServiceAccount == name {
                account[path: ["metadata", "annotations"]] = ["eks.amazonaws.com/role-arn": .string(role)]
            }
            return account
        }

        func metadata(_ name: String, labels: JSON) -> JSON {
            ["name": .string(name), "namespace": .string(namespace), "labels": labels]
        }

        /// The pod template with the configuration's pod-level settings (`podAnnotations`, `podLabels`, `tolerations`,
        /// `nodeSelector`, `affinity`) and the main container's `resources`, read at `scope` of the configuration.
        func template(labels: JSON, spec podSpec: JSON, scope: [String] = []) -> JSON {
            var podSpec = podSpec
            var metadata: JSON = ["labels": labels]
            let settings = scope.isEmpty ? configuration : (configuration[path: scope] ?? [:])
            if let annotations = settings["podAnnotations"], !(annotations.object?.isEmpty ?? true) { metadata["annotations"] = annotations }
            if let extra = settings["podLabels"]?.object { metadata["labels"] = labels.merging(.object(extra)) }
            if let tolerations = settings["tolerations"] { podSpec["tolerations"] = tolerations }
            if let selector = settings["nodeSelector"] { podSpec["nodeSelector"] = selector }
            if let affinity = settings["affinity"], !affinity.isNull { podSpec["affinity"] = affinity }
            if let resources = settings["resources"], var containers = podSpec["containers"]?.array, !containers.isEmpty {
                containers[0]["resources"] = resources
                podSpec["containers"] = .array(containers)
            }
            return ["metadata": metadata, "spec": podSpec]
        }
    }

    static let linuxAffinity: JSON = ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": [["matchExpressions": [
        ["key": "kubernetes.io/os", "operator": "In", "values": ["linux"]],
        ["key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]],
        ["key": "eks.amazonaws.com/compute-type", "operator": "NotIn", "values": ["fargate", "hybrid", "auto"]],
    ]]]]]]
    static let nodeName: JSON = ["valueFrom": ["fieldRef": ["apiVersion": "v1", "fieldPath": "spec.nodeName"]]]

    static func env(_ pairs: [(String, String)]) -> [JSON] { pairs.map { ["name": .string($0.0), "value": .string($0.1)] } }

    /// `base` with the configured variables: those named again take the configured value, new ones are added.
    static func env(_ base: [JSON], configured: JSON?) -> JSON {
        var variables = base
        for (name, value) in (configured?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
            let entry: JSON = ["name": .string(name), "value": .string(value.string ?? String(decoding: JSONCoding.encode(value), as: UTF8.self))]
            if let index = variables.firstIndex(where: { $0["name"]?.string == name }) { variables[index] = entry } else { variables.append(entry) }
        }
        return .array(variables)
    }

    static func daemonSet(_ context: Context, name: String, labels: JSON, selector: JSON, podSpec: JSON, scope: [String] = []) -> JSON {
        ["apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": context.metadata(name, labels: labels),
         "spec": ["selector": ["matchLabels": selector],
                  "updateStrategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": "10%"]],
                  "template": context.template(labels: selector.merging(labels), spec: podSpec, scope: scope)]]
    }

    static func deployment(_ context: Context, name: String, labels: JSON, selector: JSON, replicas: Int64, podSpec: JSON,
                           scope: [String] = []) -> JSON {
        ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": context.metadata(name, labels: labels),
         "spec": ["replicas": .int(replicas), "selector": ["matchLabels": selector],
                  "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 1, "maxSurge": "25%"]],
                  "template": context.template(labels: selector.merging(labels), spec: podSpec, scope: scope)]]
    }

    static func disruptionBudget(_ context: Context, name: String, selector: JSON, maxUnavailable: JSON) -> JSON {
        ["apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": context.metadata(name, labels: selector),
         "spec": ["maxUnavailable": maxUnavailable, "selector": ["matchLabels": selector]]]
    }

    // MARK: The add-ons

    static func vpcCni(_ context: Context) -> [JSON] {
        let version = context.addon.version
        let images = context.registry
        let labels: JSON = ["app.kubernetes.io/instance": "aws-vpc-cni", "app.kubernetes.io/name": "aws-node", "k8s-app": "aws-node",
                            "app.kubernetes.io/version": .string(version)]
        let baseEnv = env([("ADDITIONAL_ENI_TAGS", "{}"), ("AWS_VPC_CNI_NODE_PORT_SUPPORT", "true"),
                           ("AWS_VPC_ENI_MTU", "9001"), ("AWS_VPC_K8S_CNI_EXTERNALSNAT", "false"),
                           ("AWS_VPC_K8S_CNI_RANDOMIZESNAT", "prng"), ("CLUSTER_NAME", context.spec.clusterName),
                           ("ENABLE_IPv4", "true"), ("ENABLE_IPv6", "false"), ("ENABLE_POD_ENI", "false"),
                           ("ENABLE_PREFIX_DELEGATION", "false"), ("VPC_CNI_VERSION", version),
                           ("WARM_ENI_TARGET", "1"), ("WARM_PREFIX_TARGET", "1")])
        let networkPolicy = context.config("enableNetworkPolicy")?.string ?? "false"
        var containers: [JSON] = [
            ["name": "aws-node", "image": .string("\(images)/amazon-k8s-cni:\(version)"),
             "ports": [["containerPort": 61678, "name": "metrics", "protocol": "TCP"]],
             "env": .array(env(baseEnv, configured: context.config("env")).array! + [["name": "MY_NODE_NAME", "valueFrom": nodeName["valueFrom"]!]]),
             "resources": ["requests": ["cpu": "25m"]],
             "securityContext": ["capabilities": ["add": ["NET_ADMIN", "NET_RAW"]]]],
        ]
        if context.config("nodeAgent", "enabled")?.string != "false" {
            containers.append(["name": "aws-eks-nodeagent", "image": .string("\(images)/amazon/aws-network-policy-agent:v1.2.7-eksbuild.1"),
                               "args": .array(["--enable-ipv6=false", .string("--enable-network-policy=\(networkPolicy)"),
                                               .string("--enable-cloudwatch-logs=\(context.config("nodeAgent", "enableCloudWatchLogs")?.string ?? "false")")]),
                               "env": [["name": "MY_NODE_NAME", "valueFrom": nodeName["valueFrom"]!]],
                               "resources": context.config("nodeAgent", "resources") ?? ["requests": ["cpu": "25m"]]])
        }
        let podSpec: JSON = [
            "hostNetwork": true, "priorityClassName": "system-node-critical", "serviceAccountName": "aws-node",
            "terminationGracePeriodSeconds": 10, "affinity": linuxAffinity, "tolerations": [["operator": "Exists"]],
            "initContainers": [["name": "aws-vpc-cni-init", "image": .string("\(images)/amazon-k8s-cni-init:\(version)"),
                                "env": env(env([("DISABLE_TCP_EARLY_DEMUX", "false"), ("ENABLE_IPv6", "false")]),
                                           configured: context.config("init", "env")),
                                "resources": ["requests": ["cpu": "25m"]], "securityContext": ["privileged": true]]],
            "containers": .array(containers),
        ]
        return [context.serviceAccount("aws-node"),
                daemonSet(context, name: "aws-node", labels: labels, selector: ["k8s-app": "aws-node"], podSpec: podSpec)]
    }

    static func kubeProxy(_ context: Context) -> [JSON] {
        let mode = context.config("mode")?.string ?? "iptables"
        let config = """
        apiVersion: kubeproxy.config.k8s.io/v1alpha1
        kind: KubeProxyConfiguration
        clientConnection:
          kubeconfig: /var/lib/kube-proxy/kubeconfig
        clusterCIDR: ""
        ipvs:
          scheduler: "\(context.config("ipvs", "scheduler")?.string ?? "")"
        metricsBindAddress: 0.0.0.0:10249
        mode: "\(mode)"

        """
        let labels: JSON = ["eks.amazonaws.com/component": "kube-proxy", "k8s-app": "kube-proxy"]
        let podSpec: JSON = [
            "hostNetwork": true, "priorityClassName": "system-node-critical", "serviceAccountName": "kube-proxy",
            "affinity": linuxAffinity, "tolerations": [["operator": "Exists"]],
            "containers": [["name": "kube-proxy", "image": .string("\(context.registry)/eks/kube-proxy:\(context.addon.version)"),
                            "command": ["kube-proxy", .string("--v=\(context.config("logLevel")?.string ?? "2")"),
                                        "--config=/var/lib/kube-proxy-config/config", "--hostname-override=$(NODE_NAME)"],
                            "env": [["name": "NODE_NAME", "valueFrom": nodeName["valueFrom"]!]],
                            "resources": ["requests": ["cpu": "100m"]], "securityContext": ["privileged": true]]],
        ]
        return [context.serviceAccount("kube-proxy"),
                ["apiVersion": "v1", "kind": "ConfigMap", "metadata": context.metadata("kube-proxy-config", labels: labels),
                 "data": ["config": .string(config)]],
                daemonSet(context, name: "kube-proxy", labels: labels, selector: ["k8s-app": "kube-proxy"], podSpec: podSpec)]
    }

    static let corefile = """
    .:53 {
        errors
        health {
            lameduck 5s
          }
        ready
        kubernetes cluster.local in-addr.arpa ip6.arpa {
          pods insecure
          fallthrough in-addr.arpa ip6.arpa
        }
        prometheus :9153
        forward . /etc/resolv.conf
        cache 30
        loop
        reload
        loadbalance
    }

    """

    static func coreDNS(_ context: Context) -> [JSON] {
        let selector: JSON = ["eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"]
        let podSpec: JSON = [
            "priorityClassName": "system-cluster-critical", "serviceAccountName": "coredns", "dnsPolicy": "Default",
            "tolerations": [["key": "CriticalAddonsOnly", "operator": "Exists"], ["key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"]],
            "affinity": linuxAffinity.merging(["podAntiAffinity": ["preferredDuringSchedulingIgnoredDuringExecution": [
                ["weight": 100, "podAffinityTerm": ["labelSelector": ["matchExpressions": [["key": "k8s-app", "operator": "In", "values": ["kube-dns"]]]],
                                                    "topologyKey": "kubernetes.io/hostname"]]]]]),
            "containers": [["name": "coredns", "image": .string("\(context.registry)/eks/coredns:\(context.addon.version)"),
                            "args": ["-conf", "/etc/coredns/Corefile"],
                            "ports": [["containerPort": 53, "name": "dns", "protocol": "UDP"], ["containerPort": 53, "name": "dns-tcp", "protocol": "TCP"],
                                      ["containerPort": 9153, "name": "metrics", "protocol": "TCP"]],
                            "resources": ["limits": ["memory": "170Mi"], "requests": ["cpu": "100m", "memory": "70Mi"]]]],
        ]
        let network = ServiceNetwork(cidr: context.spec.serviceIpv4Cidr)
        let kubeDNS: JSON = [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": "kube-dns", "namespace": .string(context.namespace),
                         "labels": ["eks.amazonaws.com/component": "kube-dns", "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                    "kubernetes.io/name": "CoreDNS"],
                         "annotations": ["prometheus.io/port": "9153", "prometheus.io/scrape": "true"]],
            "spec": ["clusterIP": .string(network?.address(at: 10) ?? ""), "selector": ["k8s-app": "kube-dns"],
                     "ports": [["name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53],
                               ["name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53],
                               ["name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153]]],
        ]
        var objects: [JSON] = [
            context.serviceAccount("coredns"),
            ["apiVersion": "v1", "kind": "ConfigMap", "metadata": context.metadata("coredns", labels: selector),
             "data": ["Corefile": .string(context.config("corefile")?.string ?? corefile)]],
            kubeDNS,
            deployment(context, name: "coredns", labels: selector.merging(["kubernetes.io/name": "CoreDNS"]), selector: selector,
                       replicas: context.config("replicaCount")?.int ?? 2, podSpec: podSpec),
        ]
        if context.config("podDisruptionBudget", "enabled")?.bool ?? true {
            objects.append(disruptionBudget(context, name: "coredns", selector: selector,
                                            maxUnavailable: context.config("podDisruptionBudget", "maxUnavailable") ?? 1))
        }
        return objects
    }

    static func ebsCSIDriver(_ context: Context) -> [JSON] {
        let image = "\(context.registry)/eks/aws-ebs-csi-driver:\(context.upstreamVersion)"
        func sidecar(_ name: String, _ tag: String) -> JSON {
            ["name": .string(name), "image": .string("\(context.registry)/eks/\(name):\(tag)"), "args": ["--csi-address=$(ADDRESS)", "--v=2"],
             "env": [["name": "ADDRESS", "value": "/var/lib/csi/sockets/pluginproxy/csi.sock"]],
             "resources": ["requests": ["cpu": "10m", "memory": "40Mi"], "limits": ["memory": "256Mi"]]]
        }
        let controllerSelector: JSON = ["app": "ebs-csi-controller", "app.kubernetes.io/name": "aws-ebs-csi-driver"]
        let volumeTags = (context.config("controller", "extraVolumeTags")?.object ?? [:]).sorted { $0.key < $1.key }
            .map { JSON.string("--extra-tags=\($0.key)=\($0.value.string ?? "")") }
        let controller: JSON = [
            "serviceAccountName": "ebs-csi-controller-sa", "priorityClassName": "system-cluster-critical",
            "nodeSelector": ["kubernetes.io/os": "linux"],
            "tolerations": [["key": "CriticalAddonsOnly", "operator": "Exists"], ["effect": "NoExecute", "operator": "Exists", "tolerationSeconds": 300]],
            "containers": [
                ["name": "ebs-plugin", "image": .string(image),
                 "args": .array(["controller", "--endpoint=$(CSI_ENDPOINT)", "--batching=true", "--logging-format=text", "--v=2"] + volumeTags),
                 "env": [["name": "CSI_ENDPOINT", "value": "unix:///var/lib/csi/sockets/pluginproxy/csi.sock"],
                         ["name": "AWS_REGION", "value": .string(context.spec.region)]],
                 "ports": [["containerPort": 9808, "name": "healthz", "protocol": "TCP"]],
                 "resources": ["requests": ["cpu": "10m", "memory": "40Mi"], "limits": ["memory": "256Mi"]]],
                sidecar("csi-provisioner", "v5.3.0-eksbuild.4"), sidecar("csi-attacher", "v4.9.0-eksbuild.4"),
                sidecar("csi-snapshotter", "v8.3.0-eksbuild.2"), sidecar("csi-resizer", "v1.14.0-eksbuild.4"),
                sidecar("livenessprobe", "v2.16.0-eksbuild.5"),
            ],
        ]
        let nodeSelector: JSON = ["app": "ebs-csi-node", "app.kubernetes.io/name": "aws-ebs-csi-driver"]
        let node: JSON = [
            "serviceAccountName": "ebs-csi-node-sa", "priorityClassName": "system-node-critical",
            "affinity": linuxAffinity, "tolerations": [["operator": "Exists"]],
            "containers": [
                ["name": "ebs-plugin", "image": .string(image), "args": ["node", "--endpoint=$(CSI_ENDPOINT)", "--logging-format=text", "--v=2"],
                 "env": [["name": "CSI_ENDPOINT", "value": "unix:/csi/csi.sock"], ["name": "CSI_NODE_NAME", "valueFrom": nodeName["valueFrom"]!]],
                 "securityContext": ["privileged": true],
                 "resources": ["requests": ["cpu": "10m", "memory": "40Mi"], "limits": ["memory": "256Mi"]]],
                sidecar("csi-node-driver-registrar", "v2.14.0-eksbuild.5"), sidecar("livenessprobe", "v2.16.0-eksbuild.5"),
            ],
        ]
        var objects: [JSON] = [
            context.serviceAccount("ebs-csi-controller-sa"), context.serviceAccount("ebs-csi-node-sa"),
            ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": ["name": "ebs-csi-node-role", "labels": ["app.kubernetes.io/name": "aws-ebs-csi-driver"]],
             "rules": [["apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "patch", "list", "watch"]],
                       ["apiGroups": ["storage.k8s.io"], "resources": ["volumeattachments"], "verbs": ["get", "list", "watch"]]]],
            ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
             "metadata": ["name": "ebs-csi-node-getter-binding", "labels": ["app.kubernetes.io/name": "aws-ebs-csi-driver"]],
             "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "ebs-csi-node-role"],
             "subjects": [["kind": "ServiceAccount", "name": "ebs-csi-node-sa", "namespace": .string(context.namespace)]]],
            deployment(context, name: "ebs-csi-controller", labels: controllerSelector, selector: controllerSelector,
                       replicas: context.config("controller", "replicaCount")?.int ?? 2, podSpec: controller, scope: ["controller"]),
            disruptionBudget(context, name: "ebs-csi-controller", selector: controllerSelector, maxUnavailable: 1),
            ["apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver",
             "metadata": ["name": "ebs.csi.aws.com", "labels": ["app.kubernetes.io/name": "aws-ebs-csi-driver"]],
             "spec": ["attachRequired": true, "podInfoOnMount": false, "fsGroupPolicy": "File"]],
            daemonSet(context, name: "ebs-csi-node", labels: nodeSelector, selector: nodeSelector, podSpec: node, scope: ["node"]),
        ]
        if context.config("defaultStorageClass", "enabled")?.bool == true {
            objects.append(["apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                            "metadata": ["name": "ebs-csi-default-sc", "annotations": ["storageclass.kubernetes.io/is-default-class": "true"]],
                            "provisioner": "ebs.csi.aws.com", "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true])
        }
        return objects
    }

    static func podIdentityAgent(_ context: Context) -> [JSON] {
        let selector: JSON = ["app.kubernetes.io/instance": "eks-pod-identity-agent", "app.kubernetes.io/name": "eks-pod-identity-agent"]
        let extraArgs = (context.config("agent", "additionalArgs")?.object ?? [:]).sorted { $0.key < $1.key }
            .map { JSON.string("\($0.key)=\($0.value.string ?? "")") }
        let podSpec: JSON = [
            "hostNetwork": true, "priorityClassName": "system-node-critical", "terminationGracePeriodSeconds": 30,
            "affinity": linuxAffinity, "tolerations": [["operator": "Exists"]],
            "containers": [["name": "eks-pod-identity-agent", "image": .string("\(context.registry)/eks/eks-pod-identity-agent:\(context.addon.version)"),
                            "command": ["/go-runner", "/eks-pod-identity-agent", "server"],
                            "args": .array(["--port", "80", "--cluster-name", .string(context.spec.clusterName), "--probe-port", "2703"] + extraArgs),
                            "ports": [["containerPort": 80, "name": "proxy", "protocol": "TCP"],
                                      ["containerPort": 2703, "name": "probes-port", "protocol": "TCP"]],
                            "securityContext": ["capabilities": ["add": ["CAP_NET_BIND_SERVICE"]]],
                            "resources": ["requests": ["cpu": "25m", "memory": "64Mi"]]]],
        ]
        return [daemonSet(context, name: "eks-pod-identity-agent", labels: selector, selector: selector, podSpec: podSpec)]
    }

    static func metricsServer(_ context: Context) -> [JSON] {
        let selector: JSON = ["app.kubernetes.io/instance": "metrics-server", "app.kubernetes.io/name": "metrics-server"]
        let args: JSON = context.config("args") ?? ["--secure-port=10251", "--cert-dir=/tmp", "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
                                                    "--kubelet-use-node-status-port", "--metric-resolution=15s"]
        let podSpec: JSON = [
            "serviceAccountName": "metrics-server", "priorityClassName": "system-cluster-critical",
            "containers": [["name": "metrics-server", "image": .string("\(context.registry)/eks/metrics-server:\(context.addon.version)"),
                            "args": args, "ports": [["containerPort": 10251, "name": "https", "protocol": "TCP"]],
                            "resources": ["requests": ["cpu": "100m", "memory": "200Mi"]]]],
        ]
        let rbac = "rbac.authorization.k8s.io/v1"
        return [
            context.serviceAccount("metrics-server"),
            ["apiVersion": .string(rbac), "kind": "ClusterRole",
             "metadata": ["name": "system:aggregated-metrics-reader", "labels": selector.merging([
                "rbac.authorization.k8s.io/aggregate-to-admin": "true", "rbac.authorization.k8s.io/aggregate-to-edit": "true",
                "rbac.authorization.k8s.io/aggregate-to-view": "true"])],
             "rules": [["apiGroups": ["metrics.k8s.io"], "resources": ["pods", "nodes"], "verbs": ["get", "list", "watch"]]]],
            ["apiVersion": .string(rbac), "kind": "ClusterRole", "metadata": ["name": "system:metrics-server", "labels": selector],
             "rules": [["apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]],
                       ["apiGroups": [""], "resources": ["pods", "nodes"], "verbs": ["get", "list", "watch"]]]],
            ["apiVersion": .string(rbac), "kind": "ClusterRoleBinding", "metadata": ["name": "system:metrics-server", "labels": selector],
             "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:metrics-server"],
             "subjects": [["kind": "ServiceAccount", "name": "metrics-server", "namespace": .string(context.namespace)]]],
            ["apiVersion": "v1", "kind": "Service", "metadata": context.metadata("metrics-server", labels: selector),
             "spec": ["selector": selector, "ports": [["name": "https", "port": 443, "protocol": "TCP", "targetPort": "https"]]]],
            deployment(context, name: "metrics-server", labels: selector, selector: selector,
                       replicas: context.config("replicas")?.int ?? 2, podSpec: podSpec),
        ]
    }
}
