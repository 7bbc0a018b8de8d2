import EKS
import KubeAPI
import KubeModel

/// The self-managed add-ons EKS installs in every new cluster: the `aws-node` (VPC CNI) and `kube-proxy`
/// DaemonSets, and `coredns` (two replicas) behind the `kube-dns` Service at the service CIDR's tenth
/// address, at the images of the cluster's version. Installed once, when the cluster is created, so that
/// what a user changes afterwards stays changed, as on EKS.
enum SystemAddons {
    static func install(_ registry: Registry, spec: ControlPlaneSpec) async throws {
        let versions = DefaultAddonVersions.forVersion(spec.minorVersion)
        let images = DefaultAddonVersions.registry(region: spec.region)
        for (plural, group, object) in objects(versions: versions, images: images, spec: spec) {
            guard let resource = registry.resources.all.first(where: { $0.resource == plural && $0.group == group }) else { continue }
            do {
                _ = try await registry.create(resource, namespace: "kube-system", body: object, fieldManager: "eks")
            } catch let error as APIError where error.reason == "AlreadyExists" {
                continue
            }
        }
    }

    static func objects(versions: DefaultAddonVersions, images: String, spec: ControlPlaneSpec) -> [(String, String, JSON)] {
        let linux: JSON = ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": [["matchExpressions": [
            ["key": "kubernetes.io/os", "operator": "In", "values": ["linux"]],
            ["key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]],
            ["key": "eks.amazonaws.com/compute-type", "operator": "NotIn", "values": ["fargate", "hybrid", "auto"]],
        ]]]]]]
        let nodeName: JSON = ["valueFrom": ["fieldRef": ["apiVersion": "v1", "fieldPath": "spec.nodeName"]]]
        func env(_ pairs: [(String, String)]) -> JSON { .array(pairs.map { ["name": .string($0.0), "value": .string($0.1)] }) }
        let awsNode: JSON = [
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": ["name": "aws-node", "namespace": "kube-system",
                         "labels": ["app.kubernetes.io/instance": "aws-vpc-cni", "app.kubernetes.io/name": "aws-node", "k8s-app": "aws-node",
                                    "app.kubernetes.io/version": .string(versions.vpcCni)]],
            "spec": [
                "selector": ["matchLabels": ["k8s-app": "aws-node"]],
                "updateStrategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": "10%"]],
                "template": [
                    "metadata": ["labels": ["app.kubernetes.io/instance": "aws-vpc-cni", "app.kubernetes.io/name": "aws-node", "k8s-app": "aws-node"]],
                    "spec": [
                        "hostNetwork": true, "priorityClassName": "system-node-critical", "serviceAccountName": "aws-node",
                        "terminationGracePeriodSeconds": 10, "affinity": linux, "tolerations": [["operator": "Exists"]],
                        "initContainers": [["name": "aws-vpc-cni-init", "image": .string("\(images)/amazon-k8s-cni-init:\(versions.vpcCni)"),
                                            "env": env([("DISABLE_TCP_EARLY_DEMUX", "false"), ("ENABLE_IPv6", "false")]),
                                            "resources": ["requests": ["cpu": "25m"]], "securityContext": ["privileged": true]]],
                        "containers": [
                            ["name": "aws-node", "image": .string("\(images)/amazon-k8s-cni:\(versions.vpcCni)"),
                             "ports": [["containerPort": 61678, "name": "metrics", "protocol": "TCP"]],
                             "env": .array(env([("ADDITIONAL_ENI_TAGS", "{}"), ("AWS_VPC_CNI_NODE_PORT_SUPPORT", "true"),
                                                ("AWS_VPC_ENI_MTU", "9001"), ("AWS_VPC_K8S_CNI_EXTERNALSNAT", "false"),
                                                ("AWS_VPC_K8S_CNI_RANDOMIZESNAT", "prng"), ("CLUSTER_NAME", spec.clusterName),
                                                ("ENABLE_IPv4", "true"), ("ENABLE_IPv6", "false"), ("ENABLE_POD_ENI", "false"),
                                                ("ENABLE_PREFIX_DELEGATION", "false"), ("VPC_CNI_VERSION", versions.vpcCni),
                                                ("WARM_ENI_TARGET", "1"), ("WARM_PREFIX_TARGET", "1")]).array!
                                 + [["name": "MY_NODE_NAME", "valueFrom": nodeName["valueFrom"]!]]),
                             "resources": ["requests": ["cpu": "25m"]],
                             "securityContext": ["capabilities": ["add": ["NET_ADMIN", "NET_RAW"]]]],
                            ["name": "aws-eks-nodeagent", "image": .string("\(images)/amazon/aws-network-policy-agent:v1.2.7-eksbuild.1"),
                             "args": ["--enable-ipv6=false", "--enable-network-policy=false", "--enable-cloudwatch-logs=false"],
                             "env": [["name": "MY_NODE_NAME", "valueFrom": nodeName["valueFrom"]!]],
                             "resources": ["requests": ["cpu": "25m"]]],
                        ],
                    ],
                ],
            ],
        ]
        let kubeProxy: JSON = [
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": ["name": "kube-proxy", "namespace": "kube-system",
                         "labels": ["eks.amazonaws.com/component": "kube-proxy", "k8s-app": "kube-proxy"]],
            "spec": [
                "selector": ["matchLabels": ["k8s-app": "kube-proxy"]],
                "updateStrategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": "10%"]],
                "template": [
                    "metadata": ["labels": ["k8s-app": "kube-proxy"]],
                    "spec": [
                        "hostNetwork": true, "priorityClassName": "system-node-critical", "serviceAccountName": "kube-proxy",
                        "affinity": linux, "tolerations": [["operator": "Exists"]],
                        "containers": [["name": "kube-proxy", "image": .string("\(images)/eks/kube-proxy:\(versions.kubeProxy)"),
                                        "command": ["kube-proxy", "--v=2", "--config=/var/lib/kube-proxy-config/config",
                                                    "--hostname-override=$(NODE_NAME)"],
                                        "env": [["name": "NODE_NAME", "valueFrom": nodeName["valueFrom"]!]],
                                        "resources": ["requests": ["cpu": "100m"]], "securityContext": ["privileged": true]]],
                    ],
                ],
            ],
        ]
        let dnsLabels: JSON = ["eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"]
        let coreDNS: JSON = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "coredns", "namespace": "kube-system", "labels": dnsLabels.merging(["kubernetes.io/name": "CoreDNS"])],
            "spec": [
                "replicas": 2,
                "selector": ["matchLabels": dnsLabels],
                "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 1, "maxSurge": "25%"]],
                "template": [
                    "metadata": ["labels": dnsLabels],
                    "spec": [
                        "priorityClassName": "system-cluster-critical", "serviceAccountName": "coredns", "dnsPolicy": "Default",
                        "tolerations": [["key": "CriticalAddonsOnly", "operator": "Exists"],
                                        ["key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"]],
                        "affinity": linux.merging(["podAntiAffinity": ["preferredDuringSchedulingIgnoredDuringExecution": [
                            ["weight": 100, "podAffinityTerm": ["labelSelector": ["matchExpressions": [
                                ["key": "k8s-app", "operator": "In", "values": ["kube-dns"]]]],
                                "topologyKey": "kubernetes.io/hostname"]]]]]),
                        "containers": [["name": "coredns", "image": .string("\(images)/eks/coredns:\(versions.coreDNS)"),
                                        "args": ["-conf", "/etc/coredns/Corefile"],
                                        "ports": [["containerPort": 53, "name": "dns", "protocol": "UDP"],
                                                  ["containerPort": 53, "name": "dns-tcp", "protocol": "TCP"],
                                                  ["containerPort": 9153, "name": "metrics", "protocol": "TCP"]],
                                        "resources": ["limits": ["memory": "170Mi"], "requests": ["cpu": "100m", "memory": "70Mi"]]]],
                    ],
                ],
            ],
        ]
        let network = ServiceNetwork(cidr: spec.serviceIpv4Cidr)
        let kubeDNS: JSON = [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": "kube-dns", "namespace": "kube-system",
                         "labels": ["eks.amazonaws.com/component": "kube-dns", "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                    "kubernetes.io/name": "CoreDNS"],
                         "annotations": ["prometheus.io/port": "9153", "prometheus.io/scrape": "true"]],
            "spec": ["clusterIP": .string(network?.address(at: 10) ?? ""), "selector": ["k8s-app": "kube-dns"],
                     "ports": [["name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53],
                               ["name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53],
                               ["name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153]]],
        ]
        let corefile = """
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
        func account(_ name: String) -> (String, String, JSON) {
            ("serviceaccounts", "", ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": .string(name), "namespace": "kube-system"]])
        }
        return [
            account("aws-node"), account("kube-proxy"), account("coredns"),
            ("configmaps", "", ["apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": ["name": "coredns", "namespace": "kube-system", "labels": dnsLabels],
                                "data": ["Corefile": .string(corefile)]]),
            ("services", "", kubeDNS),
            ("daemonsets", "apps", awsNode),
            ("daemonsets", "apps", kubeProxy),
            ("deployments", "apps", coreDNS),
        ]
    }
}

