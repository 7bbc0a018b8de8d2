import KubeAPI
import KubeClient
import KubeModel
import Logging
import ServiceLifecycle

/// kube-controller-manager for one cluster: while it holds the `kube-system/kube-controller-manager`
/// Lease, it runs every controller on one set of shared informers. Each controller acts as its own
/// service account (`system:serviceaccount:kube-system:<name>`), as with
/// `--use-service-account-credentials`.
public struct ControllerManager: Service {
    let client: KubeClient
    let identity: String
    let logger: Logger
    /// The cluster CA (PEM), which every namespace's `kube-root-ca.crt` and legacy token Secrets carry.
    let rootCertificate: String?
    /// Signs legacy service-account tokens (`--service-account-private-key-file`).
    let serviceAccountIssuer: ServiceAccountIssuer?
    let leaseTiming: LeaseTiming

    /// `identity` must differ between replicas that share a store, and stay the same across restarts of
    /// one replica, so that a restarted replica takes its own lease back at once.
    public init(server: APIServer, identity: String, logger: Logger, rootCertificate: String? = nil,
                serviceAccountIssuer: ServiceAccountIssuer? = nil, leaseTiming: LeaseTiming = .kube) {
        self.leaseTiming = leaseTiming
        client = KubeClient(server: server, user: Self.user, userAgent: "kube-controller-manager/\(server.version.gitVersion)")
        self.identity = identity
        self.logger = logger
        self.rootCertificate = rootCertificate
        self.serviceAccountIssuer = serviceAccountIssuer
    }

    public static let user = UserInfo(name: "system:kube-controller-manager", groups: ["system:authenticated"])

    /// The identity a controller writes as: its service account in kube-system, which its
    /// `system:controller:NAME` ClusterRole is bound to.
    static func serviceAccount(_ name: String) -> UserInfo {
        UserInfo(name: "system:serviceaccount:kube-system:\(name)",
                 groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"])
    }

    func controllers() -> [any Controller] {
        func client(_ name: String) -> KubeClient { self.client.as(Self.serviceAccount(name)) }
        var optional: [any Controller] = []
        if let rootCertificate {
            optional.append(RootCAPublisher(client: client("root-ca-cert-publisher"), certificatePEM: rootCertificate))
            if let serviceAccountIssuer {
                // kube-controller-manager runs it under its own identity, not a controller's service account.
                optional.append(ServiceAccountTokensController(client: self.client, issuer: serviceAccountIssuer, certificatePEM: rootCertificate))
            }
        }
        return optional + [
            GarbageCollector(client: client("generic-garbage-collector")),
            NamespaceController(client: client("namespace-controller")),
            ResourceQuotaController(client: client("resourcequota-controller")),
            ServiceAccountController(client: client("service-account-controller")),
            ReplicaSetController(client: client("replicaset-controller"), logger: logger),
            ReplicaSetController(client: client("replication-controller"), plural: "replicationcontrollers", group: "", kind: "ReplicationController",
                                 logger: logger),
            DeploymentController(client: client("deployment-controller")),
            DaemonSetController(client: client("daemon-set-controller")),
            PodGarbageCollector(client: client("pod-garbage-collector")),
            ClusterRoleAggregationController(client: client("clusterrole-aggregation-controller")),
            EndpointsController(client: client("endpoint-controller")),
            DisruptionController(client: client("disruption-controller")),
            EndpointSliceController(client: client("endpointslice-controller")),
        ]
    }

    public func run() async throws {
        var candidate = LeaderElector(client: client, name: "kube-controller-manager", identity: identity, timing: leaseTiming)
        candidate.logger = logger
        let elector = candidate
        await cancelWhenGracefulShutdown {
            await elector.run { await runControllers() }
        }
    }

    /// Every controller, on shared informers, until cancelled (shutdown, or the lease is lost).
    public func runControllers() async {
        let informers = SharedInformers(client: client)
        var loops: [any ControllerRunning] = []
        for controller in controllers() {
            do {
                loops.append(try await controller.loop(informers, logger: logger))
                logger.info("Started controller", metadata: ["controller": "\(controller.name)"])
            } catch {
                logger.error("controller \(controller.name) did not start", metadata: ["error": "\(error)"])
            }
        }
        informers.start()
        await informers.waitForSync()
        await withTaskGroup(of: Void.self) { group in
            for loop in loops { group.addTask { await loop.run() } }
        }
        await informers.stop()
    }
}
