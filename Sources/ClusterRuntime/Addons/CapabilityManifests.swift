import EKS
import KubeModel

/// The custom resource definitions each EKS capability brings: the kinds of the AWS Controllers for Kubernetes
/// it runs, kro's ResourceGraphDefinition, Argo CD's Application, ApplicationSet and AppProject (in its namespace).
/// Their schemas keep unknown fields, as the controllers' own validation is not reproduced.
enum CapabilityManifests {
    static func objects(_ type: CapabilityType, namespace: String?) -> [JSON] {
        switch type {
        case .ACK:
            return [
                definition("services.k8s.aws", "AdoptedResource", "adoptedresources", scope: "Namespaced"),
                definition("services.k8s.aws", "FieldExport", "fieldexports", scope: "Namespaced"),
                definition("s3.services.k8s.aws", "Bucket", "buckets", scope: "Namespaced"),
                definition("iam.services.k8s.aws", "Role", "roles", scope: "Namespaced"),
                definition("iam.services.k8s.aws", "Policy", "policies", scope: "Namespaced"),
                definition("dynamodb.services.k8s.aws", "Table", "tables", scope: "Namespaced"),
                definition("sqs.services.k8s.aws", "Queue", "queues", scope: "Namespaced"),
                definition("sns.services.k8s.aws", "Topic", "topics", scope: "Namespaced"),
                definition("ecr.services.k8s.aws", "Repository", "repositories", scope: "Namespaced"),
                definition("rds.services.k8s.aws", "DBInstance", "dbinstances", scope: "Namespaced"),
            ]
        case .KRO:
            return [definition("kro.run", "ResourceGraphDefinition", "resourcegraphdefinitions", scope: "Cluster", shortNames: ["rgd"],
                               version: "v1alpha1")]
        case .ARGOCD:
            return [
                ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace ?? "argocd")]],
                definition("argoproj.io", "Application", "applications", scope: "Namespaced", shortNames: ["app", "apps"], version: "v1alpha1"),
                definition("argoproj.io", "ApplicationSet", "applicationsets", scope: "Namespaced", shortNames: ["appset", "appsets"],
                           version: "v1alpha1"),
                definition("argoproj.io", "AppProject", "appprojects", scope: "Namespaced", shortNames: ["appproj", "appprojs"],
                           version: "v1alpha1"),
            ]
        }
    }

    static func definition(_ group: String, _ kind: String, _ plural: String, scope: String, shortNames: [String] = [],
                           version: String = "v1alpha1") -> JSON {
        let open: JSON = ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
        var names: JSON = ["kind": .string(kind), "listKind": .string(kind + "List"), "plural": .string(plural),
                           "singular": .string(kind.lowercased())]
        if !shortNames.isEmpty { names["shortNames"] = .array(shortNames.map(JSON.string)) }
        return [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": ["name": .string("\(plural).\(group)")],
            "spec": [
                "group": .string(group), "scope": .string(scope), "names": names,
                "versions": [["name": .string(version), "served": true, "storage": true, "subresources": ["status": [:]],
                              "schema": ["openAPIV3Schema": ["type": "object", "properties": ["spec": open, "status": open]]]]],
            ],
        ]
    }
}
