import Testing
import KubeModel
@testable import KubeAPI

struct SelectorTests {
    @Test func labelSelectorsParseEveryForm() throws {
        let selector = try LabelSelector(parsing: "app=web,tier!=db,env in (prod, staging),!legacy,team")
        #expect(selector.matches(["app": "web", "env": "prod", "team": "a"]))
        #expect(!selector.matches(["app": "web", "env": "dev", "team": "a"]))
        #expect(!selector.matches(["app": "web", "env": "prod", "team": "a", "legacy": "1"]))
        #expect(!selector.matches(["app": "web", "env": "prod", "tier": "db", "team": "a"]))
        #expect(try LabelSelector(parsing: "a notin (x)").matches([:]))
        #expect(throws: APIError.self) { try LabelSelector(parsing: "a in x") }
    }

    @Test func objectSelectorsUseMatchLabelsAndExpressions() throws {
        let selector = try LabelSelector(object: ["matchLabels": ["app": "web"],
                                                  "matchExpressions": [["key": "tier", "operator": "In", "values": ["fe"]]]])
        #expect(selector.matches(["app": "web", "tier": "fe"]))
        #expect(!selector.matches(["app": "web"]))
    }

    @Test func fieldSelectorsCompareSelectableFields() throws {
        let selector = try FieldSelector(parsing: "status.phase=Running,spec.nodeName!=n1")
        #expect(selector.matches(["status.phase": "Running", "spec.nodeName": "n2"]))
        #expect(!selector.matches(["status.phase": "Running", "spec.nodeName": "n1"]))
    }

    @Test func agesReadAsKubectlShowsThem() {
        #expect(Age.format(45) == "45s")
        #expect(Age.format(5 * 60 + 12) == "5m12s")
        #expect(Age.format(3 * 3600) == "3h")
        #expect(Age.format(50 * 3600) == "2d2h")
        #expect(Age.format(400 * 86400) == "400d")
    }
}

struct PatchTests {
    let pod: JSON = ["metadata": ["name": "p", "labels": ["a": "1", "b": "2"], "finalizers": ["x"]],
                     "spec": ["containers": [["name": "web", "image": "nginx:1", "ports": [["containerPort": 80]]],
                                             ["name": "sidecar", "image": "envoy"]]]]

    @Test func mergePatchMergesObjectsAndNullRemoves() {
        let patched = MergePatch.apply(["metadata": ["labels": ["a": nil, "c": "3"]]], to: pod)
        #expect(patched[path: ["metadata", "labels"]] == ["b": "2", "c": "3"])
        // Lists replace wholesale.
        let replaced = MergePatch.apply(["spec": ["containers": [["name": "only"]]]], to: pod)
        #expect(replaced[path: ["spec", "containers"]]?.array?.count == 1)
    }

    @Test func jsonPatchAppliesOperationsInOrder() throws {
        let patch: JSON = [["op": "replace", "path": "/spec/containers/0/image", "value": "nginx:2"],
                           ["op": "add", "path": "/metadata/labels/c", "value": "3"],
                           ["op": "remove", "path": "/metadata/labels/a"],
                           ["op": "test", "path": "/metadata/name", "value": "p"],
                           ["op": "add", "path": "/spec/containers/-", "value": ["name": "third"]]]
        let patched = try JSONPatch.apply(patch, to: pod)
        #expect(patched[path: ["spec", "containers"]]?.array?[0]["image"] == "nginx:2")
        #expect(patched[path: ["metadata", "labels"]] == ["b": "2", "c": "3"])
        #expect(patched[path: ["spec", "containers"]]?.array?.last?["name"] == "third")
        #expect(throws: APIError.self) { try JSONPatch.apply([["op": "remove", "path": "/spec/missing"]], to: pod) }
        #expect(throws: APIError.self) { try JSONPatch.apply([["op": "test", "path": "/metadata/name", "value": "q"]], to: pod) }
    }

    @Test func strategicMergePatchMergesListsByKey() throws {
        let patch: JSON = ["spec": ["containers": [["name": "web", "image": "nginx:2"], ["name": "sidecar", "$patch": "delete"],
                                                   ["name": "new", "image": "busybox"]],
                                    "$setElementOrder/containers": [["name": "web"], ["name": "new"]]],
                           "metadata": ["finalizers": ["y"]]]
        let patched = try StrategicMergePatch.apply(patch, to: pod)
        let containers = patched[path: ["spec", "containers"]]?.array ?? []
        #expect(containers.map { $0["name"] } == ["web", "new"])
        #expect(containers[0]["image"] == "nginx:2" && containers[0]["ports"] != nil)
        #expect(patched[path: ["metadata", "finalizers"]] == ["x", "y"])
        let retained = try StrategicMergePatch.apply(["metadata": ["$retainKeys": ["name"], "name": "p"]], to: pod)
        #expect(retained["metadata"] == ["name": "p"])
    }
}
