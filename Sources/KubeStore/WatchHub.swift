import Synchronization

/// Fans committed events out to watchers. Each watcher has a bounded buffer;
/// one that falls behind is finished with `StoreError.watcherTooSlow` rather
/// than allowed to grow memory without bound (its client re-lists, as a
/// Kubernetes client does after a closed watch).
final class WatchHub: Sendable {
    /// Events a watcher may have waiting before it is cut off.
    static let bufferLimit = 10_000

    private struct Watcher {
        let prefix: String
        let continuation: WatchStream.Continuation
        /// Live events at or below this were sent from history.
        let historyThrough: Int64
        /// Live events held back while history is still being sent; nil once live.
        var backlog: [WatchEvent]?
    }

    private struct State {
        var watchers: [Int: Watcher] = [:]
        var nextId = 0
    }

    private let state = Mutex(State())

    /// Registers a watcher whose history runs through `historyThrough`; its live events are
    /// held back until `goLive`, so they can never overtake the history.
    func add(prefix: String, historyThrough: Int64, continuation: WatchStream.Continuation) -> Int {
        let id = state.withLock { state in
            let id = state.nextId
            state.nextId += 1
            state.watchers[id] = Watcher(prefix: prefix, continuation: continuation, historyThrough: historyThrough, backlog: [])
            return id
        }
        continuation.onTermination = { [weak self] _ in self?.remove(id) }
        return id
    }

    func remove(_ id: Int) {
        _ = state.withLock { $0.watchers.removeValue(forKey: id) }
    }

    /// Sends what was held back and delivers live from now on.
    func goLive(_ id: Int) {
        let slow = state.withLock { state -> WatchStream.Continuation? in
            guard var watcher = state.watchers[id] else { return nil }
            for event in watcher.backlog ?? [] {
                if case .dropped = watcher.continuation.yield(event) {
                    state.watchers.removeValue(forKey: id)
                    return watcher.continuation
                }
            }
            watcher.backlog = nil
            state.watchers[id] = watcher
            return nil
        }
        slow?.finish(throwing: StoreError.watcherTooSlow)
    }

    /// Delivers one committed batch, in revision order.
    func publish(_ events: [WatchEvent]) {
        guard !events.isEmpty else { return }
        var slow: [WatchStream.Continuation] = []
        state.withLock { state in
            for (id, var watcher) in state.watchers {
                let matching = events.filter { $0.revision > watcher.historyThrough && ($0.key?.hasPrefix(watcher.prefix) ?? true) }
                if watcher.backlog != nil {
                    watcher.backlog! += matching
                    if watcher.backlog!.count > Self.bufferLimit {
                        slow.append(watcher.continuation)
                        state.watchers.removeValue(forKey: id)
                    } else {
                        state.watchers[id] = watcher
                    }
                    continue
                }
                for event in matching {
                    if case .dropped = watcher.continuation.yield(event) {
                        slow.append(watcher.continuation)
                        state.watchers.removeValue(forKey: id)
                        break
                    }
                }
            }
        }
        for continuation in slow { continuation.finish(throwing: StoreError.watcherTooSlow) }
    }

    /// Sends every watcher a progress marker at `revision`.
    func progress(_ revision: Int64) {
        publish([.progress(revision)])
    }

    /// Ends every watch (the store is closing).
    func finishAll() {
        let all = state.withLock { state in
            defer { state.watchers.removeAll() }
            return Array(state.watchers.values)
        }
        for watcher in all { watcher.continuation.finish() }
    }
}
