// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Skiff",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "skiff", targets: ["skiff"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
    ],
    targets: [
        // A one-slot wake-up signal that long-running services wait on.
        .target(name: "Wakeup"),
        // Regional state: one SQLite database per data dir (GRDB, WAL, fsync on commit).
        .target(name: "RegionStore", dependencies: [
            "KubeModel",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),
        // The revisioned key-value log under each cluster's API (etcd semantics).
        .target(name: "KubeStore", dependencies: [
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // KubeStore and the region's records on etcd's v3 API over gRPC; Generated/ is etcd's API, made by scripts/generate-etcd-protos.
        .target(name: "EtcdStore", dependencies: [
            "KubeStore", "RegionStore",
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOHTTP2", package: "swift-nio-http2"),
        ]),
        // CloudWatch Logs: log groups, streams and events, in the data dir's logs.sqlite, and filter patterns.
        .target(name: "CloudWatchLogs", dependencies: [
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // CloudTrail: every call to the regional endpoint as a management event, 90 days of event history.
        .target(name: "CloudTrail", dependencies: [
            "Auth", "KubeModel",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // KMS: symmetric keys sealed under the data dir's root key, aliases, rotation, key policies.
        .target(name: "KMS", dependencies: [
            "Auth", "RegionStore",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // What every Kubernetes component shares: JSON documents, metadata, selectors, quantities, errors, typed views.
        .target(name: "KubeModel", dependencies: [.product(name: "Yams", package: "Yams")]),
        // The Kubernetes API: resources, registry, discovery, tables, watch, patch (no HTTP).
        .target(name: "KubeAPI", dependencies: [
            "KubeModel", "KubeStore",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "Yams", package: "Yams"),
        ]),
        // How a cluster's own components reach its API: the in-process client, informers on the watch cache,
        // the work queue, the controller loop, leader election.
        .target(name: "KubeClient", dependencies: [
            "KubeAPI", "KubeModel", "Wakeup",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The controllers of kube-controller-manager, and the manager that runs them under a Lease.
        .target(name: "Controllers", dependencies: [
            "KubeAPI", "KubeClient", "KubeModel",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // kube-scheduler: filter and score against a snapshot of the nodes, bind through pods/binding.
        .target(name: "Scheduler", dependencies: [
            "KubeAPI", "KubeClient", "KubeModel",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Simulated kubelets: register Nodes, renew their Leases, move bound pods through their lives.
        .target(name: "NodeAgent", dependencies: [
            "KubeAPI", "KubeClient", "KubeModel", "Wakeup",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Certificate authorities and certificates.
        .target(name: "PKI", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        // Credentials, identities, SigV4.
        .target(name: "Auth", dependencies: [
            "RegionStore",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // VPCs, subnets, security groups, availability zones.
        .target(name: "VPC", dependencies: [
            "RegionStore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        // EKS clusters, node groups, updates: resources with lifecycles.
        .target(name: "EKS", dependencies: [
            "RegionStore", "VPC", "PKI", "Wakeup", "KubeModel",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Each cluster's control plane: store, API server over TLS, compaction.
        .target(name: "ClusterRuntime", dependencies: [
            "Auth", "EKS", "EtcdStore", "KubeAPI", "KubeClient", "KubeModel", "KubeStore", "PKI", "Controllers", "Scheduler", "NodeAgent",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // AWS wire protocols (rest-json, query, ec2), SigV4 on every request, service routers.
        .target(name: "AWSAPI", dependencies: [
            "Auth", "EKS", "VPC", "CloudWatchLogs", "CloudTrail", "KMS", "KubeModel",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Composes the regional endpoint and its background services.
        .target(name: "SkiffServer", dependencies: [
            "AWSAPI", "Auth", "EKS", "VPC", "RegionStore", "ClusterRuntime", "CloudWatchLogs", "CloudTrail", "KMS",
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "skiff", dependencies: [
            "SkiffServer", "Auth", "KubeAPI", "KubeClient", "KubeModel", "KubeStore", "Controllers", "Scheduler", "NodeAgent", "ClusterRuntime", "EKS", "PKI",
            "RegionStore", "CloudWatchLogs", "KMS", "EtcdStore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "AuthTests", dependencies: ["Auth", "RegionStore"]),
        .testTarget(name: "VPCTests", dependencies: ["VPC", "RegionStore"]),
        .testTarget(name: "EKSTests", dependencies: ["EKS", "VPC", "RegionStore", "PKI", "KubeModel"]),
        .testTarget(name: "ClusterRuntimeTests", dependencies: ["ClusterRuntime", "Auth", "EKS", "KubeAPI"]),
        .testTarget(name: "AWSAPITests", dependencies: ["AWSAPI", "Auth", "EKS", "VPC", "RegionStore"]),
        .testTarget(name: "CloudWatchLogsTests", dependencies: ["CloudWatchLogs"]),
        .testTarget(name: "CloudTrailTests", dependencies: ["CloudTrail", "Auth", "KubeModel"]),
        .testTarget(name: "RegionStoreTests", dependencies: ["RegionStore", "EtcdStore"]),
        .testTarget(name: "KubeStoreTests", dependencies: ["KubeStore", "EtcdStore"]),
        .testTarget(name: "KubeAPITests", dependencies: ["KubeAPI", "KubeModel", "KubeStore"]),
        .testTarget(name: "KubeModelTests", dependencies: ["KubeModel"]),
        .testTarget(name: "KubeClientTests", dependencies: ["KubeClient", "KubeAPI", "KubeModel", "KubeStore"]),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "KubeModel"]),
        .testTarget(name: "WorkloadTests", dependencies: ["Controllers", "Scheduler", "NodeAgent", "KubeClient", "KubeAPI", "KubeModel", "KubeStore"]),
        .testTarget(name: "ControllersTests", dependencies: ["Controllers", "KubeClient", "KubeAPI", "KubeModel", "KubeStore"]),
    ]
)
