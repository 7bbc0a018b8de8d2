import EKS
import KubeModel
import PKI
import Testing
@testable import ClusterRuntime

/// What an add-on's objects are made of, and the field paths apply conflicts name.
struct AddonManifestTests {
    static let spec = ControlPlaneSpec(clusterName: "demo", kubernetesVersion: "1.34.1", endpoint: "https://127.0.0.1:20001",
                                       certificateAuthority: try! CertificateAuthority.create(),
                                       serviceIpv4Cidr: "10.100.0.0/16", region: "eu-west-1")

    static func object(_ objects: [JSON], kind: String, name: String) -> JSON? {
        objects.first { $0["kind"]?.string == kind && $0.name == name }
    }

    @Test func vpcCniEnvironmentIsConfigured() throws {
        let addon = AddonInstallation(name: "vpc-cni", version: "v1.20.4-eksbuild.1", namespace: "kube-system",
                                      configuration: ["env": ["ENABLE_PREFIX_DELEGATION": "true", "MINIMUM_IP_TARGET": "5"],
                                                      "nodeAgent": ["enabled": "false"]],
                                      serviceAccountRoleArn: "arn:aws:iam::000000000000:role/cni")
        let objects = AddonManifests.objects(addon, spec: Self.spec)
        let daemonSet = try #require(Self.object(objects, kind: "DaemonSet", name: "aws-node"))
        let containers = try #require(daemonSet[path: ["spec", "template", "spec", "containers"]]?.array)
        #expect(containers.map { $0["name"]?.string } == ["aws-node"])
        var env: [String: String] = [:]
        for variable in containers[0]["env"]?.array ?? [] { env[variable["name"]?.string ?? ""] = variable["value"]?.string }
        #expect(env["ENABLE_PREFIX_DELEGATION"] == "true")
        #expect(env["MINIMUM_IP_TARGET"] == "5")
        #expect(env["CLUSTER_NAME"] == "demo")
        #expect(containers[0]["image"]?.string == "602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.20.4-eksbuild.1")
        let account = try #require(Self.object(objects, kind: "ServiceAccount", name: "aws-node"))
        #expect(account[path: ["metadata", "annotations", "eks.amazonaws.com/role-arn"]]?.string == "arn:aws:iam::000000000000:role/cni")
    }

    @Test func coreDNSReplicasCorefileAndPodSettings() throws {
        let addon = AddonInstallation(name: "coredns", version: "v1.12.3-eksbuild.1", namespace: "kube-system",
                                      configuration: ["replicaCount": 4, "corefile": ".:53 { forward . 8.8.8.8 }",
                                                      "podLabels": ["team": "dns"], "nodeSelector": ["pool": "system"],
                                                      "podDisruptionBudget": ["enabled": false]])
        let objects = AddonManifests.objects(addon, spec: Self.spec)
        let deployment = try #require(Self.object(objects, kind: "Deployment", name: "coredns"))
        #expect(deployment[path: ["spec", "replicas"]] == 4)
        #expect(deployment[path: ["spec", "template", "metadata", "labels", "team"]] == "dns")
        #expect(deployment[path: ["spec", "template", "metadata", "labels", "k8s-app"]] == "kube-dns")
        #expect(deployment[path: ["spec", "template", "spec", "nodeSelector", "pool"]] == "system")
        #expect(Self.object(objects, kind: "ConfigMap", name: "coredns")?[path: ["data", "Corefile"]] == ".:53 { forward . 8.8.8.8 }")
        #expect(Self.object(objects, kind: "PodDisruptionBudget", name: "coredns") == nil)
        #expect(Self.object(objects, kind: "Service", name: "kube-dns")?[path: ["spec", "clusterIP"]] == "10.100.0.10")
    }

    @Test func communityAddonInItsOwnNamespace() {
        let addon = AddonInstallation(name: "metrics-server", version: "v0.8.0-eksbuild.2", namespace: "monitoring")
        let objects = AddonManifests.objects(addon, spec: Self.spec)
        #expect(objects.first?["kind"] == "Namespace")
        #expect(Self.object(objects, kind: "Deployment", name: "metrics-server")?.namespace == "monitoring")
    }

    @Test func everyCatalogAddonHasObjects() {
        for definition in AddonCatalog.all {
            let addon = AddonInstallation(name: definition.name, version: definition.versions[0].version, namespace: definition.defaultNamespace)
            #expect(AddonManifests.objects(addon, spec: Self.spec).contains { ["Deployment", "DaemonSet"].contains($0["kind"]?.string) },
                    "\(definition.name)")
        }
    }

    @Test func conflictPathsAreRemoved() {
        let object: JSON = ["spec": ["template": ["spec": ["containers": [
            ["name": "coredns", "image": "a", "args": ["-conf", "x"]], ["name": "sidecar", "image": "b"]]]]]]
        let removed = FieldPathText.removing(".spec.template.spec.containers[name=\"coredns\"].image", from: object)
        #expect(removed[path: ["spec", "template", "spec", "containers"]]?.array?[0]["image"] == nil)
        #expect(removed[path: ["spec", "template", "spec", "containers"]]?.array?[1]["image"] == "b")
        let noArg = FieldPathText.removing(".spec.template.spec.containers[name=\"coredns\"].args[=\"x\"]", from: object)
        #expect(noArg[path: ["spec", "template", "spec", "containers"]]?.array?[0]["args"] == ["-conf"])
        #expect(FieldPathText.removing(".spec.missing", from: object) == object)
        #expect(FieldPathText.steps("[a=\"x,]y\",b=1]") == [.item(["a": "x,]y", "b": 1])])
    }
}

/// Fargate's sizes and profile selectors.
struct FargateTests {
    static func pod(cpu: String?, memory: String?) -> Pod {
        var requests: [String: JSON] = [:]
        if let cpu { requests["cpu"] = .string(cpu) }
        if let memory { requests["memory"] = .string(memory) }
        return Pod(["metadata": ["name": "p", "namespace": "n"],
                    "spec": ["containers": [["name": "c", "resources": ["requests": .object(requests)]]]]])
    }

    @Test func podsAreSizedUpToAFargateCombination() {
        #expect(FargateScheduler.capacity(for: Self.pod(cpu: nil, memory: nil)).annotation == "0.25vCPU 0.5GB")
        #expect(FargateScheduler.capacity(for: Self.pod(cpu: "250m", memory: "1Gi")).annotation == "0.25vCPU 2GB")
        #expect(FargateScheduler.capacity(for: Self.pod(cpu: "500m", memory: "1Gi")).annotation == "0.5vCPU 2GB")
        #expect(FargateScheduler.capacity(for: Self.pod(cpu: "1", memory: "9Gi")).annotation == "2vCPU 10GB")
        #expect(FargateScheduler.capacity(for: Self.pod(cpu: "6", memory: "1Gi")).annotation == "8vCPU 16GB")
    }

    @Test func selectorsMatchNamespacesWithWildcardsAndLabels() {
        let profile = FargateProfileSpec(name: "p", selectors: [FargateProfileSelector(namespace: "team-*", labels: ["tier": "web"]),
                                                                FargateProfileSelector(namespace: "batch?", labels: nil)], subnets: [])
        #expect(profile.matches(namespace: "team-a", labels: ["tier": "web", "x": "y"]))
        #expect(!profile.matches(namespace: "team-a", labels: ["tier": "db"]))
        #expect(profile.matches(namespace: "batch1", labels: [:]))
        #expect(!profile.matches(namespace: "batch12", labels: [:]))
        #expect(!profile.matches(namespace: "default", labels: ["tier": "web"]))
        let subnet = FargateProfileSpec.Subnet(subnetId: "subnet-1", zone: "us-east-1a", cidr: "172.31.128.0/24")
        #expect(subnet.contains(address: "172.31.128.200"))
        #expect(!subnet.contains(address: "172.31.129.1"))
    }
}
