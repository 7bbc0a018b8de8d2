import Foundation
import KubeAPI
import KubeModel
import Synchronization
import Yams

/// The `kube-system/aws-auth` ConfigMap as the aws-iam-authenticator reads it: IAM roles, users and whole
/// accounts mapped to Kubernetes users and groups, honoured in the `CONFIG_MAP` authentication modes.
struct AWSAuthConfigMap: Sendable, Equatable {
    struct Mapping: Sendable, Equatable {
        /// The role or user ARN, lowercased as the authenticator compares them.
        let arn: String
        let username: String?
        let groups: [String]
    }

    var roles: [Mapping] = []
    var users: [Mapping] = []
    var accounts: Set<String> = []

    /// The ConfigMap's mappings; rows that do not parse are skipped, as the authenticator skips them.
    init(_ configMap: JSON) {
        let data = configMap["data"]
        roles = Self.rows(data?["mapRoles"]?.string, arnKey: "rolearn")
        users = Self.rows(data?["mapUsers"]?.string, arnKey: "userarn")
        if let text = data?["mapAccounts"]?.string, let list = (try? Yams.load(yaml: text)) as? [Any] {
            accounts = Set(list.map { "\($0)" })
        }
    }

    init() {}

    static func rows(_ yaml: String?, arnKey: String) -> [Mapping] {
        guard let yaml, let list = (try? Yams.load(yaml: yaml)) as? [Any] else { return [] }
        return list.compactMap { row in
            guard let row = row as? [String: Any], let arn = row[arnKey] as? String else { return nil }
            return Mapping(arn: arn.lowercased(), username: row["username"] as? String,
                           groups: (row["groups"] as? [Any] ?? []).compactMap { $0 as? String })
        }
    }

    /// The mapping of a principal: its role (for a role session) or user row, else its account's.
    func mapping(for principal: IAMPrincipal) -> Mapping? {
        let canonical = principal.canonicalArn.lowercased()
        if principal.roleName != nil, let row = roles.first(where: { $0.arn == canonical }) { return row }
        if let row = users.first(where: { $0.arn == canonical }) { return row }
        if accounts.contains(principal.account) { return Mapping(arn: canonical, username: nil, groups: []) }
        return nil
    }
}

/// Reads `kube-system/aws-auth` from the API server's watch cache, parsing it again only when it changed.
final class AWSAuthReader: Sendable {
    static let key = ObjectKey(namespace: "kube-system", name: "aws-auth")

    private let registry: Registry
    private let configMaps = Mutex<CachedResource?>(nil)
    private let parsed = Mutex<(bytes: [UInt8], map: AWSAuthConfigMap)?>(nil)

    init(registry: Registry) {
        self.registry = registry
    }

    func current() async -> AWSAuthConfigMap {
        guard let resource = await cachedConfigMaps() else { return AWSAuthConfigMap() }
        guard let bytes = resource.encoded(Self.key) else { return AWSAuthConfigMap() }
        if let known = parsed.withLock({ $0 }), known.bytes == bytes { return known.map }
        let map = (try? JSONCoding.decode(bytes)).map(AWSAuthConfigMap.init) ?? AWSAuthConfigMap()
        parsed.withLock { $0 = (bytes, map) }
        return map
    }

    private func cachedConfigMaps() async -> CachedResource? {
        if let known = configMaps.withLock({ $0 }) { return known }
        guard let type = registry.resources.find(group: "", version: "v1", resource: "configmaps") else { return nil }
        let resource = registry.cached(type)
        await resource.waitUntilLoaded()
        configMaps.withLock { $0 = resource }
        return resource
    }
}

extension AWSAuthConfigMap {
    /// The row EKS writes for a managed node group's node role.
    static func nodeRoleRow(_ role: String) -> String {
        """
        - groups:
          - system:bootstrappers
          - system:nodes
          rolearn: \(role)
          username: system:node:{{EC2PrivateDNSName}}

        """
    }

    /// Makes sure aws-auth maps every node role, as EKS adds a managed node group's role to it (creating the
    /// ConfigMap with the first one); rows already there, and everything else in it, are left as they are.
    static func ensureNodeRoles(_ roles: [String], registry: Registry) async throws {
        guard !roles.isEmpty, let configMaps = registry.resources.find(group: "", version: "v1", resource: "configmaps") else { return }
        for _ in 0..<5 {
            let current: JSON?
            do {
                current = try await registry.get(configMaps, namespace: "kube-system", name: AWSAuthReader.key.name)
            } catch let error as APIError where error.isNotFound {
                current = nil
            }
            let mapped = current.map { Set(AWSAuthConfigMap($0).roles.map(\.arn)) } ?? []
            let missing = roles.filter { !mapped.contains($0.lowercased()) }
            guard !missing.isEmpty else { return }
            let rows = missing.map(nodeRoleRow).joined()
            do {
                if var configMap = current {
                    var text = configMap[path: ["data", "mapRoles"]]?.string ?? ""
                    if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
                    configMap[path: ["data", "mapRoles"]] = .string(text + rows)
                    _ = try await registry.update(configMaps, namespace: "kube-system", name: AWSAuthReader.key.name, body: configMap)
                } else {
                    _ = try await registry.create(configMaps, namespace: "kube-system", body: [
                        "apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": ["name": .string(AWSAuthReader.key.name), "namespace": "kube-system"],
                        "data": ["mapRoles": .string(rows)],
                    ])
                }
                return
            } catch let error as APIError where error.isConflict || error.isAlreadyExists {
                continue
            }
        }
    }
}
