/// How a cover crop (a thumbnail with `fit: cover`, an eCard brought to
/// 600x400) chooses which part of the source it keeps. The box always has the
/// target's aspect ratio and spans the source's full width or full height, so
/// a strategy only ever moves it along one axis.
public enum CropStrategy: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The middle of the source (the default, and what the API does).
    case centre
    /// Where the eye goes, as libvips' `smartcrop` attention and sharp's
    /// `strategy.attention` judge it: edges, skin tones and saturated colour.
    case attention
    /// The part whose luma histogram carries the most information.
    case entropy
    /// A point, in upright source pixels, that the box is centred on (as far
    /// as the source's edges allow).
    case focus(x: Int, y: Int)
    /// Against a side or a corner of the source.
    case gravity(CropGravity)

    /// True for the strategies that look at the pixels to decide.
    public var isAutomatic: Bool { self == .attention || self == .entropy }

    /// `centre`, `attention`, `entropy`, `focus(120,80)`, `gravity(north-east)`:
    /// the spelling the job key and messages use.
    public var description: String {
        switch self {
        case .centre: "centre"
        case .attention: "attention"
        case .entropy: "entropy"
        case let .focus(x, y): "focus(\(x),\(y))"
        case let .gravity(side): "gravity(\(side.rawValue))"
        }
    }

    /// The strategies named by a single word, as manifests and `--crop-strategy` spell them.
    public static let namedStrategies: [String: CropStrategy] = ["centre": .centre, "attention": .attention, "entropy": .entropy]
}

/// A side or corner of the source for `CropStrategy.gravity`.
public enum CropGravity: String, Sendable, Hashable, Codable, CaseIterable {
    case north
    case northEast = "north-east"
    case east
    case southEast = "south-east"
    case south
    case southWest = "south-west"
    case west
    case northWest = "north-west"
    case centre

    /// -1 (left), 0 (middle) or 1 (right).
    var horizontal: Int {
        switch self {
        case .northWest, .west, .southWest: -1
        case .northEast, .east, .southEast: 1
        case .north, .south, .centre: 0
        }
    }

    /// -1 (top), 0 (middle) or 1 (bottom).
    var vertical: Int {
        switch self {
        case .northWest, .north, .northEast: -1
        case .southWest, .south, .southEast: 1
        case .west, .east, .centre: 0
        }
    }
}

/// A rectangle in pixels.
public struct CropBox: Sendable, Hashable, Codable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var description: String { "\(width)x\(height) at (\(x),\(y))" }
}

/// Where a cover crop put its box, with the box `centre` would have used, so
/// callers (records, a preview page) can show the choice and how far it moved.
public struct CoverCrop: Sendable, Hashable {
    public var strategy: CropStrategy
    /// The kept region, in the pixels of `source`.
    public var box: CropBox
    /// The same-sized box in the middle of `source`.
    public var centred: CropBox
    /// The size of the image the boxes lie in.
    public var source: PixelSize

    public init(strategy: CropStrategy, box: CropBox, centred: CropBox, source: PixelSize) {
        self.strategy = strategy
        self.box = box
        self.centred = centred
        self.source = source
    }

    /// Pixels right (positive) or left of the centred box, and down or up.
    public var offset: (x: Int, y: Int) { (box.x - centred.x, box.y - centred.y) }

    /// The same choice in an image of another size (a JPEG decoded at 1/2,
    /// 1/4 or 1/8 back to its full upright size): both boxes scale, rounded,
    /// and stay inside.
    public func scaled(to size: PixelSize) -> CoverCrop {
        guard size != source else { return self }
        let sx = Double(size.width) / Double(source.width), sy = Double(size.height) / Double(source.height)
        func scale(_ b: CropBox) -> CropBox {
            let w = min(size.width, max(1, Int((Double(b.width) * sx).rounded())))
            let h = min(size.height, max(1, Int((Double(b.height) * sy).rounded())))
            let x = min(size.width - w, max(0, Int((Double(b.x) * sx).rounded())))
            let y = min(size.height - h, max(0, Int((Double(b.y) * sy).rounded())))
            return CropBox(x: x, y: y, width: w, height: h)
        }
        return CoverCrop(strategy: strategy, box: scale(box), centred: scale(centred), source: size)
    }

    /// "attention crop moved the box 412 px up from the centre", for a box an
    /// automatic strategy moved; nil when it stayed centred or a person chose
    /// the place (focus, gravity).
    public var warning: String? {
        guard strategy.isAutomatic else { return nil }
        let (dx, dy) = offset
        var moves: [String] = []
        if dx != 0 { moves.append("\(abs(dx)) px \(dx < 0 ? "left" : "right")") }
        if dy != 0 { moves.append("\(abs(dy)) px \(dy < 0 ? "up" : "down")") }
        guard !moves.isEmpty else { return nil }
        return "\(strategy) crop moved the \(box.width)x\(box.height) box \(moves.joined(separator: " and ")) from the centre"
    }
}

extension ImageAction {
    /// The action for an image decoded at another size than the upright
    /// source (JPEG shrink-on-load): a crop focus, given in upright source
    /// pixels, moved to the same place in the decoded pixels.
    public func withFocusScaled(from upright: PixelSize, to decoded: PixelSize) -> ImageAction {
        guard case let .thumbnails(sizes, fit, .focus(x, y)) = self, upright != decoded,
              upright.width > 0, upright.height > 0 else { return self }
        let fx = min(decoded.width - 1, x * decoded.width / upright.width)
        let fy = min(decoded.height - 1, y * decoded.height / upright.height)
        return .thumbnails(sizes, fit: fit, crop: .focus(x: fx, y: fy))
    }
}
