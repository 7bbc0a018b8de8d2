import KubeModel

/// The JSON Schemas (draft-07) of the add-ons' `configurationValues`, as `DescribeAddonConfiguration` returns
/// them: Kubernetes fields (resources, tolerations, …) by reference to shared definitions, every object closed.
enum AddonSchemas {
    static func object(_ properties: [String: JSON], description: String? = nil) -> JSON {
        var schema: JSON = ["type": "object", "additionalProperties": false, "properties": .object(properties)]
        if let description { schema["description"] = .string(description) }
        return schema
    }

    static func reference(_ definition: String) -> JSON { ["$ref": .string("#/definitions/\(definition)")] }

    static let boolString: JSON = ["type": "string", "enum": ["true", "false"]]
    static let integerString: JSON = ["type": "string", "pattern": "^[0-9]+$"]
    static let anyString: JSON = ["type": "string"]

    static let definitions: JSON = [
        "Resources": object([
            "limits": ["type": "object", "additionalProperties": false,
                       "properties": ["cpu": ["type": "string"], "memory": ["type": "string"]]],
            "requests": ["type": "object", "additionalProperties": false,
                         "properties": ["cpu": ["type": "string"], "memory": ["type": "string"]]],
        ]),
        "Tolerations": ["type": "array", "description": "Tolerations of the add-on's pods",
                        "items": object(["key": anyString, "operator": ["type": "string", "enum": ["Exists", "Equal"]], "value": anyString,
                                         "effect": ["type": "string", "enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]],
                                         "tolerationSeconds": ["type": "integer"]])],
        "NodeSelector": ["type": "object", "additionalProperties": ["type": "string"]],
        "Labels": ["type": "object", "additionalProperties": ["type": "string"]],
        "Affinity": ["type": ["object", "null"]],
    ]

    static func document(_ properties: [String: JSON]) -> JSON {
        ["$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": false,
         "properties": .object(properties), "definitions": definitions]
    }

    static let podFields: [String: JSON] = [
        "resources": reference("Resources"), "tolerations": reference("Tolerations"),
        "podAnnotations": ["description": "Annotations of the add-on's pods", "type": "object", "additionalProperties": ["type": "string"]],
        "podLabels": ["description": "Labels of the add-on's pods", "type": "object", "additionalProperties": ["type": "string"]],
    ]

    static func with(_ extra: [String: JSON]) -> [String: JSON] { podFields.merging(extra) { $1 } }

    /// The `aws-node` container's settings, each a string as environment variables are.
    static let vpcCniEnv: [String: JSON] = [
        "ADDITIONAL_ENI_TAGS": anyString, "ANNOTATE_POD_IP": boolString, "AWS_VPC_CNI_NODE_PORT_SUPPORT": boolString,
        "AWS_VPC_ENI_MTU": integerString, "AWS_VPC_K8S_CNI_CONFIGURE_RPFILTER": boolString,
        "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": boolString, "AWS_VPC_K8S_CNI_EXTERNALSNAT": boolString,
        "AWS_VPC_K8S_CNI_LOGLEVEL": ["type": "string", "enum": ["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]],
        "AWS_VPC_K8S_CNI_LOG_FILE": anyString,
        "AWS_VPC_K8S_CNI_RANDOMIZESNAT": ["type": "string", "enum": ["none", "hashrandom", "prng"]],
        "AWS_VPC_K8S_CNI_VETHPREFIX": anyString, "AWS_VPC_K8S_PLUGIN_LOG_FILE": anyString,
        "AWS_VPC_K8S_PLUGIN_LOG_LEVEL": ["type": "string", "enum": ["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]],
        "DISABLE_INTROSPECTION": boolString, "DISABLE_METRICS": boolString, "DISABLE_NETWORK_RESOURCE_PROVISIONING": boolString,
        "ENABLE_IPv4": boolString, "ENABLE_IPv6": boolString, "ENABLE_POD_ENI": boolString, "ENABLE_PREFIX_DELEGATION": boolString,
        "ENABLE_SUBNET_DISCOVERY": boolString, "ENI_CONFIG_ANNOTATION_DEF": anyString, "ENI_CONFIG_LABEL_DEF": anyString,
        "MAX_ENI": integerString, "MINIMUM_IP_TARGET": integerString,
        "POD_SECURITY_GROUP_ENFORCING_MODE": ["type": "string", "enum": ["strict", "standard"]],
        "WARM_ENI_TARGET": integerString, "WARM_IP_TARGET": integerString, "WARM_PREFIX_TARGET": integerString,
    ]

    static let vpcCni = document(with([
        "env": object(vpcCniEnv),
        "init": object(["env": object(["DISABLE_TCP_EARLY_DEMUX": boolString, "ENABLE_IPv6": boolString])]),
        "enableNetworkPolicy": boolString,
        "nodeAgent": object(["enabled": boolString, "enableCloudWatchLogs": boolString, "enablePolicyEventLogs": boolString,
                             "resources": reference("Resources")]),
        "affinity": reference("Affinity"),
    ]))

    static let kubeProxy = document(with([
        "mode": ["type": "string", "enum": ["iptables", "ipvs", "nftables"]],
        "ipvs": object(["scheduler": ["type": "string", "enum": ["rr", "lc", "dh", "sh", "sed", "nq"]]]),
        "logLevel": ["type": "string", "pattern": "^[0-9]$"],
        "nodeSelector": reference("NodeSelector"),
    ]))

    static let coreDNS = document(with([
        "replicaCount": ["type": "integer", "minimum": 1, "maximum": 64],
        "corefile": ["description": "The whole Corefile of CoreDNS", "type": "string"],
        "nodeSelector": reference("NodeSelector"),
        "affinity": reference("Affinity"),
        "podDisruptionBudget": object(["enabled": ["type": "boolean"], "maxUnavailable": ["type": ["integer", "string"]]]),
    ]))

    static let ebsCSIDriver = document([
        "controller": object(with([
            "replicaCount": ["type": "integer", "minimum": 1, "maximum": 10],
            "nodeSelector": reference("NodeSelector"),
            "extraVolumeTags": ["type": "object", "additionalProperties": ["type": "string"]],
        ])),
        "node": object(with(["nodeSelector": reference("NodeSelector")])),
        "defaultStorageClass": object(["enabled": ["type": "boolean"]]),
    ])

    static let podIdentityAgent = document(with([
        "agent": object(["additionalArgs": ["type": "object", "additionalProperties": ["type": "string"]]]),
    ]))

    static let metricsServer = document(with([
        "replicas": ["type": "integer", "minimum": 1, "maximum": 10],
        "nodeSelector": reference("NodeSelector"),
        "args": ["type": "array", "items": ["type": "string"]],
    ]))
}
