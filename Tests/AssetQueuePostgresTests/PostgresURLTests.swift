import AssetQueuePostgres
import XCTest

/// Queue URLs as operators write them, and the typed error for every malformed one.
final class PostgresURLTests: XCTestCase {
    func testWellFormedURLs() throws {
        let full = try PostgresURL("postgres://aw:p%40ss@db.example.org:6543/assets")
        XCTAssertEqual(full, PostgresURL(user: "aw", password: "p@ss", host: "db.example.org", port: 6543, database: "assets"))
        XCTAssertEqual(full.tls, .prefer, "a remote server gets TLS when it offers it")
        XCTAssertEqual(full.description, "postgres://aw:***@db.example.org:6543/assets")

        let local = try PostgresURL("postgresql://postgres@127.0.0.1/worker_test")
        XCTAssertEqual(local.port, 5432)
        XCTAssertNil(local.password)
        XCTAssertEqual(local.tls, .disable, "loopback needs no TLS")

        XCTAssertEqual(try PostgresURL("postgres://aw@[::1]:55432/q").host, "::1")
        XCTAssertEqual(try PostgresURL("postgres://aw@db/q?sslmode=require").tls, .require)
        XCTAssertEqual(try PostgresURL("postgres://aw@localhost:1/q").with(database: "postgres").database, "postgres")
    }

    func testMalformedURLsGetATypedErrorThatHidesThePassword() {
        let bad = [
            "", "mysql://aw@db/assets", "postgres://", "postgres://db/assets", "postgres://aw@db", "postgres://aw@db/",
            "postgres://aw@:5432/assets", "postgres://aw@db:0/assets", "postgres://aw@db:99999/assets", "postgres://aw@db:x/assets",
            "postgres://:secret@db/assets", "postgres://aw@db/a/b", "postgres://aw@[::1/assets", "postgres://aw@d b/assets",
            "postgres://aw@db/assets?sslmode=maybe", "postgres://aw@db/assets?application_name=x", "postgres://aw:se%ZZcret@db/assets",
        ]
        for text in bad {
            do {
                _ = try PostgresURL(text)
                XCTFail("accepted: \(text)")
            } catch {
                XCTAssertFalse(error.reason.isEmpty, text)
                XCTAssertFalse(error.description.contains("secret"), "the password leaked: \(error)")
            }
        }
    }

    func testTheStoreInitializerRefusesAMalformedURL() {
        XCTAssertThrowsError(try PostgresJobStore(url: "postgres://aw@db")) { error in
            XCTAssertTrue(error is PostgresURLError, "\(error)")
        }
    }
}
