import Foundation
import Synchronization

/// When the next EKS transition is due, and the one run at a time that completes them. The provisioner
/// and every EKS request share it: a request arriving once a transition is due waits for that transition
/// first, so what it reads is never behind the clock (a waiter's first poll after a create with no
/// provisioning delay already sees `ACTIVE`), and two runs never complete the same transition at once.
final class TransitionSchedule: Sendable {
    typealias Run = @Sendable () async -> Result<Date?, any Error>

    private struct State {
        /// Unknown at start (records may be due from before a restart), so the first settle runs.
        var nextDue: Date? = .distantPast
        /// Transitions scheduled while a run was under way: it may have read the records before them.
        var scheduledDuringRun: Date?
        var running: Task<Result<Date?, any Error>, Never>?
    }

    private let state = Mutex(State())

    var nextDue: Date? { state.withLock { $0.nextDue } }

    /// Records that a transition is due at `due`.
    func scheduled(at due: Date) {
        state.withLock { state in
            state.nextDue = min(state.nextDue ?? due, due)
            if state.running != nil { state.scheduledDuringRun = min(state.scheduledDuringRun ?? due, due) }
        }
    }

    /// Completes what is due (joining the run under way, or starting one), until nothing is due; with
    /// `force`, runs at least once. Returns the last run's failure, if it failed.
    @discardableResult
    func settle(force: Bool = false, run: @escaping Run) async -> (any Error)? {
        var mustRun = force
        // Bounded: each pass either finds nothing due or completes what was due when it began.
        for _ in 0..<3 {
            let task: Task<Result<Date?, any Error>, Never>? = state.withLock { state in
                if let running = state.running { return running }
                guard mustRun || (state.nextDue ?? .distantFuture) <= Date() else { return nil }
                let task = Task { await run() }
                state.running = task
                return task
            }
            guard let task else { return nil }
            mustRun = false
            let result = await task.value
            state.withLock { state in
                guard state.running == task else { return }
                state.running = nil
                let next: Date? = switch result {
                case .success(let next): next
                case .failure: Date().addingTimeInterval(1)
                }
                state.nextDue = [next, state.scheduledDuringRun].compactMap { $0 }.min()
                state.scheduledDuringRun = nil
            }
            if case .failure(let error) = result { return error }
        }
        return nil
    }
}
