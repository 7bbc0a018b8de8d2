import KubeModel
import Testing
@testable import Controllers

/// What a Service's endpoints are, given its pods.
struct EndpointsTests {
    static func pod(_ name: String, ip: String?, ready: Bool = true, deleting: Bool = false, phase: String = "Running",
                    portName: String = "http", port: Int64 = 8080) -> JSON {
        var pod: JSON = [
            "metadata": ["name": .string(name), "namespace": "default", "uid": .string("uid-\(name)"), "labels": ["app": "web"]],
            "spec": ["nodeName": "ip-10-0-0-1.ec2.internal",
                     "containers": [["name": "main", "ports": [["name": .string(portName), "containerPort": .int(port)]]]]],
            "status": ["phase": .string(phase), "conditions": [["type": "Ready", "status": .string(ready ? "True" : "False")]]],
        ]
        if let ip { pod[path: ["status", "podIP"]] = .string(ip) }
        if deleting { pod[path: ["metadata", "deletionTimestamp"]] = "2026-12-01T00:00:00Z" }
        return pod
    }

    static let service: JSON = ["metadata": ["name": "web", "namespace": "default"],
                                "spec": ["selector": ["app": "web"], "ports": [["name": "web", "port": 80, "targetPort": "http"]]]]

    @Test func readyAndNotReadyPodsWithAddressesBackTheServiceOnTheirNamedPorts() {
        let pods = [Self.pod("b", ip: "10.0.0.9"), Self.pod("a", ip: "10.0.0.5", ready: false), Self.pod("pending", ip: nil),
                    Self.pod("done", ip: "10.0.0.7", phase: "Succeeded"), Self.pod("going", ip: "10.0.0.8", deleting: true),
                    Self.pod("other-port", ip: "10.0.0.6", port: 9090)]
        let backends = ServiceBackends.backends(of: Self.service, pods: pods)
        #expect(backends.map(\.ip).sorted() == ["10.0.0.5", "10.0.0.6", "10.0.0.9"])
        let subsets = EndpointsController.subsets(backends).array ?? []
        // Pods whose named port resolves differently go to a subset of their own.
        #expect(subsets.count == 2)
        let first = subsets.first { $0["ports"]?.array?.first?["port"] == 8080 }
        #expect(first?["addresses"]?.array?.compactMap { $0["ip"]?.string } == ["10.0.0.9"])
        #expect(first?["notReadyAddresses"]?.array?.compactMap { $0["ip"]?.string } == ["10.0.0.5"])
        #expect(first?["ports"] == [["name": "web", "port": 8080, "protocol": "TCP"]])
    }

    @Test func slicesHoldAHundredEndpointsAndTerminatingOnesWhenPublished() {
        let pods = (0..<150).map { Self.pod("p\($0)", ip: "10.0.\($0 / 200).\($0 % 200 + 1)") }
        let slices = EndpointSliceController.slices(ServiceBackends.backends(of: Self.service, pods: pods)) { _ in "us-east-1a" }
        #expect(slices.map { $0.endpoints.array?.count ?? 0 } == [100, 50])
        #expect(slices[0].endpoints.array?.first?["zone"] == "us-east-1a")
        #expect(EndpointSliceController.slices([], zones: { _ in nil }).count == 1)

        var published = Self.service
        published[path: ["spec", "publishNotReadyAddresses"]] = true
        let terminating = ServiceBackends.backends(of: published, pods: [Self.pod("going", ip: "10.0.0.8", deleting: true)])
        let endpoint = EndpointSliceController.slices(terminating) { _ in nil }[0].endpoints.array?.first
        #expect(endpoint?["conditions"] == ["ready": false, "serving": true, "terminating": true])
    }
}
