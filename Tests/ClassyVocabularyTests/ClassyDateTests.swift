import Foundation
import XCTest

@testable import ClassyVocabulary

final class ClassyDateTests: XCTestCase {
    func testFormatsInUTCWithTheAPIsOffsetForm() {
        // 2016-03-31T22:49:18Z, the reference's own example.
        XCTAssertEqual(ClassyDate.format(Date(timeIntervalSince1970: 1_459_464_558)), "2016-03-31T22:49:18+0000")
    }

    func testParsesOffsetsIntoUTC() throws {
        let utc = try XCTUnwrap(ClassyDate.parse("2016-03-31T22:49:18+0000"))
        XCTAssertEqual(utc.timeIntervalSince1970, 1_459_464_558)
        XCTAssertEqual(ClassyDate.parse("2016-04-01T00:49:18+0200"), utc)
        XCTAssertEqual(ClassyDate.parse("2016-03-31T17:49:18-05:00"), utc)
        XCTAssertEqual(ClassyDate.parse("2016-03-31T22:49:18Z"), utc)
    }

    func testRefusesMalformedDatetimes() {
        for bad in ["", "2016-03-31", "2016-13-31T22:49:18+0000", "2016-03-31T22:49:18+00", "2016-03-31T22:49:18 UTC"] {
            XCTAssertNil(ClassyDate.parse(bad), bad)
        }
    }

}
