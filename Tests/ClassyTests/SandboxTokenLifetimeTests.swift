import XCTest
@testable import ClassySandbox

/// A token's lifetime is counted from the moment it is issued, not from the
/// start of the second it was issued in: a 1 s token issued at 10.9 s must
/// still be good at 11.5 s. (Counting in whole seconds made such a token
/// live anywhere between 0 and 1 s, and SandboxAuthTests flaky under load.)
final class SandboxTokenLifetimeTests: XCTestCase {
    func testAOneSecondTokenLivesAtLeastNineTenthsOfASecondWhenEverItIsIssued() async throws {
        let state = try SandboxState(dataDirectory: nil, faults: SandboxFaults(), seed: 7)
        let app = SandboxClientApp(clientID: "c", clientSecret: "s")
        // Tokens issued 0.2 s apart across a whole second, so one lands near its end.
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<5 {
                group.addTask {
                    try await Task.sleep(until: start + .milliseconds(200 * i))
                    let issued = ContinuousClock.now
                    let token = await state.issueToken(app: app, lifetime: 1)
                    try await Task.sleep(until: issued + .milliseconds(900))
                    return await state.token(token) != nil
                }
            }
            for try await stillValid in group {
                XCTAssertTrue(stillValid, "a 1 s token expired before 0.9 s had passed")
            }
        }
    }

    func testAOneSecondTokenIsGoneAfterItsSecond() async throws {
        let state = try SandboxState(dataDirectory: nil, faults: SandboxFaults(), seed: 7)
        let token = await state.issueToken(app: SandboxClientApp(clientID: "c", clientSecret: "s"), lifetime: 1)
        try await Task.sleep(for: .milliseconds(1100))
        let valid = await state.token(token) != nil
        XCTAssertFalse(valid)
    }
}
