import Foundation
import Synchronization
import Testing
@testable import EKS

/// The one run at a time that completes due transitions, shared by the provisioner and requests.
struct TransitionScheduleTests {
    final class Counter: Sendable {
        let runs = Mutex(0)
        var count: Int { runs.withLock { $0 } }
    }

    @Test func settlingRunsOnlyWhatIsDueAndRunsItOnce() async {
        let schedule = TransitionSchedule()
        let counter = Counter()
        let later = Date().addingTimeInterval(60)
        let run: TransitionSchedule.Run = {
            counter.runs.withLock { $0 += 1 }
            return .success(later)
        }
        // Unknown at start: the first settle runs.
        await schedule.settle(run: run)
        #expect(counter.count == 1 && schedule.nextDue == later)
        // Nothing due: requests go straight on.
        await schedule.settle(run: run)
        #expect(counter.count == 1)
        schedule.scheduled(at: Date())
        await schedule.settle(run: run)
        #expect(counter.count == 2)
        await schedule.settle(force: true, run: run)
        #expect(counter.count == 3)
    }

    @Test func concurrentSettlesJoinOneRun() async {
        let schedule = TransitionSchedule()
        let counter = Counter()
        let run: TransitionSchedule.Run = {
            counter.runs.withLock { $0 += 1 }
            try? await Task.sleep(for: .milliseconds(50))
            return .success(nil)
        }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<10 { group.addTask { await schedule.settle(run: run) } }
        }
        #expect(counter.count == 1)
        #expect(schedule.nextDue == nil)
    }

    @Test func aTransitionScheduledDuringARunIsNotLost() async {
        let schedule = TransitionSchedule()
        let counter = Counter()
        let run: TransitionSchedule.Run = {
            let first = counter.runs.withLock { runs in
                runs += 1
                return runs == 1
            }
            // The first run read the records before this write; it reports nothing more due.
            if first { schedule.scheduled(at: Date()) }
            return .success(nil)
        }
        await schedule.settle(run: run)
        // The settle saw the new transition due and ran again.
        #expect(counter.count == 2)
    }

    @Test func aFailedRunIsRetriedAfterASecond() async {
        struct Failure: Error {}
        let schedule = TransitionSchedule()
        let failure = await schedule.settle { .failure(Failure()) }
        #expect(failure is Failure)
        #expect(schedule.nextDue.map { $0 > Date() && $0 < Date().addingTimeInterval(2) } == true)
    }
}
