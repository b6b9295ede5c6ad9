import Foundation
import Imaging
import XCTest
@testable import AssetPipeline

final class ManifestTests: XCTestCase {
    static let testImages = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TestImages")

    var folder: URL!

    /// A temporary folder with `TestImages` linked in, so manifests can use relative sources.
    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("TestImages"), withDestinationURL: Self.testImages)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func write(_ text: String, _ name: String = "jobs.yaml") throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Problems of a manifest that must be refused.
    func problems(_ text: String, _ name: String = "jobs.yaml") throws -> [ManifestProblem] {
        let path = try write(text, name)
        do {
            _ = try Manifest.load(path: path)
        } catch {
            XCTAssertEqual(error.code, .invalid)
            return error.problems
        }
        XCTFail("the manifest was accepted")
        return []
    }

    /// Writes a 600x400 PNG (an exact eCard).
    func writeExactEcard() throws -> String {
        var pixels = PixelBuffer(width: 600, height: 400, layout: .rgb)
        for i in stride(from: 0, to: pixels.bytes.count, by: 3) { pixels.bytes[i] = 200 }
        let bytes = try ImageEncoder.encode(Image(pixels: pixels), as: .png)
        let path = folder.appendingPathComponent("exact-ecard.png").path
        try ImageFile.write(bytes, to: path)
        return path
    }

    static let fullExample = """
        defaults:
          member_id: 42
          campaign: 1001
          format: same

        jobs:
          - role: logo
            source: TestImages/campaign-logo.png
            campaign: 1001
            thumbnails: [100x100, 150x150]

          - role: ecard
            source: TestImages/ecard-landscape-exif6.jpg
            order: 1
            strict: false

          - role: social
            source: TestImages/social-ladybird.jpg
            appeal_set: 77

          - role: sponsor
            source: TestImages/sponsor-cogs.gif
            matching_plan: 555
            thumbnails: [200x200]

          - role: asset
            source: TestImages/campaign-logo.png
            format: png
            actions:
              - thumbnails: {sizes: [100x100], fit: contain}
              - crop: {x: 0, y: 0, width: 50, height: 50}
              - scale: {width: 300}
              - rotate: {angle: 90}
        """

    func testTheDocumentedExampleGivesTheJobsItDescribes() throws {
        let manifest = try Manifest.load(path: write(Self.fullExample))
        XCTAssertEqual(manifest.jobs.count, 5)
        let (logo, ecard, social, sponsor, asset) = (manifest.jobs[0], manifest.jobs[1], manifest.jobs[2], manifest.jobs[3], manifest.jobs[4])

        XCTAssertEqual(logo.role, .logo(campaign: 1001))
        XCTAssertEqual(logo.line, 7)
        XCTAssertEqual(logo.actions, [.thumbnails([PixelSize(width: 100, height: 100), PixelSize(width: 150, height: 150)], fit: .cover)])
        XCTAssertEqual(logo.attach, .original)
        XCTAssertEqual(logo.memberID, 42)
        XCTAssertEqual(logo.source, folder.appendingPathComponent("TestImages/campaign-logo.png").path)
        XCTAssertTrue(logo.source.hasPrefix("/"))

        // The campaign comes from the defaults; the photo stored sideways (1200x1800, EXIF orientation 6,
        // upright 1800x1200) is cover-cropped to 600x400.
        XCTAssertEqual(ecard.role, .ecard(campaign: 1001, order: 1, strict: false))
        XCTAssertEqual(ecard.line, 12)
        XCTAssertEqual([ecard.sourceInfo.width, ecard.sourceInfo.height, ecard.sourceInfo.orientation], [1200, 1800, 6])
        XCTAssertEqual([ecard.sourceInfo.displayWidth, ecard.sourceInfo.displayHeight], [1800, 1200])
        XCTAssertEqual(ecard.actions, [.thumbnails([PixelSize(width: 600, height: 400)], fit: .cover)])
        XCTAssertEqual(ecard.attach, .child(type: "thumbnail_600_400"))

        XCTAssertEqual(social.role, .social(.appealSet(77)))
        XCTAssertEqual(sponsor.role, .sponsor(matchingPlan: 555))
        XCTAssertEqual(sponsor.sourceInfo.format, .gif)

        XCTAssertEqual(asset.role, .asset)
        XCTAssertNil(asset.attach)
        XCTAssertEqual(asset.outputFormat, .png)
        XCTAssertEqual(asset.actions, [
            .thumbnails([PixelSize(width: 100, height: 100)], fit: .contain),
            .crop(x: 0, y: 0, width: 50, height: 50),
            .scale(width: 300, height: nil),
            .rotate(degrees: 90),
        ])
        XCTAssertEqual(Set(manifest.jobs.map(\.key)).count, 5)
        XCTAssertEqual(manifest.ecardJobsByCampaign.mapValues { $0.map(\.index) }, [1001: [1]])
    }

    /// The example in `Manifest`'s doc comment (which the README copies) is a valid manifest.
    func testTheExampleInTheDocCommentIsValid() throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/AssetPipeline/Manifest/Manifest.swift")
        let lines = try String(contentsOf: source, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let start = try XCTUnwrap(lines.firstIndex { $0.contains("/// ```yaml") })
        let end = try XCTUnwrap(lines[(start + 1)...].firstIndex { $0.contains("/// ```") })
        let yaml = lines[(start + 1) ..< end].map { line in
            line.trimmingCharacters(in: .whitespaces) == "///" ? "" : String(line.drop { $0 == " " }.dropFirst(4))
        }.joined(separator: "\n")
        let manifest = try Manifest.load(path: write(yaml))
        XCTAssertEqual(manifest.jobs.map(\.role.name), ["logo", "ecard", "social", "sponsor", "asset"])
    }

    func testEveryProblemIsReportedAtOnceWithItsLine() throws {
        try "just text".write(to: folder.appendingPathComponent("notes.png"), atomically: true, encoding: .utf8)
        let text = """
            jobs:
              - role: logo
                source: TestImages/campaign-logo.png
                campaign: 1001
                thumbnail: [100x100]
              - role: banner
                source: TestImages/campaign-logo.png
              - role: asset
                source: TestImages/missing.png
              - role: asset
                source: notes.png
              - role: asset
              - role: asset
                source: TestImages/campaign-logo.png
                actions:
                  - thumbnails: [100by100, 0x10]
                  - crop: {x: 0, y: 0, width: 50}
                  - crop: {x: 990, y: 0, width: 50, height: 50}
                  - scale: {}
                  - flip: {}
              - role: ecard
                source: TestImages/ecard-landscape-exif6.jpg
                campaign: 1001
              - role: ecard
                source: TestImages/ecard-landscape-exif6.jpg
                order: 1
              - role: ecard
                source: TestImages/ecard-landscape-exif6.jpg
                campaign: 7
                order: 1
                strict: true
              - role: logo
                source: TestImages/campaign-logo.png
                campaign: 1001
                order: 3
            """
        let found = try problems(text)
        let expected: [(Int, String)] = [
            (5, "unknown key `thumbnail`"), (5, "did you mean 'thumbnails'?"),
            (6, "unknown role 'banner'"),
            (9, "source file not found"),
            (11, "not a usable PNG, JPEG or GIF"),
            (12, "has no `source`"),
            (16, "'100by100' is not a size"), (16, "0x10 is out of range"),
            (17, "missing height"),
            (16, "does not fit inside the 1000x400 source"),
            (19, "`scale` needs width or height"),
            (20, "unknown action 'flip'"),
            (21, "an ecard needs `order`"),
            (24, "an ecard needs `campaign`"),
            (28, "a strict ecard must be exactly 600x400 (upright); this source is 1800x1200"),
            (35, "`order` is not used by role 'logo'"),
        ]
        for (line, text) in expected {
            XCTAssertTrue(found.contains { $0.line == line && $0.message.contains(text) }, "no problem '\(text)' at line \(line) in:\n\(found.map(\.description).joined(separator: "\n"))")
        }
        XCTAssertEqual(found.map(\.line), found.map(\.line).sorted(), "sorted by line")
        XCTAssertTrue(found.allSatisfy { $0.column != nil })
    }

    func testEcardLimitsWithinOneManifest() throws {
        var text = "defaults: {campaign: 1001}\njobs:\n"
        // The second order 2 uses another source: the same source would also make it a duplicate job.
        for (order, source) in [(1, "ecard-landscape-exif6.jpg"), (2, "ecard-landscape-exif6.jpg"), (2, "social-ladybird.jpg"),
                                (3, "ecard-landscape-exif6.jpg"), (4, "ecard-landscape-exif6.jpg")] {
            text += "  - {role: ecard, source: TestImages/\(source), order: \(order)}\n"
        }
        text += "  - {role: ecard, source: TestImages/ecard-landscape-exif6.jpg, order: 1, campaign: 2002}\n"
        let found = try problems(text)
        XCTAssertEqual(found.count, 2, found.map(\.description).joined(separator: "\n"))
        XCTAssertEqual(found[0].line, 5)
        XCTAssertTrue(found[0].message.contains("already has an ecard with order 2 (line 4)"), found[0].message)
        XCTAssertEqual(found[1].line, 7)
        XCTAssertTrue(found[1].message.contains("more than 4 eCards"), found[1].message)
    }

    func testAnExactEcardPassesThroughUnchangedEvenWhenStrict() throws {
        let path = try writeExactEcard()
        let manifest = try Manifest.load(path: write("jobs:\n  - {role: ecard, source: \(path), campaign: 5, order: 2, strict: true}\n"))
        XCTAssertEqual(manifest.jobs[0].actions, [])
        XCTAssertEqual(manifest.jobs[0].attach, .original)
        XCTAssertEqual(manifest.jobs[0].role, .ecard(campaign: 5, order: 2, strict: true))
    }

    func testJSONManifestsAreReadWithLinesToo() throws {
        let good = """
            {
              "defaults": {"campaign": 1001},
              "jobs": [
                {"role": "logo", "source": "TestImages/campaign-logo.png", "thumbnails": ["100x100"]},
                {"role": "social", "source": "TestImages/social-ladybird.jpg"}
              ]
            }
            """
        let manifest = try Manifest.load(path: write(good, "jobs.json"))
        XCTAssertEqual(manifest.jobs.map(\.role), [.logo(campaign: 1001), .social(.campaign(1001))])
        XCTAssertEqual(manifest.jobs.map(\.line), [4, 5])
        // Indented with tabs, as some editors write JSON (YAML forbids tabs as indentation).
        let tabbed = try Manifest.load(path: write(good.replacingOccurrences(of: "  ", with: "\t"), "tabbed.json"))
        XCTAssertEqual(tabbed.jobs.map(\.line), [4, 5])

        let bad = """
            {
              "jobs": [
                {"role": "logo", "source": "TestImages/campaign-logo.png", "campaign": 1},
                {"role": "sponsor", "source": "TestImages/sponsor-cogs.gif", "matching_plan": "five"}
              ]
            }
            """
        let found = try problems(bad, "bad.json")
        XCTAssertEqual(found.map(\.line), [4])
        XCTAssertTrue(found[0].message.contains("`matching_plan` must be a whole number"), found[0].message)
    }

    func testSyntaxErrorsHaveTheirLine() throws {
        let path = try write("jobs:\n  - role: logo\n    source: [unclosed\n")
        XCTAssertThrowsError(try Manifest.load(path: path)) { error in
            let error = error as! ManifestError
            XCTAssertEqual(error.code, .syntax)
            XCTAssertEqual(error.problems.count, 1)
            XCTAssertGreaterThanOrEqual(error.problems[0].line, 3)
        }
    }

    func testKeysAreStableAndOnlyAChangedJobGetsANewKey() throws {
        let first = try Manifest.load(path: write(Self.fullExample)).jobs.map(\.key)
        let again = try Manifest.load(path: write(Self.fullExample)).jobs.map(\.key)
        XCTAssertEqual(first, again)

        // One job changed (a thumbnail size), another restates a default (no change in meaning): only the first key differs.
        var changed = Self.fullExample.replacingOccurrences(of: "thumbnails: [200x200]", with: "thumbnails: [201x200]")
        changed = changed.replacingOccurrences(of: "appeal_set: 77", with: "appeal_set: 77\n    member_id: 42")
        let keys = try Manifest.load(path: write(changed)).jobs.map(\.key)
        XCTAssertEqual(zip(first, keys).filter { $0 != $1 }.count, 1)
        XCTAssertNotEqual(first[3], keys[3])

        // The same content under another name is the same job; other content is another job.
        try FileManager.default.copyItem(at: Self.testImages.appendingPathComponent("campaign-logo.png"), to: folder.appendingPathComponent("renamed.png"))
        let moved = try Manifest.load(path: write("jobs:\n  - {role: logo, source: renamed.png, campaign: 1001, member_id: 42, thumbnails: [100x100, 150x150]}\n"))
        XCTAssertEqual(moved.jobs[0].key, first[0])
        let other = try Manifest.load(path: write("jobs:\n  - {role: logo, source: TestImages/palette-basn3p08.png, campaign: 1001, member_id: 42, thumbnails: [100x100, 150x150]}\n"))
        XCTAssertNotEqual(other.jobs[0].key, first[0])
    }

    func testTheSameJobTwiceIsAProblem() throws {
        let found = try problems("jobs:\n  - {role: asset, source: TestImages/campaign-logo.png}\n  - {role: asset, source: TestImages/campaign-logo.png}\n")
        XCTAssertEqual(found.map(\.line), [3])
    }

    func testACommandLineJobIsTheSameJobAsInAFile() throws {
        let fromFile = try Manifest.load(path: write("jobs:\n  - {role: logo, source: TestImages/campaign-logo.png, campaign: 1001, thumbnails: [100x100, 150x150]}\n"))
        let fromOptions = try Manifest.singleJob(source: "TestImages/campaign-logo.png", role: "logo", campaign: 1001,
                                                 thumbnails: ["100x100,150x150"], workingDirectory: folder.path)
        XCTAssertEqual(fromOptions.jobs.count, 1)
        XCTAssertEqual(fromOptions.jobs[0].key, fromFile.jobs[0].key)
        XCTAssertEqual(fromOptions.jobs[0].actions, fromFile.jobs[0].actions)
        XCTAssertNil(fromOptions.path)

        XCTAssertThrowsError(try Manifest.singleJob(source: "TestImages/campaign-logo.png", role: "ecard", thumbnails: ["10x10"], workingDirectory: folder.path)) { error in
            let problems = (error as! ManifestError).problems
            XCTAssertTrue(problems.allSatisfy { $0.line == 0 })
            XCTAssertTrue(problems.contains { $0.message.contains("needs `order`") })
            XCTAssertTrue(problems.contains { $0.message.contains("needs `campaign`") })
            XCTAssertTrue(problems.contains { $0.message.contains("`thumbnails` is not used by role 'ecard'") })
        }
    }

    /// A batch built in Swift is the same batch as the documented YAML: same jobs, same keys.
    func testABatchBuiltInCodeIsTheSameAsTheManifestFile() throws {
        let fromFile = try Manifest.load(path: write(Self.fullExample))
        let logo = "TestImages/campaign-logo.png"
        let fromCode = try Manifest.build([
            JobSpec(source: logo, target: .logo(campaign: 1001), thumbnails: [PixelSize(width: 100, height: 100), PixelSize(width: 150, height: 150)], memberID: 42),
            JobSpec(source: "TestImages/ecard-landscape-exif6.jpg", target: .ecard(campaign: 1001, order: 1), memberID: 42),
            JobSpec(source: "TestImages/social-ladybird.jpg", target: .social(.appealSet(77)), memberID: 42),
            JobSpec(source: "TestImages/sponsor-cogs.gif", target: .sponsor(matchingPlan: 555), thumbnails: [PixelSize(width: 200, height: 200)], memberID: 42),
            JobSpec(source: logo, target: .asset, actions: [
                .thumbnails([PixelSize(width: 100, height: 100)], fit: .contain), .crop(x: 0, y: 0, width: 50, height: 50),
                .scale(width: 300, height: nil), .rotate(degrees: 90),
            ], format: .png, memberID: 42),
        ], workingDirectory: folder.path)
        XCTAssertEqual(fromCode.jobs.map(\.key), fromFile.jobs.map(\.key))
        XCTAssertEqual(fromCode.jobs.map(\.actions), fromFile.jobs.map(\.actions))
        XCTAssertEqual(fromCode.jobs.map(\.line), [1, 2, 3, 4, 5], "a job's line is its position in the list")
        XCTAssertNil(fromCode.path)
    }

    /// Problems in a batch built in code name the job by its position, all at once.
    func testABatchBuiltInCodeReportsEveryProblemByJobPosition() throws {
        let specs = [
            JobSpec(source: "TestImages/campaign-logo.png", target: .logo(campaign: 1001)),
            JobSpec(source: "TestImages/ecard-landscape-exif6.jpg", target: .ecard(campaign: 1001, order: 1)),
            JobSpec(source: "TestImages/no-such-file.png", target: .asset),
            JobSpec(source: "TestImages/social-ladybird.jpg", target: .ecard(campaign: 1001, order: 1)),
            JobSpec(source: "TestImages/campaign-logo.png", target: .ecard(campaign: 1001, order: 2), thumbnails: [PixelSize(width: 10, height: 10)]),
        ]
        XCTAssertThrowsError(try Manifest.build(specs, workingDirectory: folder.path)) { error in
            let error = error as! ManifestError
            XCTAssertEqual(error.code, .invalid)
            XCTAssertEqual(error.origin, "code")
            XCTAssertEqual(Set(error.problems.map(\.line)), [3, 4, 5], error.description)
            XCTAssertTrue(error.problems.contains { $0.line == 4 && $0.message.contains("(job 2)") }, error.description)
        }
    }

    /// Sources are quoted, so any file name a user has survives the trip through YAML.
    func testABatchBuiltInCodeTakesAnyFileName() throws {
        let name = "we\"ird: #name, [x] {y} \\ ✓\n.png"
        let path = folder.appendingPathComponent(name).path
        try FileManager.default.copyItem(atPath: Self.testImages.appendingPathComponent("campaign-logo.png").path, toPath: path)
        let manifest = try Manifest.build([JobSpec(source: path, target: .asset)], workingDirectory: "/")
        XCTAssertEqual(manifest.jobs.first?.source, path)
    }
}
