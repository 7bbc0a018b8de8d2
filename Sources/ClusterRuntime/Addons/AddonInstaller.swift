import EKS
import KubeAPI
import KubeClient
import KubeModel

/// EKS's add-on manager in one cluster: applies an add-on's objects through the API server as `eks:addon-manager`
/// with server-side apply (field manager `eks`), so that fields a user changed are conflicts, resolved as the
/// add-on's `resolveConflicts` says; deletes them; and reads its workloads' health.
struct AddonInstaller: Sendable {
    static let fieldManager = "eks"
    static let user = UserInfo(name: "eks:addon-manager", groups: ["system:masters", "system:authenticated"])

    let client: KubeClient
    let spec: ControlPlaneSpec

    init(server: APIServer, spec: ControlPlaneSpec) {
        client = KubeClient(server: server, user: Self.user, userAgent: "eks-addon-manager")
        self.spec = spec
    }

    func apply(_ addon: AddonInstallation) async -> AddonApplyOutcome {
        await apply(AddonManifests.objects(addon, spec: spec), resolveConflicts: addon.resolveConflicts)
    }

    /// A capability's definitions, taken over from whoever else set them.
    func apply(_ capability: CapabilityType, namespace: String?) async -> AddonApplyOutcome {
        await apply(CapabilityManifests.objects(capability, namespace: namespace), resolveConflicts: .OVERWRITE)
    }

    func apply(_ objects: [JSON], resolveConflicts: ResolveConflicts) async -> AddonApplyOutcome {
        do {
            switch resolveConflicts {
            case .OVERWRITE:
                for object in objects { _ = try await client.apply(try resource(of: object), object, manager: Self.fieldManager, force: true) }
            case .NONE:
                // Every object is checked first, so that a conflict anywhere changes nothing.
                var conflicts: [String] = []
                for object in objects {
                    conflicts += try await Self.conflicts {
                        _ = try await client.apply(try resource(of: object), object, manager: Self.fieldManager, force: false, dryRun: true)
                    }.map { Self.describe(object, field: $0) }
                }
                if !conflicts.isEmpty { return .conflicts(Self.conflictMessage(conflicts)) }
                for object in objects { _ = try await client.apply(try resource(of: object), object, manager: Self.fieldManager, force: false) }
            case .PRESERVE:
                // Fields someone else set keep their values; the add-on takes the rest.
                for object in objects {
                    let resource = try resource(of: object)
                    let fields = try await Self.conflicts {
                        _ = try await client.apply(resource, object, manager: Self.fieldManager, force: false)
                    }
                    guard !fields.isEmpty else { continue }
                    var kept = object
                    for field in fields { kept = FieldPathText.removing(field, from: kept) }
                    _ = try await client.apply(resource, kept, manager: Self.fieldManager, force: false)
                }
            }
        } catch let error as APIError where error.isConflict {
            return .conflicts(Self.conflictMessage([error.message]))
        } catch let error as APIError {
            let code: AddonIssue.Code = error.code == 403 || error.reason == "Invalid" || error.reason == "Forbidden"
                ? .AdmissionRequestDenied : .InternalFailure
            return .failed(AddonIssue(code: code, message: error.message))
        } catch {
            return .failed(AddonIssue(code: .InternalFailure, message: "\(error)"))
        }
        return .applied
    }

    /// Deletes the add-on's objects, workloads first; nothing, with `preserve`.
    func remove(_ addon: AddonInstallation, preserve: Bool) async {
        guard !preserve else { return }
        for object in AddonManifests.objects(addon, spec: spec).reversed() where object["kind"]?.string != "Namespace" {
            guard let resource = try? resource(of: object) else { continue }
            _ = try? await client.delete(resource, ObjectKey(namespace: resource.namespaced ? object.namespace : nil, name: object.name),
                                         propagationPolicy: "Background")
        }
    }

    /// Workloads without all their replicas ready, and objects missing.
    func health(_ addon: AddonInstallation) async -> [AddonIssue] {
        var short: [String] = []
        var missing: [String] = []
        for object in AddonManifests.objects(addon, spec: spec) {
            let kind = object["kind"]?.string ?? ""
            guard kind == "Deployment" || kind == "DaemonSet", let resource = try? resource(of: object) else { continue }
            guard let current = try? await client.get(resource, ObjectKey(namespace: object.namespace, name: object.name)) else {
                missing.append(object.name)
                continue
            }
            let (wanted, ready) = kind == "Deployment"
                ? (current[path: ["spec", "replicas"]]?.int ?? 1, current[path: ["status", "readyReplicas"]]?.int ?? 0)
                : (current[path: ["status", "desiredNumberScheduled"]]?.int ?? 0, current[path: ["status", "numberReady"]]?.int ?? 0)
            if ready < wanted { short.append(object.name) }
        }
        var issues: [AddonIssue] = []
        if !short.isEmpty {
            issues.append(AddonIssue(code: .InsufficientNumberOfReplicas,
                                     message: "The add-on is unhealthy because it doesn't have the desired number of replicas.", resourceIds: short))
        }
        if !missing.isEmpty {
            issues.append(AddonIssue(code: .K8sResourceNotFound,
                                     message: "The add-on is unhealthy because some of its Kubernetes resources are missing.", resourceIds: missing))
        }
        return issues
    }

    func resource(of object: JSON) throws -> ResourceType {
        let apiVersion = object["apiVersion"]?.string ?? ""
        let parts = apiVersion.split(separator: "/").map(String.init)
        let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", apiVersion)
        guard let resource = client.server.registry.resources.all.first(where: {
            $0.group == group && $0.version == version && $0.kind == object["kind"]?.string
        }) else {
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource (\(apiVersion) \(object["kind"]?.string ?? ""))")
        }
        return resource
    }

    /// The fields an apply conflicts on, as the API server names them (`.spec.template.spec.containers[name="aws-node"].image`).
    static func conflicts(_ apply: () async throws -> Void) async throws -> [String] {
        do {
            try await apply()
            return []
        } catch let error as APIError where error.isConflict {
            let fields = error.details?["causes"]?.array?.compactMap { $0["field"]?.string } ?? []
            guard !fields.isEmpty else { throw error }
            return fields
        }
    }

    /// `DaemonSet.apps aws-node - .spec.template.spec.containers[name="aws-node"].image`, as EKS lists a conflict.
    static func describe(_ object: JSON, field: String) -> String {
        let group = (object["apiVersion"]?.string ?? "").split(separator: "/").dropLast().first.map { ".\($0)" } ?? ""
        return "\(object["kind"]?.string ?? "")\(group) \(object.name) - \(field)"
    }

    static func conflictMessage(_ conflicts: [String]) -> String {
        "Conflicts found when trying to apply. Will not continue due to resolve conflicts mode. Conflicts:\n" + conflicts.joined(separator: "\n")
    }
}

/// Field paths as the API server writes them in apply conflicts: `.name` for a field, `[k="v",…]` for the list item
/// with those keys, `[="v"]` for a set's value.
enum FieldPathText {
    enum Step: Equatable {
        case field(String)
        case item([String: JSON])
        case value(JSON)
    }

    static func steps(_ text: String) -> [Step]? {
        var steps: [Step] = []
        var rest = Substring(text)
        while let first = rest.first {
            if first == "." {
                rest = rest.dropFirst()
                let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
                steps.append(.field(String(rest[..<end])))
                rest = rest[end...]
            } else if first == "[" {
                guard let close = closingBracket(rest) else { return nil }
                let inner = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
                if inner.hasPrefix("=") {
                    guard let value = try? JSONCoding.decode(Array(inner.dropFirst().utf8)) else { return nil }
                    steps.append(.value(value))
                } else {
                    // `{"k":v,…}` read as a JSON object: each `k=v` becomes `"k":v`.
                    var keys: [String: JSON] = [:]
                    for pair in splitPairs(inner) {
                        guard let equals = pair.firstIndex(of: "="),
                              let value = try? JSONCoding.decode(Array(pair[pair.index(after: equals)...].utf8)) else { return nil }
                        keys[String(pair[..<equals])] = value
                    }
                    steps.append(.item(keys))
                }
            } else {
                return nil
            }
        }
        return steps
    }

    /// `object` without the field the path names (unchanged when it names nothing there).
    static func removing(_ text: String, from object: JSON) -> JSON {
        guard let steps = steps(text), !steps.isEmpty else { return object }
        return removing(steps[...], from: object)
    }

    private static func removing(_ steps: ArraySlice<Step>, from value: JSON) -> JSON {
        guard let step = steps.first else { return value }
        let rest = steps.dropFirst()
        switch (step, value) {
        case (.field(let name), .object(var members)):
            guard let member = members[name] else { return value }
            // Not `= nil`: JSON is nil-expressible, so that would store `null`.
            if rest.isEmpty { members.removeValue(forKey: name) } else { members[name] = removing(rest, from: member) }
            return .object(members)
        case (.item(let keys), .array(var items)):
            guard let index = items.firstIndex(where: { item in keys.allSatisfy { item[$0.key] == $0.value } }) else { return value }
            if rest.isEmpty { items.remove(at: index) } else { items[index] = removing(rest, from: items[index]) }
            return .array(items)
        case (.value(let wanted), .array(let items)):
            return .array(items.filter { $0 != wanted })
        default:
            return value
        }
    }

    private static func closingBracket(_ text: Substring) -> Substring.Index? {
        var inString = false, escaped = false
        for index in text.indices.dropFirst() {
            let character = text[index]
            if escaped { escaped = false; continue }
            if character == "\\" { escaped = true; continue }
            if character == "\"" { inString.toggle(); continue }
            if character == "]" && !inString { return index }
        }
        return nil
    }

    /// `a="x,y",b=1` split at the commas outside strings.
    private static func splitPairs(_ text: Substring) -> [Substring] {
        var pairs: [Substring] = []
        var start = text.startIndex, inString = false, escaped = false
        for index in text.indices {
            let character = text[index]
            if escaped { escaped = false; continue }
            if character == "\\" { escaped = true; continue }
            if character == "\"" { inString.toggle(); continue }
            if character == "," && !inString {
                pairs.append(text[start..<index])
                start = text.index(after: index)
            }
        }
        pairs.append(text[start...])
        return pairs.filter { !$0.isEmpty }
    }
}
