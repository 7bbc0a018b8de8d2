import Foundation
import Testing
@testable import ClusterRuntime

struct ControlPlaneLogTests {
    @Test func aFullLogRotatesIntoItsBackupsAndTheOldestGoes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-log-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = try ControlPlaneLog(directory: directory, name: "authenticator", maxBytes: 20, maxBackups: 2)
        for index in 0..<5 { log.append("line \(index) 1234567") }
        // Each line fills a file: the last three survive, the newest in the live file.
        #expect(log.lines() == ["line 2 1234567", "line 3 1234567", "line 4 1234567"])
        #expect(FileManager.default.fileExists(atPath: log.path + ".2"))
        #expect(!FileManager.default.fileExists(atPath: log.path + ".3"))
        log.close()
        // Reopened, it appends.
        let again = try ControlPlaneLog(directory: directory, name: "authenticator", maxBytes: 1000, maxBackups: 2)
        again.append("after")
        #expect(again.lines().last == "after" && again.lines().count == 4)
    }
}

struct KlogLineTests {
    @Test func linesAreKlogsTextFormat() {
        let line = KlogHandler.line(severity: "I", message: "Too few replicas", fields: ["replicaSet": "default/web-1", "need": "3", "cluster": "demo"],
                                    file: "/src/Controllers/ReplicaSetController.swift", line: 88, at: Date(timeIntervalSince1970: 86_400 * 31 + 3661.25))
        #expect(line.hasPrefix("I0201 01:01:01.250000 "))
        #expect(line.hasSuffix(#" ReplicaSetController.swift:88] "Too few replicas" need="3" replicaSet="default/web-1""#))
    }

    @Test func shippingKeepsOnlyWhatWasWrittenWhileOn() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-ship-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = try ControlPlaneLog(directory: directory, name: "kube-scheduler")
        log.append("before")
        log.ship(true)
        log.append("during")
        #expect(log.takePending().map(\.line) == ["during"])
        #expect(log.takePending().isEmpty)
        log.ship(false)
        log.append("after")
        #expect(log.takePending().isEmpty && log.lines() == ["before", "during", "after"])
    }
}
