import Testing
import KubeModel
@testable import KubeAPI

struct YAMLTests {
    @Test func yamlBodiesBecomeTheJSONTheyStandFor() throws {
        let yaml = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
              labels: {tier: "1"}
            data:
              replicas: "3"
              enabled: "true"
            spec:
              count: 3
              ratio: 0.5
              on: true
              nothing: null
              items: [a, b]
            """
        let json = try YAMLDocument.json(from: yaml)
        #expect(json[path: ["metadata", "labels"]] == ["tier": "1"])
        #expect(json["data"] == ["replicas": "3", "enabled": "true"])
        #expect(json["spec"] == ["count": 3, "ratio": .double(0.5), "on": true, "nothing": nil, "items": ["a", "b"]])
        #expect(throws: APIError.self) { try YAMLDocument.json(from: "a: [unclosed") }
    }
}
