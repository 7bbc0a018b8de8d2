import Foundation
import Testing
import KubeModel
@testable import KubeAPI

/// Protobuf bodies built in code, as kubectl's typed clients encode them.
struct ProtobufTests {
    func envelope(apiVersion: String, kind: String, raw: [UInt8]) -> [UInt8] {
        var writer = WireWriter()
        writer.message(1) { typeMeta in
            typeMeta.string(1, apiVersion)
            typeMeta.string(2, kind)
        }
        writer.message(2, raw)
        writer.string(4, "application/vnd.kubernetes.protobuf")
        return KubernetesProtobuf.magic + writer.bytes
    }

    @Test func decodesADeploymentAsTheAPIServerWouldReadIt() throws {
        var deployment = WireWriter()
        deployment.message(1) { metadata in
            metadata.string(1, "web")
            metadata.string(3, "")
            metadata.message(11) { label in label.string(1, "app"); label.string(2, "web") }
        }
        deployment.message(2) { spec in
            spec.varint(1 << 3)
            spec.varint(0)  // replicas: 0 is a choice, kept
            spec.message(2) { selector in selector.message(1) { entry in entry.string(1, "app"); entry.string(2, "web") } }
            spec.message(3) { template in
                template.message(2) { podSpec in
                    podSpec.message(2) { container in
                        container.string(1, "nginx")
                        container.string(2, "nginx:1.27")
                        container.message(6) { port in
                            port.varint(2 << 3); port.varint(0)   // hostPort 0: omitted, as Go's JSON does
                            port.varint(3 << 3); port.varint(80)  // containerPort
                        }
                        container.message(8) { resources in
                            resources.message(1) { limit in limit.string(1, "cpu"); limit.message(2) { q in q.string(1, "500m") } }
                        }
                    }
                }
            }
        }
        let object = try KubernetesProtobuf.decode(envelope(apiVersion: "apps/v1", kind: "Deployment", raw: deployment.bytes))
        #expect(object["apiVersion"] == "apps/v1" && object["kind"] == "Deployment")
        #expect(object["metadata"] == ["name": "web", "labels": ["app": "web"]])
        #expect(object[path: ["spec", "replicas"]] == 0)
        #expect(object[path: ["spec", "selector"]] == ["matchLabels": ["app": "web"]])
        let container = object[path: ["spec", "template", "spec", "containers"]]?.array?.first
        #expect(container == ["name": "nginx", "image": "nginx:1.27", "ports": [["containerPort": 80]],
                              "resources": ["limits": ["cpu": "500m"]]])
    }

    @Test func decodesInlinedFieldsAndIntOrString() throws {
        var service = WireWriter()
        service.message(2) { spec in
            spec.message(1) { port in
                port.varint(3 << 3); port.varint(443)
                port.message(4) { target in target.varint(1 << 3); target.varint(1); target.string(3, "https") }
            }
        }
        let object = try KubernetesProtobuf.decode(envelope(apiVersion: "v1", kind: "Service", raw: service.bytes))
        #expect(object[path: ["spec", "ports"]] == [["port": 443, "targetPort": "https"]])

        var volume = WireWriter()
        volume.string(1, "config")
        volume.message(2) { source in source.message(19) { configMap in configMap.message(1) { ref in ref.string(1, "settings") } } }
        var pod = WireWriter()
        pod.message(2) { spec in spec.message(1, volume.bytes) }
        let decoded = try KubernetesProtobuf.decode(envelope(apiVersion: "v1", kind: "Pod", raw: pod.bytes))
        #expect(decoded[path: ["spec", "volumes"]] == [["name": "config", "configMap": ["name": "settings"]]])
    }

    @Test func refusesWhatIsNotKubernetesProtobuf() {
        #expect(throws: APIError.self) { try KubernetesProtobuf.decode(Array("{}".utf8)) }
        #expect(throws: APIError.self) { try KubernetesProtobuf.decode(envelope(apiVersion: "v1", kind: "NoSuchKind", raw: [])) }
        #expect(throws: APIError.self) { try KubernetesProtobuf.decode(KubernetesProtobuf.magic + [0x0A, 0x7F]) }
    }

    @Test func unknownFieldsAreFoundByPath() {
        let pod: JSON = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "lables": ["a": "b"]],
                         "spec": ["containers": [["name": "c", "image": "i", "imagePullPolcy": "Always", "ports": [["containerPort": 80]]]],
                                  "volumes": [["name": "v", "configMap": ["name": "x"]]]]]
        #expect(FieldValidation.unknownFields(pod, apiVersion: "v1", kind: "Pod") == ["metadata.lables", "spec.containers[0].imagePullPolcy"])
    }

    @Test func goDurationsReadAsGoWritesThem() {
        #expect(KubernetesProtobuf.goDuration(nanoseconds: 30_000_000_000) == "30s")
        #expect(KubernetesProtobuf.goDuration(nanoseconds: 300_000_000_000) == "5m0s")
        #expect(KubernetesProtobuf.goDuration(nanoseconds: 3_723_000_000_000) == "1h2m3s")
    }
}
