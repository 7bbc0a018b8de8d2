import ArgumentParser
import Foundation
import KubeStore

/// Commands for testing Skiff itself; not for users.
struct Debug: AsyncParsableCommand {
    static let configuration = CommandConfiguration(shouldDisplay: false, subcommands: [StoreWrites.self])

    /// Writes keys to a KubeStore from concurrent writers and prints each one once the store has
    /// acknowledged it, so a test can `kill -9` the process and check every printed key survived.
    struct StoreWrites: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "store-writes")

        @Option(help: "The store's SQLite file.") var path: String
        @Option(help: "How many keys to write.") var count = 100_000
        @Option(help: "Concurrent writers.") var writers = 16
        @Option(help: "Key prefix, so runs on the same file write different keys.") var prefix = "/crash/"

        func run() async throws {
            let store = try SQLiteKubeStore(path: path)
            let output = FileHandle.standardOutput
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        for index in stride(from: writer, to: count, by: writers) {
                            let kv = try await store.create("\(prefix)\(index)", value: Array("value-\(index)".utf8))
                            output.write(Data("\(kv.modRevision) \(kv.key)\n".utf8))
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }
}
