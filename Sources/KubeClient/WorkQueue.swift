import Wakeup
import Foundation
import Synchronization

/// A de-duplicating, rate-limited queue of keys, as client-go's workqueue: a key added while waiting is
/// queued once; a key added while a worker processes it is queued again only when that worker is done,
/// so no two workers ever reconcile one key at once. Failed keys come back after an exponential back-off
/// (5 ms doubling to 1,000 s, client-go's defaults), delayed keys at their time.
public final class WorkQueue<Key: Hashable & Sendable>: Sendable {
    private struct State {
        var queue: [Key] = []
        var head = 0
        var dirty: Set<Key> = []
        var processing: Set<Key> = []
        var failures: [Key: Int] = [:]
        /// Keys to add at a time, soonest first.
        var delayed: [(due: ContinuousClock.Instant, key: Key)] = []
        var waiters: [CheckedContinuation<Key?, Never>] = []
        var shuttingDown = false

        mutating func pop() -> Key? {
            guard head < queue.count else { return nil }
            let key = queue[head]
            head += 1
            if head > 1024, head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            return key
        }

        var count: Int { queue.count - head }

        /// Queues a dirty key that no worker holds: straight to a waiting worker (returned, to be resumed
        /// outside the lock) or onto the queue.
        mutating func release(_ key: Key) -> CheckedContinuation<Key?, Never>? {
            guard !waiters.isEmpty else {
                queue.append(key)
                return nil
            }
            dirty.remove(key)
            processing.insert(key)
            return waiters.removeFirst()
        }
    }

    private let state = Mutex(State())
    /// Wakes the delay pump when a sooner delayed key arrives, or the queue shuts down.
    private let pumpSignal = WakeupSignal()
    public let baseDelay: Duration
    public let maxDelay: Duration

    public init(baseDelay: Duration = .milliseconds(5), maxDelay: Duration = .seconds(1000)) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public func add(_ key: Key) {
        let waiter = state.withLock { state -> CheckedContinuation<Key?, Never>? in
            guard !state.shuttingDown, state.dirty.insert(key).inserted else { return nil }
            if state.processing.contains(key) { return nil }
            return state.release(key)
        }
        waiter?.resume(returning: key)
    }

    /// Adds the key once `delay` has passed.
    public func add(_ key: Key, after delay: Duration) {
        guard delay > .zero else { return add(key) }
        let due = ContinuousClock.now + delay
        let sooner = state.withLock { state -> Bool in
            guard !state.shuttingDown else { return false }
            let index = state.delayed.firstIndex { $0.due > due } ?? state.delayed.count
            state.delayed.insert((due, key), at: index)
            return index == 0
        }
        if sooner { pumpSignal.signal() }
    }

    /// Adds a key that failed, after its back-off.
    public func addRateLimited(_ key: Key) {
        let failures = state.withLock { state -> Int in
            state.failures[key, default: 0] += 1
            return state.failures[key]!
        }
        add(key, after: backoff(failures: failures))
    }

    func backoff(failures: Int) -> Duration {
        let exponent = min(failures - 1, 40)
        let delay = baseDelay * (1 << exponent)
        return min(delay, maxDelay)
    }

    /// The key succeeded: its back-off starts again from the base.
    public func forget(_ key: Key) {
        _ = state.withLock { $0.failures.removeValue(forKey: key) }
    }

    public func failures(_ key: Key) -> Int { state.withLock { $0.failures[key] ?? 0 } }

    /// The next key, waiting for one; nil once the queue shuts down. Call `done` when finished with it.
    public func next() async -> Key? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Key?, Never>) in
            let key = state.withLock { state -> Key?? in
                if let key = state.pop() {
                    state.dirty.remove(key)
                    state.processing.insert(key)
                    return .some(key)
                }
                if state.shuttingDown { return .some(nil) }
                state.waiters.append(continuation)
                return nil
            }
            if let key { continuation.resume(returning: key) }
        }
    }

    public func done(_ key: Key) {
        let waiter = state.withLock { state -> CheckedContinuation<Key?, Never>? in
            state.processing.remove(key)
            guard state.dirty.contains(key) else { return nil }
            return state.release(key)
        }
        waiter?.resume(returning: key)
    }

    /// Keys waiting (not those being processed or delayed).
    public var count: Int { state.withLock { $0.count } }

    /// Ends the queue: waiting workers get nil, new keys are ignored.
    public func shutDown() {
        let waiters = state.withLock { state in
            state.shuttingDown = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        pumpSignal.signal()
    }

    /// Moves delayed keys into the queue when they are due; runs until the queue shuts down.
    public func runDelays() async {
        while !Task.isCancelled {
            let (ready, next, stopped) = state.withLock { state -> ([Key], ContinuousClock.Instant?, Bool) in
                let now = ContinuousClock.now
                let count = state.delayed.firstIndex { $0.due > now } ?? state.delayed.count
                let ready = state.delayed.prefix(count).map(\.key)
                state.delayed.removeFirst(count)
                return (ready, state.delayed.first?.due, state.shuttingDown)
            }
            if stopped { return }
            for key in ready { add(key) }
            guard let next else {
                await pumpSignal.wait()
                continue
            }
            // Until the soonest is due, or a sooner one arrives.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await Task.sleep(until: next) }
                group.addTask { await self.pumpSignal.wait() }
                await group.next()
                group.cancelAll()
            }
        }
    }
}
