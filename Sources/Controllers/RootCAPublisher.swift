import Foundation
import Synchronization
import KubeAPI
import KubeClient
import KubeModel

/// Every namespace has the `kube-root-ca.crt` ConfigMap holding the cluster CA, which the service-account
/// volume of every pod projects, as kube-controller-manager's root-ca-cert-publisher keeps it.
public final class RootCAPublisher: Controller {
    static let name = "kube-root-ca.crt"
    let client: KubeClient
    let certificate: String
    private let informers = Mutex<(namespaces: Informer, configMaps: Informer)?>(nil)

    public init(client: KubeClient, certificatePEM: String) {
        self.client = client
        certificate = certificatePEM
    }

    public var name: String { "root-ca-cert-publisher" }

    public func watch(_ shared: SharedInformers, queue: WorkQueue<ObjectKey>) async throws {
        let namespaces = try await shared.informer("namespaces")
        let configMaps = try await shared.informer("configmaps")
        informers.withLock { $0 = (namespaces, configMaps) }
        namespaces.addHandler { event in queue.add(ObjectKey(namespace: nil, name: event.key.name)) }
        configMaps.addHandler { event in
            if event.key.name == Self.name, let namespace = event.key.namespace { queue.add(ObjectKey(namespace: nil, name: namespace)) }
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> Reconciled {
        guard let (namespaces, configMaps) = informers.withLock({ $0 }),
              let namespace = namespaces.get(key), namespace.deletionTimestamp == nil else { return .done }
        let resource = try client.resource("configmaps")
        let wanted: JSON = ["ca.crt": .string(certificate)]
        if let existing = configMaps.get(ObjectKey(namespace: key.name, name: Self.name)) {
            guard existing["data"] != wanted else { return .done }
            var updated = existing
            updated["data"] = wanted
            _ = try await client.update(resource, updated)
            return .done
        }
        let configMap: JSON = [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": .string(Self.name), "namespace": .string(key.name),
                         "annotations": ["kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."]],
            "data": wanted,
        ]
        do {
            _ = try await client.create(resource, configMap)
        } catch let error as APIError where error.isAlreadyExists || error.code == 403 || error.isNotFound {}
        return .done
    }
}

/// `kubernetes.io/service-account-token` Secrets get their legacy token, the cluster CA and the namespace, as
/// kube-controller-manager's tokens controller fills them; a Secret whose service account is gone is deleted.
public final class ServiceAccountTokensController: Controller {
    static let tokenType = "kubernetes.io/service-account-token"
    static let accountAnnotation = "kubernetes.io/service-account.name"
    static let uidAnnotation = "kubernetes.io/service-account.uid"

    let client: KubeClient
    let issuer: ServiceAccountIssuer
    let certificate: String
    private let informers = Mutex<(secrets: Informer, accounts: Informer)?>(nil)

    public init(client: KubeClient, issuer: ServiceAccountIssuer, certificatePEM: String) {
        self.client = client
        self.issuer = issuer
        certificate = certificatePEM
    }

    public var name: String { "serviceaccount-token" }

    public func watch(_ shared: SharedInformers, queue: WorkQueue<ObjectKey>) async throws {
        let secrets = try await shared.informer("secrets")
        let accounts = try await shared.informer("serviceaccounts")
        informers.withLock { $0 = (secrets, accounts) }
        secrets.addHandler { event in
            if case .change(let change) = event, change.kind == .deleted { return }
            queue.add(event.key)
        }
        accounts.addHandler { event in
            // A service account's secrets follow it.
            guard case .change(let change) = event, change.kind == .deleted, let namespace = change.key.namespace else { return }
            for secret in secrets.list(namespace: namespace)
            where secret["type"]?.string == Self.tokenType && secret[path: ["metadata", "annotations", Self.accountAnnotation]]?.string == change.key.name {
                queue.add(ObjectKey(namespace: namespace, name: secret.name))
            }
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> Reconciled {
        guard let (secrets, accounts) = informers.withLock({ $0 }), let secret = secrets.get(key),
              secret["type"]?.string == Self.tokenType, secret.deletionTimestamp == nil,
              let accountName = secret[path: ["metadata", "annotations", Self.accountAnnotation]]?.string else { return .done }
        let resource = try client.resource("secrets")
        let expectedUID = secret[path: ["metadata", "annotations", Self.uidAnnotation]]?.string
        guard let account = accounts.get(ObjectKey(namespace: key.namespace, name: accountName)),
              expectedUID == nil || expectedUID == account.uid else {
            do {
                try await client.delete(resource, key)
            } catch let error as APIError where error.isNotFound {}
            return .done
        }
        if secret[path: ["data", "token"]] != nil, expectedUID != nil { return .done }
        var updated = secret
        updated[path: ["metadata", "annotations", Self.uidAnnotation]] = .string(account.uid ?? "")
        var data = secret["data"] ?? [:]
        data["token"] = .string(Data(ServiceAccountTokenAuthenticator.legacyToken(issuer: issuer, secret: secret, account: account).utf8).base64EncodedString())
        data["ca.crt"] = .string(Data(certificate.utf8).base64EncodedString())
        data["namespace"] = .string(Data((key.namespace ?? "").utf8).base64EncodedString())
        updated["data"] = data
        do {
            _ = try await client.update(resource, updated)
        } catch let error as APIError where error.isNotFound {}
        return .done
    }
}
