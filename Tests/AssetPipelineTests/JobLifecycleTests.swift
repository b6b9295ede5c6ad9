import XCTest
@testable import AssetPipeline

/// The job state machine without I/O: every persisted state a run can stop in
/// (crash-restart), every event in every state, and the paths the exactly-once
/// promise rests on (intent before create, look-up after doubt).
final class JobLifecycleTests: XCTestCase {
    typealias Command = JobLifecycle.Command
    let ecard = AttachTarget.ecard(campaign: 1001, order: 1, existingCardID: nil)
    let done = Attachment.ecard(id: 9, updated: false)

    /// Drives a machine to the end, answering each command as `answer` says; returns every command seen.
    func drive(_ machine: inout JobLifecycle, answer: (Command) -> JobLifecycle.Event?) -> [Command] {
        drive(&machine) { command in answer(command).map { [$0] } ?? [] }
    }

    func drive(_ machine: inout JobLifecycle, answers: (Command) -> [JobLifecycle.Event]) -> [Command] {
        var seen: [Command] = []
        var queue = [machine.nextCommand]
        var steps = 0
        while !queue.isEmpty, steps < 100 {
            steps += 1
            let command = queue.removeFirst()
            seen.append(command)
            if case .attach = command { machine.attachSent() }
            for event in answers(command) { queue += machine.apply(event) }
        }
        return seen
    }

    /// The happy path of an eCard job: the intent is persisted before the create call.
    func happyAnswer(_ command: Command) -> JobLifecycle.Event? {
        switch command {
        case .process: .processed(positions: [0, 1], confirmed: [:], attachPosition: 1)
        case .upload: nil
        case .persistIntent: .intentPersisted
        case .attach: .attached(done)
        case .reconcile: .reconciled(nil)
        case .persistAttachment: .attachmentPersisted
        case .persistDone: .donePersisted
        case .finish, .fail: nil
        case .persistServerRequest, .callServer, .lookUpServer, .persistMadeOnServer: nil
        }
    }

    func testANewECardJobPersistsItsIntentBeforeTheCreateCallAndFinishes() {
        var machine = JobLifecycle(target: ecard, attachPosition: nil)
        var commands = [machine.nextCommand]
        XCTAssertEqual(commands, [.process])
        commands = machine.apply(.processed(positions: [0, 1], confirmed: [:], attachPosition: 1))
        XCTAssertEqual(commands, [.upload(positions: [0, 1])])
        XCTAssertEqual(machine.apply(.imageConfirmed(position: 0, assetID: 10)), [], "waits for the other image")
        XCTAssertEqual(machine.apply(.imageConfirmed(position: 1, assetID: 11)), [.persistIntent(ecard, assetID: 11)])
        XCTAssertEqual(machine.apply(.intentPersisted), [.attach(ecard, assetID: 11)])
        machine.attachSent()
        XCTAssertEqual(machine.apply(.attached(done)), [.persistAttachment(done)])
        XCTAssertEqual(machine.apply(.attachmentPersisted), [.persistDone])
        XCTAssertEqual(machine.apply(.donePersisted), [.finish])
        XCTAssertEqual(machine.state, .done)
    }

    func testAnAttachRecordedUnderItsLockGoesStraightToDone() {
        var machine = JobLifecycle(target: ecard, attachPosition: 1,
                                   resumingFrom: .init(step: .markedUploaded, confirmed: [0: 5, 1: 6], positions: [0, 1]))
        XCTAssertEqual(machine.nextCommand, .persistIntent(ecard, assetID: 6))
        XCTAssertEqual(machine.apply(.intentPersisted), [.attach(ecard, assetID: 6)])
        machine.attachSent()
        XCTAssertEqual(machine.apply(.attachedAndPersisted(done)), [.persistDone], "recorded once, with the attach")
        XCTAssertEqual(machine.state, .attached(done))
        XCTAssertEqual(machine.apply(.donePersisted), [.finish])
    }

    func testAnUpdateIsSafeToRepeatAndNeedsNoIntent() {
        let update = AttachTarget.matchingPlan(id: 5)
        var machine = JobLifecycle(target: update, attachPosition: nil)
        _ = machine.apply(.processed(positions: [0], confirmed: [:], attachPosition: 0))
        XCTAssertEqual(machine.apply(.imageConfirmed(position: 0, assetID: 3)), [.attach(update, assetID: 3)])
    }

    func testAJobWithNothingToAttachRecordsDoneAfterItsUploads() {
        var machine = JobLifecycle(target: .none, attachPosition: nil)
        _ = machine.apply(.processed(positions: [0, 1, 2], confirmed: [:], attachPosition: nil))
        _ = machine.apply(.imageConfirmed(position: 0, assetID: 1))
        _ = machine.apply(.imageConfirmed(position: 2, assetID: 3))
        XCTAssertEqual(machine.apply(.imageConfirmed(position: 1, assetID: 2)), [.persistDone])
    }

    func testALostAnswerIsLookedUpAndAdoptedInsteadOfCreatingAgain() {
        var machine = JobLifecycle(target: ecard, attachPosition: nil)
        _ = machine.apply(.processed(positions: [0], confirmed: [:], attachPosition: 0))
        _ = machine.apply(.imageConfirmed(position: 0, assetID: 7))
        _ = machine.apply(.intentPersisted)
        machine.attachSent()
        XCTAssertEqual(machine.apply(.ambiguous), [.reconcile(ecard, assetID: 7)])
        XCTAssertEqual(machine.apply(.reconciled(done)), [.persistAttachment(done)], "found: adopted, not created again")
    }

    func testALookUpThatFindsNothingCallsAgainUntilTheAttemptsRunOut() {
        var machine = JobLifecycle(target: ecard, attachPosition: nil, maxAttachAttempts: 2)
        let seen = drive(&machine, answers: { command in
            switch command {
            case .attach: [.ambiguous]
            case .upload(let positions): positions.map { .imageConfirmed(position: $0, assetID: 20 + $0) }
            default: happyAnswer(command).map { [$0] } ?? []
            }
        })
        let attaches = seen.filter { if case .attach = $0 { true } else { false } }.count
        XCTAssertEqual(attaches, 2, "one call, then one more after a look-up found nothing")
        guard case .fail = seen.last else { return XCTFail("expected a failure, got \(seen)") }
    }

    // MARK: Crash-restart from every persisted state

    func testRestartingFromEachPersistedStepContinuesWithTheRightCommand() {
        let cases: [(JobLifecycle.Persisted, Command, String)] = [
            (.init(step: .planned), .process, "planned: process"),
            (.init(step: .processed, positions: [0, 1]), .process, "processed, nothing confirmed: the bytes are needed"),
            (.init(step: .pendingCreated, confirmed: [0: 5], positions: [0, 1]), .process, "one image left: process for its bytes"),
            (.init(step: .markedUploaded, confirmed: [0: 5, 1: 6], positions: [0, 1]), .persistIntent(ecard, assetID: 6),
             "all uploaded: no processing, the intent first"),
            (.init(step: .markedUploaded, confirmed: [0: 5, 1: 6], positions: [0, 1], intentPending: true), .reconcile(ecard, assetID: 6),
             "intent persisted, no attachment: look it up before calling again"),
            (.init(step: .attached, confirmed: [0: 5, 1: 6], positions: [0, 1], attachment: done), .persistAttachment(done),
             "killed between attached and done: finish, never process again"),
            (.init(step: .attached, confirmed: [0: 5, 1: 6], positions: [0, 1]), .persistDone,
             "attached, its attachment text unreadable (an older journal): still record done"),
            (.init(step: .done), .finish, "done: nothing"),
        ]
        for (persisted, expected, why) in cases {
            let machine = JobLifecycle(target: ecard, attachPosition: 1, resumingFrom: persisted)
            XCTAssertEqual(machine.nextCommand, expected, why)
        }
    }

    func testAJobKilledBetweenAttachedAndDoneFinishesWithoutAnyAPICall() {
        var machine = JobLifecycle(target: ecard, attachPosition: 1,
                                   resumingFrom: .init(step: .attached, confirmed: [0: 5, 1: 6], positions: [0, 1], attachment: done))
        let seen = drive(&machine) { happyAnswer($0) }
        XCTAssertEqual(seen, [.persistAttachment(done), .persistDone, .finish])
    }

    func testEveryRestartPointEndsDoneWithAtMostOneCreateCall() {
        // Every prefix of the happy path's persisted states, restarted: the job
        // always finishes, and creates the eCard at most once in all.
        let persistedStates: [JobLifecycle.Persisted] = [
            .init(step: .planned),
            .init(step: .processed, positions: [0, 1]),
            .init(step: .markedUploaded, confirmed: [0: 5, 1: 6], positions: [0, 1]),
            .init(step: .markedUploaded, confirmed: [0: 5, 1: 6], positions: [0, 1], intentPending: true),
            .init(step: .attached, confirmed: [0: 5, 1: 6], positions: [0, 1], attachment: done),
        ]
        for persisted in persistedStates {
            var machine = JobLifecycle(target: ecard, attachPosition: 1, resumingFrom: persisted)
            // The eCard already exists when the intent was persisted before the kill (worst case: the call went out).
            let existsAlready = persisted.intentPending
            let seen = drive(&machine, answers: { command in
                switch command {
                case .upload(let positions):
                    // Confirmations arrive one by one.
                    return positions.map { .imageConfirmed(position: $0, assetID: 5 + $0) }
                case .reconcile: return [.reconciled(existsAlready ? done : nil)]
                default: return happyAnswer(command).map { [$0] } ?? []
                }
            })
            let creates = seen.filter { if case .attach = $0 { true } else { false } }.count
            XCTAssertEqual(machine.state, .done, "from \(persisted): \(seen)")
            XCTAssertEqual(creates, existsAlready ? 0 : (persisted.step == .attached ? 0 : 1), "from \(persisted)")
        }
    }

    // MARK: Every state × every event

    func testEveryEventInEveryStateLeadsToACommandOrAFailureNeverAHang() {
        let states: [JobLifecycle] = {
            var list: [JobLifecycle] = []
            var m = JobLifecycle(target: ecard, attachPosition: nil)
            list.append(m) // processing
            _ = m.apply(.processed(positions: [0, 1], confirmed: [:], attachPosition: 1)); list.append(m) // uploading
            _ = m.apply(.imageConfirmed(position: 0, assetID: 1)); _ = m.apply(.imageConfirmed(position: 1, assetID: 2)); list.append(m) // attaching
            _ = m.apply(.intentPersisted); list.append(m) // attaching, intent persisted
            var r = m; _ = r.apply(.ambiguous); list.append(r) // reconciling
            _ = m.apply(.attached(done)); list.append(m) // attached
            _ = m.apply(.attachmentPersisted); _ = m.apply(.donePersisted); list.append(m) // done
            var f = JobLifecycle(target: ecard, attachPosition: nil); _ = f.apply(.failed("x")); list.append(f) // failed
            return list
        }()
        let events: [JobLifecycle.Event] = [
            .processed(positions: [0, 1], confirmed: [:], attachPosition: 1), .imageConfirmed(position: 1, assetID: 2),
            .intentPersisted, .attached(done), .attachedAndPersisted(done), .ambiguous, .reconciled(done), .reconciled(nil), .attachmentPersisted,
            .donePersisted, .failed("boom"),
        ]
        XCTAssertEqual(Set(states.map { "\($0.state)".prefix(8) }).count, 7, "the states above are distinct")
        for start in states {
            for event in events {
                var machine = start
                let commands = machine.apply(event)
                if case .failed = machine.state {
                    XCTAssertTrue(commands.contains { if case .fail = $0 { true } else { false } }, "a failure says so: \(start.state) + \(event)")
                }
                if case .done = start.state {
                    XCTAssertEqual(machine.state, .done, "a finished job stays finished: \(event)")
                }
                // Every non-final state gives the runner something to do, or waits for confirmations still to come.
                if commands.isEmpty {
                    guard case let .uploading(waiting) = machine.state else {
                        return XCTFail("\(start.state) + \(event) gave no command")
                    }
                    XCTAssertFalse(waiting.isEmpty)
                }
            }
        }
    }

    // MARK: actions_on: server (the API makes the children with /process)

    /// A plain asset whose two server calls make positions 1 (a rotation) and 2, 3 (two thumbnails).
    let calls = [[1], [2, 3]]

    func testAServerJobUploadsOnlyItsOriginalAndPersistsEachRequestBeforeItsCall() {
        var machine = JobLifecycle(target: .none, attachPosition: nil, serverCalls: calls)
        XCTAssertEqual(machine.apply(.processed(positions: [0, 1, 2, 3], confirmed: [:], attachPosition: nil)), [.upload(positions: [0])],
                       "only the original is uploaded")
        XCTAssertEqual(machine.apply(.imageConfirmed(position: 0, assetID: 10)), [.persistServerRequest(call: 0)])
        XCTAssertEqual(machine.apply(.serverRequestPersisted), [.callServer(call: 0, originalID: 10)])
        machine.serverCallSent()
        XCTAssertEqual(machine.apply(.madeOnServer([1: 11])), [.persistMadeOnServer(call: 0, assetIDs: [1: 11])])
        XCTAssertEqual(machine.apply(.madeOnServerPersisted), [.persistServerRequest(call: 1)], "the next call, its request first")
        XCTAssertEqual(machine.apply(.serverRequestPersisted), [.callServer(call: 1, originalID: 10)])
        machine.serverCallSent()
        XCTAssertEqual(machine.apply(.madeOnServer([2: 12, 3: 13])), [.persistMadeOnServer(call: 1, assetIDs: [2: 12, 3: 13])])
        XCTAssertEqual(machine.apply(.madeOnServerPersisted), [.persistDone])
        XCTAssertEqual(machine.confirmed, [0: 10, 1: 11, 2: 12, 3: 13])
        XCTAssertEqual(machine.apply(.donePersisted), [.finish])
    }

    func testAServerECardAttachesTheChildTheAPIMade() {
        var machine = JobLifecycle(target: ecard, attachPosition: nil, serverCalls: [[1]])
        _ = machine.apply(.processed(positions: [0, 1], confirmed: [:], attachPosition: 1))
        _ = machine.apply(.imageConfirmed(position: 0, assetID: 10))
        _ = machine.apply(.serverRequestPersisted)
        machine.serverCallSent()
        _ = machine.apply(.madeOnServer([1: 11]))
        XCTAssertEqual(machine.apply(.madeOnServerPersisted), [.persistIntent(ecard, assetID: 11)], "the eCard shows the API's child")
    }

    func testALostProcessAnswerIsLookedUpAndAdoptedInsteadOfAskingAgain() {
        var machine = JobLifecycle(target: .none, attachPosition: nil, serverCalls: [[1, 2]])
        _ = machine.apply(.processed(positions: [0, 1, 2], confirmed: [0: 10], attachPosition: nil))
        _ = machine.apply(.serverRequestPersisted)
        machine.serverCallSent()
        XCTAssertEqual(machine.apply(.ambiguous), [.lookUpServer(call: 0, originalID: 10)])
        XCTAssertEqual(machine.apply(.lookedUpOnServer([1: 11, 2: 12])), [.persistMadeOnServer(call: 0, assetIDs: [1: 11, 2: 12])])
        XCTAssertEqual(machine.serverAttempts, 1, "one call in all")
    }

    func testALookUpThatFindsNothingAsksAgainUntilTheAttemptsRunOut() {
        var machine = JobLifecycle(target: .none, attachPosition: nil, serverCalls: [[1]], maxAttachAttempts: 2)
        _ = machine.apply(.processed(positions: [0, 1], confirmed: [0: 10], attachPosition: nil))
        _ = machine.apply(.serverRequestPersisted)
        machine.serverCallSent()
        _ = machine.apply(.ambiguous)
        XCTAssertEqual(machine.apply(.lookedUpOnServer([:])), [.callServer(call: 0, originalID: 10)], "nothing there: safe to ask again")
        machine.serverCallSent()
        _ = machine.apply(.ambiguous)
        guard case .fail = machine.apply(.lookedUpOnServer([:])).first else { return XCTFail("two calls, then a failure") }
    }

    func testSomeButNotAllChildrenOfACallFailTheJobRatherThanMakingThemTwice() {
        var machine = JobLifecycle(target: .none, attachPosition: nil, serverCalls: [[1, 2]])
        _ = machine.apply(.processed(positions: [0, 1, 2], confirmed: [0: 10], attachPosition: nil))
        _ = machine.apply(.serverRequestPersisted)
        machine.serverCallSent()
        _ = machine.apply(.ambiguous)
        let commands = machine.apply(.lookedUpOnServer([1: 11]))
        guard case let .fail(reason) = commands.first else { return XCTFail("\(commands)") }
        XCTAssertTrue(reason.contains("1 of the 2"), reason)
    }

    func testAServerJobRestartsFromEachPersistedStepWithTheRightCommand() {
        let cases: [(JobLifecycle.Persisted, Command, String)] = [
            (.init(step: .processed, positions: [0, 1, 2, 3]), .process, "the original is not up: its bytes are needed"),
            (.init(step: .processed, confirmed: [0: 10], positions: [0, 1, 2, 3]), .persistServerRequest(call: 0),
             "the original is up: no processing, the first request"),
            (.init(step: .processRequested, confirmed: [0: 10], positions: [0, 1, 2, 3], requested: [1]), .lookUpServer(call: 0, originalID: 10),
             "a request with no answer recorded: look it up before asking again"),
            (.init(step: .processed, confirmed: [0: 10, 1: 11], positions: [0, 1, 2, 3]), .persistServerRequest(call: 1),
             "the first call recorded: the second"),
            (.init(step: .processRequested, confirmed: [0: 10, 1: 11], positions: [0, 1, 2, 3], requested: [2, 3]),
             .lookUpServer(call: 1, originalID: 10), "the second call's request persisted"),
            (.init(step: .markedUploaded, confirmed: [0: 10, 1: 11, 2: 12, 3: 13], positions: [0, 1, 2, 3]), .persistDone,
             "every image made: done is left"),
        ]
        for (persisted, expected, why) in cases {
            let machine = JobLifecycle(target: .none, attachPosition: nil, serverCalls: calls, resumingFrom: persisted)
            XCTAssertEqual(machine.nextCommand, expected, why)
        }
    }

    func testEveryServerRestartPointEndsDoneWithEachCallMadeAtMostOnce() {
        // Restart from every persisted state of the happy path; in the worst case the
        // persisted request's call went out, so its children exist and the look-up finds them.
        let persistedStates: [JobLifecycle.Persisted] = [
            .init(step: .planned),
            .init(step: .processed, positions: [0, 1, 2, 3]),
            .init(step: .processed, confirmed: [0: 10], positions: [0, 1, 2, 3]),
            .init(step: .processRequested, confirmed: [0: 10], positions: [0, 1, 2, 3], requested: [1]),
            .init(step: .processed, confirmed: [0: 10, 1: 11], positions: [0, 1, 2, 3]),
            .init(step: .processRequested, confirmed: [0: 10, 1: 11], positions: [0, 1, 2, 3], requested: [2, 3]),
            .init(step: .markedUploaded, confirmed: [0: 10, 1: 11, 2: 12, 3: 13], positions: [0, 1, 2, 3]),
        ]
        for persisted in persistedStates {
            var machine = JobLifecycle(target: .none, attachPosition: nil, serverCalls: calls, resumingFrom: persisted)
            var made: [Int: Int] = [:]   // position -> asset id, what the API holds
            for position in persisted.requested { made[position] = 10 + position }
            var callsSent: [Int: Int] = [:]
            var seen: [Command] = []
            var queue = [machine.nextCommand]
            while !queue.isEmpty, seen.count < 100 {
                let command = queue.removeFirst()
                seen.append(command)
                switch command {
                case .process: queue += machine.apply(.processed(positions: [0, 1, 2, 3], confirmed: persisted.confirmed, attachPosition: nil))
                case let .upload(positions): for p in positions { queue += machine.apply(.imageConfirmed(position: p, assetID: 10 + p)) }
                case .persistServerRequest: queue += machine.apply(.serverRequestPersisted)
                case let .callServer(call, _):
                    machine.serverCallSent()
                    callsSent[call, default: 0] += 1
                    for p in calls[call] { made[p] = 10 + p }
                    queue += machine.apply(.madeOnServer(Dictionary(uniqueKeysWithValues: calls[call].map { ($0, 10 + $0) })))
                case let .lookUpServer(call, _):
                    queue += machine.apply(.lookedUpOnServer(made.filter { calls[call].contains($0.key) }))
                case .persistMadeOnServer: queue += machine.apply(.madeOnServerPersisted)
                case .persistDone: queue += machine.apply(.donePersisted)
                default: break
                }
            }
            XCTAssertEqual(machine.state, .done, "from \(persisted): \(seen)")
            XCTAssertTrue(callsSent.values.allSatisfy { $0 <= 1 }, "from \(persisted): \(callsSent)")
            for call in calls.indices where persisted.requested.isDisjoint(with: calls[call]) && !calls[call].allSatisfy({ persisted.confirmed[$0] != nil }) {
                XCTAssertEqual(callsSent[call], 1, "from \(persisted): call \(call) is made once")
            }
            XCTAssertEqual(machine.confirmed, [0: 10, 1: 11, 2: 12, 3: 13], "from \(persisted)")
        }
    }

    func testEveryEventInEveryServerStateLeadsToACommandOrAFailure() {
        var states: [JobLifecycle] = []
        var m = JobLifecycle(target: .none, attachPosition: nil, serverCalls: [[1]])
        _ = m.apply(.processed(positions: [0, 1], confirmed: [0: 10], attachPosition: nil)); states.append(m) // asking, not persisted
        _ = m.apply(.serverRequestPersisted); states.append(m) // asking, persisted
        var l = m; _ = l.apply(.ambiguous); states.append(l) // looking up
        _ = m.apply(.madeOnServer([1: 11])); states.append(m) // recording
        let events: [JobLifecycle.Event] = [
            .serverRequestPersisted, .madeOnServer([1: 11]), .madeOnServer([:]), .ambiguous, .lookedUpOnServer([1: 11]),
            .lookedUpOnServer([:]), .madeOnServerPersisted, .imageConfirmed(position: 1, assetID: 2), .attachmentPersisted, .failed("x"),
        ]
        XCTAssertEqual(Set(states.map { "\($0.state)" }).count, 4, "the states above are distinct")
        for start in states {
            for event in events {
                var machine = start
                let commands = machine.apply(event)
                XCTAssertFalse(commands.isEmpty, "\(start.state) + \(event) gave no command")
                if case .failed = machine.state {
                    XCTAssertTrue(commands.contains { if case .fail = $0 { true } else { false } }, "a failure says so: \(start.state) + \(event)")
                }
            }
        }
    }
}
