import Foundation
import KubeModel

/// Reads `application/vnd.kubernetes.protobuf` bodies, which kubectl's typed
/// clients send (`kubectl create deployment`, `create namespace`…), into the
/// JSON object they encode, as the API server would decode and re-encode them.
public enum KubernetesProtobuf {
    public static let contentType = "application/vnd.kubernetes.protobuf"
    /// Every Kubernetes protobuf document starts with `k8s\0`.
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    public static func decode(_ bytes: [UInt8]) throws(APIError) -> JSON {
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else {
            throw .badRequest("provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]")
        }
        let schema = ProtobufSchema.shared
        let envelope = try decodeMessage(Array(bytes[4...]), type: "k8s.io.apimachinery.pkg.runtime.Unknown", schema: schema)
        let apiVersion = envelope[path: ["typeMeta", "apiVersion"]]?.string ?? ""
        let kind = envelope[path: ["typeMeta", "kind"]]?.string ?? ""
        guard let message = schema.message(apiVersion: apiVersion, kind: kind) else {
            throw .badRequest("no kind \"\(kind)\" is registered for version \"\(apiVersion)\"")
        }
        let raw = Data(base64Encoded: envelope["raw"]?.string ?? "").map(Array.init) ?? []
        var object = try decodeMessage(raw, type: message, schema: schema)
        object["apiVersion"] = .string(apiVersion)
        object["kind"] = .string(kind)
        return object
    }

    static func malformed() -> APIError { .badRequest("the protobuf body of the request is malformed") }

    static func decodeMessage(_ bytes: [UInt8], type: String, schema: ProtobufSchema) throws(APIError) -> JSON {
        let fields = schema.messages[type] ?? [:]
        var reader = WireReader(bytes: bytes)
        var object: [String: JSON] = [:]
        while !reader.atEnd {
            let tag = try reader.varint()
            let number = Int(tag >> 3), wireType = Int(tag & 7)
            guard let field = fields[number] else {
                try reader.skip(wireType: wireType)
                continue
            }
            switch field.cardinality {
            case .map:
                let entry = try reader.lengthDelimited()
                let (key, value) = try decodeMapEntry(entry, valueType: field.type, schema: schema)
                var map = object[field.name]?.object ?? [:]
                map[key] = value
                object[field.name] = .object(map)
            case .repeated:
                var items = object[field.name]?.array ?? []
                if wireType == 2, isPackable(field.type) {
                    var packed = WireReader(bytes: try reader.lengthDelimited())
                    while !packed.atEnd { items.append(try scalar(&packed, wireType: field.type == "double" ? 1 : 0, type: field.type)) }
                } else {
                    items.append(try value(&reader, wireType: wireType, type: field.type, schema: schema))
                }
                object[field.name] = .array(items)
            case .optional:
                let decoded = try value(&reader, wireType: wireType, type: field.type, schema: schema)
                if field.inline, case .object(let members) = decoded {
                    object.merge(members) { $1 }
                } else if !omittedInJSON(decoded, field: field.name) {
                    object[field.name] = decoded
                }
            }
        }
        return convertSpecial(.object(object), type: type)
    }

    /// Protobuf writes every non-pointer scalar, zero or not; Go's JSON omits zero ones (`omitempty`).
    /// Pointer fields are written only when set, so their zero values stay.
    static func omittedInJSON(_ value: JSON, field: String) -> Bool {
        switch value {
        case .string(""): true
        case .int(0), .bool(false): !pointerScalars.contains(field)
        default: false
        }
    }

    /// Scalar fields the API types declare as pointers, where zero or false is a choice, not an absence.
    static let pointerScalars: Set<String> = [
        "replicas", "terminationGracePeriodSeconds", "activeDeadlineSeconds", "progressDeadlineSeconds", "revisionHistoryLimit",
        "parallelism", "completions", "backoffLimit", "backoffLimitPerIndex", "maxFailedIndexes", "suspend",
        "automountServiceAccountToken", "readOnlyRootFilesystem", "runAsUser", "runAsGroup", "runAsNonRoot", "privileged",
        "allowPrivilegeEscalation", "optional", "defaultMode", "mode", "immutable", "ttlSecondsAfterFinished",
        "startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit", "enableServiceLinks",
        "shareProcessNamespace", "hostUsers", "setHostnameAsFQDN", "priority", "partition", "allocateLoadBalancerNodePorts",
        "timeoutSeconds", "expirationSeconds", "ready", "serving", "terminating", "minReplicas", "fsGroup",
        "seLinuxChangePolicy", "readOnly", "gracePeriodSeconds", "orphanDependents", "blockOwnerDeletion", "controller",
        "stabilizationWindowSeconds", "maxSurge", "maxUnavailable", "minAvailable", "manualSelector", "holderIdentity",
        "leaseDurationSeconds", "leaseTransitions", "initialDelaySeconds", "periodSeconds", "successThreshold", "failureThreshold",
    ]

    static func isPackable(_ type: String) -> Bool {
        ["int32", "int64", "uint32", "uint64", "sint32", "sint64", "bool", "double", "float", "fixed32", "fixed64"].contains(type)
    }

    static func decodeMapEntry(_ bytes: [UInt8], valueType: String, schema: ProtobufSchema) throws(APIError) -> (String, JSON) {
        var reader = WireReader(bytes: bytes)
        var key = "", value: JSON = valueType == "string" || valueType == "bytes" ? .string("") : .null
        while !reader.atEnd {
            let tag = try reader.varint()
            switch tag >> 3 {
            case 1: key = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
            case 2: value = try self.value(&reader, wireType: Int(tag & 7), type: valueType, schema: schema)
            default: try reader.skip(wireType: Int(tag & 7))
            }
        }
        return (key, value)
    }

    static func value(_ reader: inout WireReader, wireType: Int, type: String, schema: ProtobufSchema) throws(APIError) -> JSON {
        switch type {
        case "string":
            return .string(String(decoding: try reader.lengthDelimited(), as: UTF8.self))
        case "bytes":
            return .string(Data(try reader.lengthDelimited()).base64EncodedString())
        case _ where isPackable(type):
            return try scalar(&reader, wireType: wireType, type: type)
        default:
            return try decodeMessage(try reader.lengthDelimited(), type: type, schema: schema)
        }
    }

    static func scalar(_ reader: inout WireReader, wireType: Int, type: String) throws(APIError) -> JSON {
        switch wireType {
        case 0:
            let raw = try reader.varint()
            switch type {
            case "bool": return .bool(raw != 0)
            case "sint32", "sint64": return .int(Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1))
            case "int32": return .int(Int64(Int32(truncatingIfNeeded: raw)))
            default: return .int(Int64(bitPattern: raw))
            }
        case 1:
            let raw = try reader.fixed(8)
            return type == "double" ? .double(Double(bitPattern: raw)) : .int(Int64(bitPattern: raw))
        case 5:
            let raw = try reader.fixed(4)
            return type == "float" ? .double(Double(Float(bitPattern: UInt32(raw)))) : .int(Int64(Int32(bitPattern: UInt32(raw))))
        default:
            throw malformed()
        }
    }

    /// The types whose JSON form is not an object of their fields.
    static func convertSpecial(_ object: JSON, type: String) -> JSON {
        switch type {
        case "k8s.io.apimachinery.pkg.api.resource.Quantity":
            return .string(object["string"]?.string ?? "0")
        case "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
            return object["type"]?.int == 1 ? .string(object["strVal"]?.string ?? "") : .int(object["intVal"]?.int ?? 0)
        case "k8s.io.apimachinery.pkg.apis.meta.v1.Time", "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime":
            let seconds = object["seconds"]?.int ?? 0, nanos = object["nanos"]?.int ?? 0
            if seconds == 0 && nanos == 0 { return .null }
            let date = Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1e9)
            guard type.hasSuffix("MicroTime") else { return .string(Timestamps.format(date)) }
            return .string(Timestamps.format(date).replacingOccurrences(of: "Z", with: String(format: ".%06dZ", nanos / 1000)))
        case "k8s.io.apimachinery.pkg.apis.meta.v1.Duration":
            return .string(goDuration(nanoseconds: object["duration"]?.int ?? 0))
        case "k8s.io.apimachinery.pkg.runtime.RawExtension", "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1":
            let raw = Data(base64Encoded: (object["raw"] ?? object["Raw"])?.string ?? "").map(Array.init) ?? []
            return (try? JSONCoding.decode(raw)) ?? .null
        default:
            return object
        }
    }

    /// Go's `time.Duration.String()`: `30s`, `5m0s`, `1h2m3s`, `1.5s`.
    static func goDuration(nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let negative = nanoseconds < 0
        let total = abs(nanoseconds)
        let hours = total / 3_600_000_000_000, minutes = total / 60_000_000_000 % 60
        let seconds = Double(total % 60_000_000_000) / 1e9
        var text = ""
        if hours > 0 { text += "\(hours)h" }
        if hours > 0 || minutes > 0 { text += "\(minutes)m" }
        text += seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
        return (negative ? "-" : "") + text
    }
}

/// Reads protobuf's wire format.
struct WireReader {
    let bytes: [UInt8]
    var position = 0

    var atEnd: Bool { position >= bytes.count }

    mutating func varint() throws(APIError) -> UInt64 {
        var result: UInt64 = 0, shift: UInt64 = 0
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { break }
        }
        throw KubernetesProtobuf.malformed()
    }

    mutating func fixed(_ count: Int) throws(APIError) -> UInt64 {
        guard position + count <= bytes.count else { throw KubernetesProtobuf.malformed() }
        var result: UInt64 = 0
        for index in 0..<count { result |= UInt64(bytes[position + index]) << (8 * UInt64(index)) }
        position += count
        return result
    }

    mutating func lengthDelimited() throws(APIError) -> [UInt8] {
        let length = Int(try varint())
        guard length >= 0, position + length <= bytes.count else { throw KubernetesProtobuf.malformed() }
        defer { position += length }
        return Array(bytes[position..<position + length])
    }

    mutating func skip(wireType: Int) throws(APIError) {
        switch wireType {
        case 0: _ = try varint()
        case 1: _ = try fixed(8)
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed(4)
        default: throw KubernetesProtobuf.malformed()
        }
    }
}
