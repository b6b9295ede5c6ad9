import XCTest
@testable import Imaging

final class OrientationTests: XCTestCase {
    // The 3x2 image
    //   a b c
    //   d e f
    // and what each EXIF orientation must turn it into, worked out by hand from
    // the EXIF definitions (which stored corner is the displayed top-left).
    private let a: UInt8 = 1, b: UInt8 = 2, c: UInt8 = 3, d: UInt8 = 4, e: UInt8 = 5, f: UInt8 = 6

    private var expectations: [(exif: Int, width: Int, height: Int, pixels: [UInt8])] {
        [
            (1, 3, 2, [a, b, c, d, e, f]),
            (2, 3, 2, [c, b, a, f, e, d]), // mirrored left-right
            (3, 3, 2, [f, e, d, c, b, a]), // turned 180 degrees
            (4, 3, 2, [d, e, f, a, b, c]), // mirrored top-bottom
            (5, 2, 3, [a, d, b, e, c, f]), // transposed
            (6, 2, 3, [d, a, e, b, f, c]), // turned 90 degrees clockwise
            (7, 2, 3, [f, c, e, b, d, a]), // transversed
            (8, 2, 3, [c, f, b, e, a, d]), // turned 90 degrees counter-clockwise
        ]
    }

    func testEveryOrientationOnAGrayImage() {
        let image = PixelBuffer(width: 3, height: 2, layout: .gray, bytes: [a, b, c, d, e, f])
        for expected in expectations {
            let turned = image.applyingOrientation(expected.exif)
            XCTAssertEqual(turned.width, expected.width, "orientation \(expected.exif)")
            XCTAssertEqual(turned.height, expected.height, "orientation \(expected.exif)")
            XCTAssertEqual(turned.bytes, expected.pixels, "orientation \(expected.exif)")
        }
    }

    func testEveryOrientationKeepsEachPixelsChannelsTogether() {
        // Every layout: sample k of pixel v is v * 10 + k, so a pixel torn apart
        // or channels reordered would show.
        for layout in PixelLayout.allCases {
            let n = layout.channels
            func pixels(_ values: [UInt8]) -> [UInt8] { values.flatMap { v in (0 ..< n).map { v * 10 + UInt8($0) } } }
            let image = PixelBuffer(width: 3, height: 2, layout: layout, bytes: pixels([a, b, c, d, e, f]))
            for expected in expectations {
                let turned = image.applyingOrientation(expected.exif)
                XCTAssertEqual(turned.layout, layout)
                XCTAssertEqual(turned.width, expected.width, "\(layout) orientation \(expected.exif)")
                XCTAssertEqual(turned.bytes, pixels(expected.pixels), "\(layout) orientation \(expected.exif)")
            }
        }
    }

    func testValuesOutsideOneToEightLeaveThePixelsAsStored() {
        let image = PixelBuffer(width: 3, height: 2, layout: .gray, bytes: [a, b, c, d, e, f])
        for exif in [0, 9, -1, 1000] {
            XCTAssertEqual(image.applyingOrientation(exif), image, "orientation \(exif)")
        }
    }

    func testLargeImagesAcrossTileEdgesMatchThePixelDefinition() {
        // Sizes that are not multiples of any block size, in every channel count.
        for layout in PixelLayout.allCases {
            let width = 71, height = 45, n = layout.channels
            var generator = SplitMix64(seed: UInt64(n))
            let image = PixelBuffer(width: width, height: height, layout: layout,
                                    bytes: (0 ..< width * height * n).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
            for exif in 2 ... 8 {
                let turned = image.applyingOrientation(exif)
                for y in 0 ..< turned.height {
                    for x in 0 ..< turned.width {
                        let (sx, sy) = storedPosition(exif: exif, x: x, y: y, width: width, height: height)
                        if turned.pixel(x: x, y: y) != image.pixel(x: sx, y: sy) {
                            XCTFail("\(layout) orientation \(exif): pixel (\(x), \(y)) is not stored (\(sx), \(sy))")
                            return
                        }
                    }
                }
            }
        }
    }

    func testOrientationsUndoEachOther() {
        var generator = SplitMix64(seed: 7)
        let image = PixelBuffer(width: 37, height: 66, layout: .rgb,
                                bytes: (0 ..< 37 * 66 * 3).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        // Mirrors, the half turn, transpose and transverse are their own inverses;
        // the quarter turns undo each other.
        for exif in [2, 3, 4, 5, 7] {
            XCTAssertEqual(image.applyingOrientation(exif).applyingOrientation(exif), image, "orientation \(exif)")
        }
        XCTAssertEqual(image.applyingOrientation(6).applyingOrientation(8), image)
        XCTAssertEqual(image.applyingOrientation(6).applyingOrientation(6), image.applyingOrientation(3))
    }

    func testOnePixelAndOneRowImages() {
        let dot = PixelBuffer(width: 1, height: 1, layout: .rgba, bytes: [1, 2, 3, 4])
        for exif in 1 ... 8 { XCTAssertEqual(dot.applyingOrientation(exif), dot) }
        let row = PixelBuffer(width: 4, height: 1, layout: .gray, bytes: [1, 2, 3, 4])
        XCTAssertEqual(row.applyingOrientation(6).bytes, [1, 2, 3, 4])
        XCTAssertEqual(row.applyingOrientation(6).height, 4)
        XCTAssertEqual(row.applyingOrientation(8).bytes, [4, 3, 2, 1])
    }

    /// Where displayed pixel (x, y) is stored, straight from the EXIF meaning of
    /// each value (row 0 / column 0 of the stored image is which side).
    private func storedPosition(exif: Int, x: Int, y: Int, width w: Int, height h: Int) -> (Int, Int) {
        switch exif {
        case 2: (w - 1 - x, y)
        case 3: (w - 1 - x, h - 1 - y)
        case 4: (x, h - 1 - y)
        case 5: (y, x)
        case 6: (y, h - 1 - x)
        case 7: (w - 1 - y, h - 1 - x)
        case 8: (w - 1 - y, x)
        default: (x, y)
        }
    }
}

