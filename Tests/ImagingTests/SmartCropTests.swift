import XCTest
@testable import Imaging

/// Cover-crop strategies on synthetic images whose salient part is known: a
/// patch against one edge of a flat grey frame, where a centred box cannot
/// reach it.
final class SmartCropTests: XCTestCase {
    enum Edge: CaseIterable { case left, right, top, bottom }

    /// What makes the patch stand out, one kind per attention cue.
    enum Patch: CaseIterable { case skin, saturated, detail, noise }

    static let patchSide = 160
    static let inset = 20

    /// 1200x800 for a left/right patch, 800x1200 for top/bottom; a 400x400
    /// cover thumbnail then has an 800x800 box that slides along the long side.
    static func frame(patch: Patch, at edge: Edge, layout: PixelLayout = .rgb) -> (PixelBuffer, patch: CropBox) {
        let landscape = edge == .left || edge == .right
        let (w, h) = landscape ? (1200, 800) : (800, 1200)
        let side = patchSide
        let px = switch edge { case .left: inset; case .right: w - inset - side; default: (w - side) / 2 }
        let py = switch edge { case .top: inset; case .bottom: h - inset - side; default: (h - side) / 2 }
        var random = SplitMix64(seed: 7)
        var pixels = PixelBuffer(width: w, height: h, layout: layout)
        let c = layout.channels
        for y in 0 ..< h {
            for x in 0 ..< w {
                var rgb: (UInt8, UInt8, UInt8) = (128, 128, 128)
                if (px ..< px + side).contains(x), (py ..< py + side).contains(y) {
                    switch patch {
                    case .skin: rgb = (224, 172, 138)
                    case .saturated: rgb = (220, 30, 40)
                    case .detail: rgb = ((x / 4 + y / 4) % 2 == 0) ? (20, 20, 20) : (235, 235, 235)
                    case .noise:
                        let v = UInt8(truncatingIfNeeded: random.next())
                        rgb = (v, v, v)
                    }
                }
                let i = (y * w + x) * c
                if layout.isGray {
                    pixels.bytes[i] = PixelBuffer.luma(rgb.0, rgb.1, rgb.2)
                } else {
                    (pixels.bytes[i], pixels.bytes[i + 1], pixels.bytes[i + 2]) = rgb
                }
                if layout.hasAlpha { pixels.bytes[i + c - 1] = 255 }
            }
        }
        return (pixels, CropBox(x: px, y: py, width: side, height: side))
    }

    static func contains(_ box: CropBox, _ inner: CropBox) -> Bool {
        box.x <= inner.x && box.y <= inner.y && box.x + box.width >= inner.x + inner.width && box.y + box.height >= inner.y + inner.height
    }

    func place(_ pixels: PixelBuffer, _ strategy: CropStrategy, target: PixelSize = PixelSize(width: 400, height: 400)) throws -> CoverCrop {
        let (_, placed) = try Image(pixels: pixels).thumbnailWithCrop(target, crop: strategy)
        return try XCTUnwrap(placed)
    }

    // MARK: Attention and entropy

    func testAttentionKeepsASalientPatchAtEachEdgeThatCentreCuts() throws {
        for patch in [Patch.skin, .saturated, .detail] {
            for edge in Edge.allCases {
                let (pixels, region) = Self.frame(patch: patch, at: edge)
                let centre = try place(pixels, .centre)
                XCTAssertFalse(Self.contains(centre.box, region), "\(patch) at \(edge): the centred box already holds it; the test shows nothing")
                let attention = try place(pixels, .attention)
                XCTAssertTrue(Self.contains(attention.box, region), "\(patch) at \(edge): attention chose \(attention.box), patch \(region)")
                XCTAssertEqual(attention.box.width, centre.box.width)
                XCTAssertEqual(attention.box.height, centre.box.height)
                XCTAssertNotNil(attention.warning, "\(patch) at \(edge): a moved box says so")
            }
        }
    }

    func testEntropyKeepsATexturedPatchAtEachEdgeThatCentreCuts() throws {
        for patch in [Patch.noise, .detail] {
            for edge in Edge.allCases {
                let (pixels, region) = Self.frame(patch: patch, at: edge)
                XCTAssertFalse(Self.contains(try place(pixels, .centre).box, region))
                let entropy = try place(pixels, .entropy)
                XCTAssertTrue(Self.contains(entropy.box, region), "\(patch) at \(edge): entropy chose \(entropy.box), patch \(region)")
            }
        }
    }

    func testEveryLayoutIsJudgedTheSameWay() throws {
        for layout in PixelLayout.allCases {
            let (pixels, region) = Self.frame(patch: .detail, at: .right, layout: layout)
            XCTAssertTrue(Self.contains(try place(pixels, .attention).box, region), "\(layout)")
        }
    }

    func testAFlatImageStaysCentred() throws {
        var pixels = PixelBuffer(width: 1200, height: 800, layout: .rgb)
        for i in pixels.bytes.indices { pixels.bytes[i] = 90 }
        for strategy in [CropStrategy.attention, .entropy] {
            let placed = try place(pixels, strategy)
            XCTAssertEqual(placed.box, placed.centred, "\(strategy)")
            XCTAssertNil(placed.warning)
        }
    }

    /// A transparent area never attracts the box, whatever colour its pixels hold.
    func testTransparentPixelsDoNotCount() throws {
        var (pixels, region) = Self.frame(patch: .saturated, at: .left, layout: .rgba)
        XCTAssertTrue(Self.contains(try place(pixels, .attention).box, region), "visible, the patch is kept")
        for y in 0 ..< pixels.height {
            for x in 0 ..< 200 { pixels.bytes[(y * pixels.width + x) * 4 + 3] = 0 }
        }
        XCTAssertFalse(Self.contains(try place(pixels, .attention).box, region), "hidden, it does not pull the box")
    }

    func testTheSamePixelsAndStrategyGiveTheSameBytes() throws {
        let (pixels, _) = Self.frame(patch: .skin, at: .top)
        let size = PixelSize(width: 300, height: 200)
        let first = try ImageEncoder.encode(Image(pixels: pixels).thumbnail(size, crop: .attention), as: .png)
        let again = try ImageEncoder.encode(Image(pixels: Self.frame(patch: .skin, at: .top).0).thumbnail(size, crop: .attention), as: .png)
        XCTAssertEqual(first, again)
        let centred = try ImageEncoder.encode(Image(pixels: pixels).thumbnail(size), as: .png)
        XCTAssertNotEqual(first, centred, "the strategy changes what is kept")
    }

    /// Every frame of an animation is cut from the box the first frame chose.
    func testAnAnimationKeepsOneBoxForAllFrames() throws {
        let (first, region) = Self.frame(patch: .saturated, at: .bottom)
        let flat = PixelBuffer(width: first.width, height: first.height, layout: .rgb, bytes: [UInt8](repeating: 128, count: first.bytes.count))
        let animation = Image(frames: [ImageFrame(pixels: first, delayCentiseconds: 10), ImageFrame(pixels: flat, delayCentiseconds: 10)])
        let (result, placed) = try animation.thumbnailWithCrop(PixelSize(width: 100, height: 100), crop: .attention)
        XCTAssertTrue(Self.contains(try XCTUnwrap(placed).box, region))
        XCTAssertEqual(result.frames.count, 2)
        let expected = try flat.cropped(x: placed!.box.x, y: placed!.box.y, width: placed!.box.width, height: placed!.box.height)
            .resized(width: 100, height: 100)
        XCTAssertEqual(result.frames[1].pixels, expected)
    }

    // MARK: Focus and gravity: exact boxes

    func testFocusCentresTheBoxOnThePointAsFarAsTheEdgesAllow() throws {
        let landscape = PixelBuffer(width: 1200, height: 800, layout: .rgb)
        XCTAssertEqual(try place(landscape, .focus(x: 700, y: 10)).box, CropBox(x: 300, y: 0, width: 800, height: 800))
        XCTAssertEqual(try place(landscape, .focus(x: 100, y: 400)).box, CropBox(x: 0, y: 0, width: 800, height: 800))
        XCTAssertEqual(try place(landscape, .focus(x: 1199, y: 799)).box, CropBox(x: 400, y: 0, width: 800, height: 800))
        let portrait = PixelBuffer(width: 1200, height: 1800, layout: .rgb)
        let ecard = PixelSize(width: 600, height: 400)
        XCTAssertEqual(try place(portrait, .focus(x: 600, y: 1300), target: ecard).box, CropBox(x: 0, y: 900, width: 1200, height: 800))
        XCTAssertThrowsError(try place(portrait, .focus(x: 1200, y: 10), target: ecard)) { error in
            XCTAssertEqual((error as? ImagingError)?.code, .invalidArgument)
        }
    }

    func testGravityPutsTheBoxAgainstTheSideOrCorner() throws {
        let landscape = PixelBuffer(width: 1200, height: 800, layout: .rgb)
        let expectedX: [CropGravity: Int] = [.west: 0, .northWest: 0, .southWest: 0, .east: 400, .northEast: 400, .southEast: 400,
                                             .north: 200, .south: 200, .centre: 200]
        for (side, x) in expectedX {
            XCTAssertEqual(try place(landscape, .gravity(side)).box, CropBox(x: x, y: 0, width: 800, height: 800), "\(side)")
        }
        let portrait = PixelBuffer(width: 800, height: 1200, layout: .rgb)
        let expectedY: [CropGravity: Int] = [.north: 0, .northEast: 0, .northWest: 0, .south: 400, .southEast: 400, .southWest: 400,
                                             .east: 200, .west: 200, .centre: 200]
        for (side, y) in expectedY {
            XCTAssertEqual(try place(portrait, .gravity(side)).box, CropBox(x: 0, y: y, width: 800, height: 800), "\(side)")
        }
    }

    /// The thumbnail is exactly the chosen box, resampled.
    func testTheThumbnailShowsTheChosenBox() throws {
        let (pixels, _) = Self.frame(patch: .detail, at: .left)
        let image = try Image(pixels: pixels).thumbnail(PixelSize(width: 200, height: 200), crop: .gravity(.west))
        let expected = try pixels.cropped(x: 0, y: 0, width: 800, height: 800).resized(width: 200, height: 200)
        XCTAssertEqual(image.pixels, expected)
    }

    // MARK: Reporting the choice

    func testTheBoxScalesBackToTheUprightSourceAndTheWarningSaysHowFarItMoved() {
        let placed = CoverCrop(strategy: .attention, box: CropBox(x: 0, y: 10, width: 150, height: 100),
                               centred: CropBox(x: 0, y: 50, width: 150, height: 100), source: PixelSize(width: 150, height: 225))
        let upright = placed.scaled(to: PixelSize(width: 1200, height: 1800))
        XCTAssertEqual(upright.box, CropBox(x: 0, y: 80, width: 1200, height: 800))
        XCTAssertEqual(upright.centred, CropBox(x: 0, y: 400, width: 1200, height: 800))
        XCTAssertEqual(upright.warning, "attention crop moved the 1200x800 box 320 px up from the centre")
        var chosen = upright
        chosen.strategy = .gravity(.north)
        XCTAssertNil(chosen.warning, "a place a person chose is not a warning")
    }

    func testAFocusInUprightPixelsMovesWithAShrunkDecode() {
        let action = ImageAction.thumbnails([PixelSize(width: 60, height: 40)], fit: .cover, crop: .focus(x: 1000, y: 1799))
        let upright = PixelSize(width: 1200, height: 1800), decoded = PixelSize(width: 150, height: 225)
        XCTAssertEqual(action.withFocusScaled(from: upright, to: decoded),
                       .thumbnails([PixelSize(width: 60, height: 40)], fit: .cover, crop: .focus(x: 125, y: 224)))
        XCTAssertEqual(action.withFocusScaled(from: upright, to: upright), action)
    }
}
