import Foundation
import Testing
import KubeModel
@testable import KubeAPI

struct JSONTests {
    @Test func parsesEveryKindOfValue() throws {
        let text = #"{"s":"a\"b\\c\/d\n\u00e9\ud83d\ude80","i":-42,"d":1.5e3,"b":[true,false,null],"o":{},"big":9223372036854775807}"#
        let value = try JSONCoding.decode(Array(text.utf8))
        #expect(value["s"] == .string("a\"b\\c/d\né🚀"))
        #expect(value["i"] == .int(-42))
        #expect(value["d"] == .double(1500))
        #expect(value["b"] == [true, false, nil])
        #expect(value["o"] == [:])
        #expect(value["big"] == .int(Int64.max))
    }

    @Test func refusesMalformedDocuments() {
        for text in ["{", #"{"a" 1}"#, "[1,]", #""\x""#, "tru", "{} {}", #"{"a":"\u12"}"#, "-", "01x"] {
            #expect(throws: (any Error).self, "\(text)") { try JSONCoding.decode(Array(text.utf8)) }
        }
    }

    @Test func writesSortedKeysAndEscapes() throws {
        let value: JSON = ["z": 1, "a": ["text": "line\n\"quoted\"\u{01}", "n": .double(2.5)], "m": [nil, true]]
        let text = String(decoding: JSONCoding.encode(value), as: UTF8.self)
        #expect(text == #"{"a":{"n":2.5,"text":"line\n\"quoted\"\u0001"},"m":[null,true],"z":1}"#)
        #expect(try JSONCoding.decode(JSONCoding.encode(value)) == value)
        // Foundation reads what the writer writes.
        #expect((try? JSONSerialization.jsonObject(with: Data(JSONCoding.encode(value)))) != nil)
    }

    @Test func writesIntegersAndWholeDoublesAsIntegers() {
        let value: JSON = [.int(0), .int(7), .int(-42), .int(.max), .int(.min), .double(3), .double(-0.5), .double(1e20)]
        #expect(String(decoding: JSONCoding.encode(value), as: UTF8.self)
                == "[0,7,-42,9223372036854775807,-9223372036854775808,3,-0.5,1e+20]")
    }

    @Test func aResourceVersionSplicedIntoStoredBytesIsWhatEncodingGives() throws {
        let objects: [JSON] = [
            ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "a", "namespace": "b", "uid": "u", "labels": ["x": "y\"}"]],
             "spec": ["containers": [["name": "c", "args": ["{", "]"]]]]],
            ["binaryData": ["k": "dg=="], "data": ["metadata": "{\"resourceVersion\":1}"], "kind": "ConfigMap", "metadata": [:]],
            ["kind": "Namespace", "metadata": ["annotations": ["z": "1"], "managedFields": [["fieldsV1": ["f:a": [:]]]]]],
            ["metadata": ["name": "n", "uid": "u"], "spec": [:]],
        ]
        for object in objects {
            var expected = object
            expected.resourceVersion = "1234"
            #expect(EncodedObject.settingResourceVersion(1234, in: JSONCoding.encode(object)) == JSONCoding.encode(expected))
        }
        #expect(EncodedObject.settingResourceVersion(1, in: JSONCoding.encode(["kind": "Pod"] as JSON)) == nil)
        #expect(EncodedObject.settingResourceVersion(1, in: JSONCoding.encode(["metadata": ["resourceVersion": "3"]] as JSON)) == nil)
    }

    @Test func continueTokensAreWhatTheAPIServerWrites() throws {
        let token = ContinueToken(revision: 7, after: "a/b").encoded
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        #expect(String(decoding: try #require(Data(base64Encoded: base64)), as: UTF8.self) == #"{"v":"meta.k8s.io/v1","rv":7,"start":"a/b"}"#)
        #expect(try ContinueToken.decode(token).start == "a/b")
    }

    @Test func timestampsAreRFC3339AtSecondsInUTC() {
        #expect(Timestamps.format(Date(timeIntervalSince1970: 1_795_511_736.9)) == "2026-11-24T09:15:36Z")
        #expect(Timestamps.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(Timestamps.parse("2026-11-24T09:15:36Z") == Date(timeIntervalSince1970: 1_795_511_736))
    }
}
