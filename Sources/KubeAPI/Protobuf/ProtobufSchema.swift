import Synchronization
import KubeModel

/// The protobuf wire schema of the served Kubernetes types: per message, its
/// fields by number with their JSON names and types (generated table).
struct ProtobufSchema: Sendable {
    enum Cardinality: Sendable {
        case optional, repeated, map
    }

    struct Field: Sendable {
        let name: String
        let cardinality: Cardinality
        /// Go embeds it with `json:",inline"`: its members belong to the parent's JSON.
        let inline: Bool
        /// A scalar (`string`, `int64`…) or a fully qualified message name.
        let type: String
    }

    let messages: [String: [Int: Field]]
    /// `jsonFields(of:)` per message, made on first use (every write of a kind asks for the same few).
    private let jsonFieldCache = JSONFieldCache()

    final class JSONFieldCache: Sendable {
        let fields = Mutex<[String: [String: Field]]>([:])
    }

    static let shared = ProtobufSchema(table: table)

    /// The fields of a message as JSON sees them, inlined members included.
    func jsonFields(of message: String) -> [String: Field] {
        if let known = jsonFieldCache.fields.withLock({ $0[message] }) { return known }
        var fields: [String: Field] = [:]
        for field in (messages[message] ?? [:]).values {
            if field.inline {
                fields.merge(jsonFields(of: field.type)) { current, _ in current }
            } else {
                fields[field.name] = field
            }
        }
        jsonFieldCache.fields.withLock { $0[message] = fields }
        return fields
    }

    init(table: String) {
        var messages: [String: [Int: Field]] = [:]
        for line in table.split(separator: "\n") {
            let parts = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 5, let number = Int(parts[1]) else { continue }
            let cardinality: Cardinality = parts[3].hasPrefix("r") ? .repeated : parts[3].hasPrefix("m") ? .map : .optional
            messages[parts[0], default: [:]][number] = Field(name: parts[2], cardinality: cardinality,
                                                            inline: parts[3].hasSuffix("i"), type: parts[4])
        }
        self.messages = messages
    }

    /// The message of a kind in a group version: `apps/v1` `Deployment` → `k8s.io.api.apps.v1.Deployment`.
    func message(apiVersion: String, kind: String) -> String? {
        let parts = apiVersion.split(separator: "/").map(String.init)
        let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("core", parts[0])
        // `rbac.authorization.k8s.io` → `rbac`, `networking.k8s.io` → `networking`.
        let package = group.split(separator: ".").first.map(String.init) ?? group
        for candidate in ["k8s.io.api.\(package).\(version).\(kind)", "k8s.io.apimachinery.pkg.apis.meta.v1.\(kind)"]
        where messages[candidate] != nil {
            return candidate
        }
        return nil
    }
}
