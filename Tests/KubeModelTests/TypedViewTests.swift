import Testing
import KubeModel

struct TypedViewTests {
    @Test func quantitiesAreExactInMilliUnits() {
        #expect(Quantity(parsing: "300m")?.milliValue == 300)
        #expect(Quantity(parsing: "0.3")?.milliValue == 300)
        #expect(Quantity(parsing: "1.5")?.milliValue == 1500)
        #expect(Quantity(parsing: "128Mi")?.milliValue == 134_217_728_000)
        // Below a milli-unit rounds up, as Kubernetes' MilliValue does.
        #expect(Quantity(parsing: "500u")?.milliValue == 1)
        let list = ResourceList(["cpu": "250m", "memory": "64Mi"]) + ResourceList(["cpu": "1", "memory": "64Mi", "pods": 1])
        #expect(list["cpu"] == 1250 && list["pods"] == 1000)
        #expect(list.json == ["cpu": "1250m", "memory": "128Mi", "pods": "1"])
    }

    @Test func aPodsRequestsCountTheLargestInitContainerAndSidecars() {
        func container(_ cpu: String, sidecar: Bool = false) -> JSON {
            var json: JSON = ["name": "c", "image": "i", "resources": ["requests": ["cpu": .string(cpu)]]]
            if sidecar { json["restartPolicy"] = "Always" }
            return json
        }
        let plain = Pod(["spec": ["containers": [container("100m"), container("200m")]]])
        #expect(plain.requests["cpu"] == 300)
        let bigInit = Pod(["spec": ["containers": [container("100m")], "initContainers": [container("500m")]]])
        #expect(bigInit.requests["cpu"] == 500)
        // A sidecar runs beside the main containers and beside the init containers after it.
        let sidecar = Pod(["spec": ["containers": [container("100m")], "initContainers": [container("50m", sidecar: true), container("200m")],
                                    "overhead": ["cpu": "10m"]]])
        #expect(sidecar.requests["cpu"] == 260)
    }

    @Test func tolerationsMatchAsKubernetesDoes() {
        let taint = Taint(key: "dedicated", value: "gpu", effect: "NoSchedule")
        #expect(Toleration(key: "dedicated", value: "gpu", effect: "NoSchedule").tolerates(taint))
        #expect(Toleration(key: "dedicated", operator: "Exists").tolerates(taint))
        #expect(Toleration(key: "", operator: "Exists").tolerates(taint))
        #expect(!Toleration(key: "dedicated", value: "cpu").tolerates(taint))
        #expect(!Toleration(key: "dedicated", operator: "Exists", effect: "NoExecute").tolerates(taint))
    }

    @Test func workloadSelectorsReadBothForms() {
        let replicaSet = Workload(["spec": ["selector": ["matchLabels": ["app": "web"]]]])
        #expect(replicaSet.selector?.matches(["app": "web", "x": "y"]) == true && replicaSet.replicas == 1)
        let controller = Workload(["spec": ["replicas": 3, "selector": ["app": "db"]]])
        #expect(controller.selector?.matches(["app": "db"]) == true && controller.selector?.matches(["app": "web"]) == false)
        #expect(Workload(["spec": [:]]).selector == nil)
    }

    @Test func conditionsKeepTheirTransitionTimeUntilTheStatusChanges() {
        var pod: JSON = ["status": [:]]
        pod.setCondition(Condition(type: "Ready", status: "False", lastTransitionTime: "2026-01-01T00:00:00Z"))
        pod.setCondition(Condition(type: "Ready", status: "False", reason: "ContainersNotReady"))
        #expect(pod.condition("Ready")?.lastTransitionTime == "2026-01-01T00:00:00Z")
        #expect(pod.condition("Ready")?.reason == "ContainersNotReady")
        pod.setCondition(Condition(type: "Ready", status: "True"))
        #expect(pod.condition("Ready")?.lastTransitionTime != "2026-01-01T00:00:00Z" && Pod(pod).isReady)
    }
}
