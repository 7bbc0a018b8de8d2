import Testing
import KubeModel

struct DisruptionBudgetTests {
    static func pods(ready: Int, notReady: Int, deleting: Int = 0) -> [JSON] {
        func pod(_ ready: Bool, deleting: Bool = false) -> JSON {
            var pod: JSON = ["metadata": ["name": "p"], "status": ["conditions": [["type": "Ready", "status": .string(ready ? "True" : "False")]]]]
            if deleting { pod[path: ["metadata", "deletionTimestamp"]] = "2026-12-01T00:00:00Z" }
            return pod
        }
        return Array(repeating: pod(true), count: ready) + Array(repeating: pod(false), count: notReady)
            + Array(repeating: pod(true, deleting: true), count: deleting)
    }

    @Test func minAvailableAndMaxUnavailableInNumbersAndPercentages() {
        let five = Self.pods(ready: 4, notReady: 1, deleting: 2)
        let minimum = DisruptionBudget(["spec": ["minAvailable": 2]], selected: five)
        #expect(minimum.expected == 5 && minimum.healthy == 4 && minimum.desired == 2 && minimum.allowed == 2)
        // 50% of 5, rounded up: 3 must stay.
        #expect(DisruptionBudget(["spec": ["minAvailable": "50%"]], selected: five).desired == 3)
        #expect(DisruptionBudget(["spec": ["maxUnavailable": 1]], selected: five).allowed == 0)
        #expect(DisruptionBudget(["spec": ["maxUnavailable": "40%"]], selected: five).desired == 3)
        #expect(DisruptionBudget(["spec": ["minAvailable": 9]], selected: five).allowed == 0)
    }
}
