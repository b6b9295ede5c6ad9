import Foundation
import Imaging
import XCTest
@testable import AssetPipeline

/// The manifest's `crop`, `focus` and `gravity` keys (see `CropKeys`).
final class CropManifestTests: XCTestCase {
    /// Manifests are parsed as if they lived in the project root, so `TestImages/...` sources resolve.
    static let projectRoot = ManifestTests.testImages.deletingLastPathComponent().path

    func load(_ text: String) throws -> Manifest {
        try ManifestLoader().parse(text, baseDirectory: Self.projectRoot)
    }

    func problems(_ text: String) -> [ManifestProblem] {
        do {
            _ = try ManifestLoader().parse(text, baseDirectory: Self.projectRoot)
        } catch {
            XCTAssertEqual(error.code, .invalid)
            return error.problems
        }
        XCTFail("the manifest was accepted")
        return []
    }

    static let cropExample = """
        defaults:
          campaign: 1001
          gravity: north

        jobs:
          - role: ecard
            source: TestImages/ecard-landscape-exif6.jpg
            order: 1
            crop: attention
          - role: logo
            source: TestImages/campaign-logo.png
            thumbnails: [100x100]
          - role: sponsor
            source: TestImages/sponsor-cogs.gif
            matching_plan: 555
            thumbnails: [200x200]
            focus: {x: 10, y: 20}
          - role: asset
            source: TestImages/campaign-logo.png
            crop: entropy
            actions:
              - thumbnails: [50x50]
              - thumbnails: {sizes: [60x60], fit: contain}
              - crop: {x: 0, y: 0, width: 50, height: 50}
        """

    func testTheKeysSteerEveryCoverCropOfTheirJob() throws {
        let jobs = try load(Self.cropExample).jobs
        XCTAssertEqual(jobs[0].actions, [.thumbnails([PixelSize(width: 600, height: 400)], fit: .cover, crop: .attention)])
        XCTAssertEqual(jobs[0].attach, .child(type: "thumbnail_600_400"))
        // The default applies where the job says nothing.
        XCTAssertEqual(jobs[1].actions, [.thumbnails([PixelSize(width: 100, height: 100)], fit: .cover, crop: .gravity(.north))])
        XCTAssertEqual(jobs[2].actions, [.thumbnails([PixelSize(width: 200, height: 200)], fit: .cover, crop: .focus(x: 10, y: 20))])
        // Contain thumbnails and crop boxes are not cover crops.
        XCTAssertEqual(jobs[3].actions, [
            .thumbnails([PixelSize(width: 50, height: 50)], fit: .cover, crop: .entropy),
            .thumbnails([PixelSize(width: 60, height: 60)], fit: .contain, crop: .centre),
            .crop(x: 0, y: 0, width: 50, height: 50),
        ])
    }

    func testChangingAStrategyChangesOnlyThatJobsKey() throws {
        let first = try load(Self.cropExample).jobs.map(\.key)
        let changed = try load(Self.cropExample.replacingOccurrences(of: "crop: attention", with: "crop: entropy")).jobs.map(\.key)
        XCTAssertEqual(zip(first, changed).map { $0 != $1 }, [true, false, false, false])

        // `crop: centre` is today's behaviour: the same key as a job that never named a strategy.
        let plain = try load("jobs:\n  - {role: logo, source: TestImages/campaign-logo.png, campaign: 1, thumbnails: [100x100]}\n")
        let centre = try load("jobs:\n  - {role: logo, source: TestImages/campaign-logo.png, campaign: 1, thumbnails: [100x100], crop: centre}\n")
        XCTAssertEqual(plain.jobs[0].key, centre.jobs[0].key)
    }

    func testBadValuesAreReportedWithLineAndColumn() throws {
        let text = """
            defaults:
              crop: sideways
            jobs:
              - role: logo
                source: TestImages/campaign-logo.png
                campaign: 1
                crop: north
              - role: logo
                source: TestImages/campaign-logo.png
                campaign: 2
                gravity: nort
              - role: logo
                source: TestImages/campaign-logo.png
                campaign: 3
                focus: {x: -1, y: 2}
              - role: logo
                source: TestImages/campaign-logo.png
                campaign: 4
                focus: {x: 5}
              - role: logo
                source: TestImages/campaign-logo.png
                campaign: 5
                crop: attention
                gravity: south
              - role: logo
                source: TestImages/campaign-logo.png
                campaign: 6
                focus: {x: 5000, y: 10}
              - role: logo
                source: TestImages/campaign-logo.png
                campaign: 7
                crop: center
            """
        let found = problems(text)
        let expected: [(line: Int, column: Int, text: String)] = [
            (2, 9, "unknown crop strategy 'sideways'"),
            (7, 11, "`crop: north` is a side; write `gravity: north`"),
            (11, 14, "did you mean 'north'?"),
            (15, 16, "focus `x` must be a whole number of pixels, 0 or more, not '-1'"),
            (19, 12, "`focus` needs both x and y; missing y"),
            (24, 5, "give one of `crop`, `focus` or `gravity`, not `crop` and `gravity`"),
            (28, 12, "focus (5000, 10) is outside the 1000x400 source"),
            (32, 11, "did you mean 'centre'?"),
        ]
        for problem in expected {
            XCTAssertTrue(found.contains { $0.line == problem.line && $0.column == problem.column && $0.message.contains(problem.text) },
                          "no problem '\(problem.text)' at line \(problem.line), column \(problem.column) in:\n\(found.map(\.description).joined(separator: "\n"))")
        }
        XCTAssertEqual(found.count, expected.count, found.map(\.description).joined(separator: "\n"))
    }

    /// A batch built in code with `crop` is the same batch as the YAML.
    func testABatchBuiltInCodeCarriesTheStrategy() throws {
        let fromFile = try load(Self.cropExample)
        let fromCode = try Manifest.build([
            JobSpec(source: "TestImages/ecard-landscape-exif6.jpg", target: .ecard(campaign: 1001, order: 1), crop: .attention),
            JobSpec(source: "TestImages/campaign-logo.png", target: .logo(campaign: 1001), thumbnails: [PixelSize(width: 100, height: 100)],
                    crop: .gravity(.north)),
            JobSpec(source: "TestImages/sponsor-cogs.gif", target: .sponsor(matchingPlan: 555), thumbnails: [PixelSize(width: 200, height: 200)],
                    crop: .focus(x: 10, y: 20)),
            JobSpec(source: "TestImages/campaign-logo.png", target: .asset, actions: [
                .thumbnails([PixelSize(width: 50, height: 50)], fit: .cover, crop: .entropy),
                .thumbnails([PixelSize(width: 60, height: 60)], fit: .contain), .crop(x: 0, y: 0, width: 50, height: 50),
            ]),
        ], workingDirectory: Self.projectRoot)
        XCTAssertEqual(fromCode.jobs.map(\.actions), fromFile.jobs.map(\.actions))
        XCTAssertEqual(fromCode.jobs.map(\.key), fromFile.jobs.map(\.key))
    }
}
