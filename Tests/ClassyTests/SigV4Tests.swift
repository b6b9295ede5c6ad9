import Foundation
import XCTest
@testable import SigV4

/// AWS's published example (S3 docs, "Authenticating Requests: Using Query
/// Parameters"): GET examplebucket/test.txt, 2013-05-24, one day.
final class SigV4PublishedVectorTests: XCTestCase {
    let credentials = SigV4Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                       secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    var input: PresignInput {
        PresignInput(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt",
                     date: UTCTime(year: 2013, month: 5, day: 24), expires: 86_400)
    }

    func testCanonicalRequestMatchesAWS() {
        let p = SigV4.presign(input, credentials: credentials)
        XCTAssertEqual(p.canonicalRequest, """
            GET
            /test.txt
            X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host
            host:examplebucket.s3.amazonaws.com

            host
            UNSIGNED-PAYLOAD
            """)
    }

    func testStringToSignMatchesAWS() {
        let p = SigV4.presign(input, credentials: credentials)
        XCTAssertEqual(p.stringToSign, """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04
            """)
    }

    func testSignatureAndURLMatchAWS() {
        let p = SigV4.presign(input, credentials: credentials)
        XCTAssertEqual(p.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        XCTAssertEqual("https://examplebucket.s3.amazonaws.com" + p.pathAndQuery,
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    func testVerifierAcceptsThePublishedURLWithinItsDayOnly() throws {
        let p = SigV4.presign(input, credentials: credentials)
        let verifier = PresignVerifier(keys: [credentials.accessKeyID: credentials.secretAccessKey])
        let req = ReceivedRequest(method: "GET", rawPath: "/test.txt",
                                  rawQuery: String(p.queryString),
                                  headers: ["Host": "examplebucket.s3.amazonaws.com"])
        XCTAssertNoThrow(try verifier.verify(req, now: UTCTime(year: 2013, month: 5, day: 24, hour: 23, minute: 59, second: 59)))
        XCTAssertThrowsError(try verifier.verify(req, now: UTCTime(year: 2013, month: 5, day: 25, hour: 0, minute: 0, second: 1))) {
            XCTAssertEqual(($0 as? PresignVerificationError)?.code, .expired)
            XCTAssertEqual(($0 as? PresignVerificationError)?.s3Code, "AccessDenied")
        }
    }

    func testSecretNeverInDescription() {
        XCTAssertFalse("\(credentials)".contains("wJalr"))
    }
}

/// boto3's `generate_presigned_url` for fixed inputs, captured by
/// scripts/sigv4-fixtures.py into Fixtures/boto3-presign.json.
final class SigV4Boto3FixtureTests: XCTestCase {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var name, method, host, path, encodedPath, region, amzDate, signedHeaders, signature, url: String
            var extraQuery, headers: [String: String]
            var expires: Int
        }
        var accessKeyID, secretAccessKey: String
        var cases: [Case]
    }

    func load() throws -> Fixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "boto3-presign", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func testEveryCaseSignsIdentically() throws {
        let f = try load()
        XCTAssertGreaterThanOrEqual(f.cases.count, 4)
        let creds = SigV4Credentials(accessKeyID: f.accessKeyID, secretAccessKey: f.secretAccessKey)
        for c in f.cases {
            let date = try XCTUnwrap(UTCTime(amzDate: c.amzDate))
            let p = SigV4.presign(PresignInput(method: c.method, host: c.host, path: c.path, query: c.extraQuery,
                                               headers: c.headers, region: c.region, date: date, expires: c.expires),
                                  credentials: creds)
            XCTAssertEqual(p.signature, c.signature, c.name)
            XCTAssertEqual(SigV4.encodePath(c.path), c.encodedPath, c.name)
            // Same parameters in the URL (boto3 orders them the same way).
            let ours = SigV4.parseQuery(p.queryString)
            let theirs = SigV4.parseQuery(String(c.url.split(separator: "?", maxSplits: 1)[1]))
            XCTAssertEqual(ours, theirs, c.name)
        }
    }

    func testVerifierAcceptsBoto3URLsAndRejectsTampering() throws {
        let f = try load()
        let verifier = PresignVerifier(keys: [f.accessKeyID: f.secretAccessKey])
        for c in f.cases {
            let verifierForRegion = PresignVerifier(keys: verifier.keys, region: c.region)
            let afterPath = c.url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)[3]
            let pathAndQuery = afterPath.split(separator: "?", maxSplits: 1)
            var headers = c.headers
            headers["host"] = c.host
            let now = try XCTUnwrap(UTCTime(amzDate: c.amzDate))
            let good = ReceivedRequest(method: c.method, rawPath: "/" + pathAndQuery[0], rawQuery: String(pathAndQuery[1]), headers: headers)
            XCTAssertNoThrow(try verifierForRegion.verify(good, now: now), c.name)

            var tampered = good
            tampered.rawQuery = good.rawQuery.replacingOccurrences(of: "X-Amz-Expires=\(c.expires)", with: "X-Amz-Expires=\(c.expires - 1)")
            XCTAssertThrowsError(try verifierForRegion.verify(tampered, now: now), c.name) {
                XCTAssertEqual(($0 as? PresignVerificationError)?.code, .signatureMismatch)
            }
            if c.headers["content-type"] != nil {
                var wrongType = good
                wrongType.headers["content-type"] = "application/octet-stream"
                XCTAssertThrowsError(try verifierForRegion.verify(wrongType, now: now), c.name) {
                    XCTAssertEqual(($0 as? PresignVerificationError)?.s3Code, "SignatureDoesNotMatch")
                }
                var missing = good
                missing.headers["content-type"] = nil
                XCTAssertThrowsError(try verifierForRegion.verify(missing, now: now), c.name) {
                    XCTAssertEqual(($0 as? PresignVerificationError)?.code, .missingSignedHeader)
                }
            }
            var otherKey = good
            otherKey.rawPath = good.rawPath + "x"
            XCTAssertThrowsError(try verifierForRegion.verify(otherKey, now: now), c.name)
            let later = UTCTime(epochSeconds: now.epochSeconds + Int64(c.expires) + 1)
            XCTAssertThrowsError(try verifierForRegion.verify(good, now: later), c.name) {
                XCTAssertEqual(($0 as? PresignVerificationError)?.message, "Request has expired")
            }
        }
    }

    func testUnknownKeyAndMissingParameters() {
        let verifier = PresignVerifier(keys: ["K": "S"])
        let now = UTCTime(year: 2020, month: 1, day: 1)
        let p = SigV4.presign(PresignInput(method: "PUT", host: "h", path: "/b/k", date: now, expires: 900),
                              credentials: SigV4Credentials(accessKeyID: "OTHER", secretAccessKey: "S"))
        XCTAssertThrowsError(try verifier.verify(ReceivedRequest(method: "PUT", rawPath: "/b/k", rawQuery: p.queryString, headers: ["host": "h"]), now: now)) {
            XCTAssertEqual(($0 as? PresignVerificationError)?.code, .unknownAccessKey)
        }
        XCTAssertThrowsError(try verifier.verify(ReceivedRequest(method: "PUT", rawPath: "/b/k", rawQuery: "", headers: ["host": "h"]), now: now)) {
            XCTAssertEqual(($0 as? PresignVerificationError)?.httpStatus, 400)
        }
    }
}

final class UTCTimeTests: XCTestCase {
    func testRoundTripsAndKnownEpochs() {
        XCTAssertEqual(UTCTime(year: 2016, month: 3, day: 31, hour: 22, minute: 49, second: 18).epochSeconds, 1_459_464_558)
        XCTAssertEqual(UTCTime(epochSeconds: 0), UTCTime(year: 1970, month: 1, day: 1))
        XCTAssertEqual(UTCTime(epochSeconds: 951_782_400), UTCTime(year: 2000, month: 2, day: 29))
        for s in stride(from: Int64(-86_400 * 800), to: 4_102_444_800, by: 7_777_777) {
            XCTAssertEqual(UTCTime(epochSeconds: s).epochSeconds, s)
        }
        XCTAssertNil(UTCTime(amzDate: "20160230T000000Z"))
        XCTAssertEqual(UTCTime(amzDate: "20240229T235959Z")?.amzDate, "20240229T235959Z")
    }
}
