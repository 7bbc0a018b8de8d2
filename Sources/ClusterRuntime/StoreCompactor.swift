import Foundation
import KubeStore
import ServiceLifecycle

/// Compacts a cluster's store on its own, keeping about five minutes of
/// history (what a watch or a `continue` token may still need, as on a real
/// API server), so the data dir stays proportional to the live objects.
struct StoreCompactor: Service {
    let store: any KubeStore
    let retention: TimeInterval
    /// How often it samples the revision and compacts: a tenth of the retention, at most 30 seconds.
    var interval: Duration { .milliseconds(Int(min(retention / 10, 30) * 1000)) }

    func run() async throws {
        await cancelWhenGracefulShutdown { await compactWhileRunning() }
    }

    func compactWhileRunning() async {
        // (time, revision) samples: compaction goes up to the newest revision older than the retention.
        var samples: [(Date, Int64)] = []
        while !Task.isCancelled {
            if let revision = try? await store.currentRevision() {
                let now = Date()
                samples.append((now, revision))
                if let cutoff = samples.last(where: { now.timeIntervalSince($0.0) >= retention }) {
                    try? await store.compact(through: cutoff.1)
                    samples.removeAll { $0.0 < cutoff.0 }
                }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
