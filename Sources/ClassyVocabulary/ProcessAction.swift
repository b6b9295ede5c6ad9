import Foundation

/// A `{width, height}` object of the reference's process arguments, in pixels.
public struct ProcessSize: Sendable, Hashable, Codable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public var description: String { "\(width)x\(height)" }
}

/// One request of `POST /2.0/assets/{id}/process`, with the reference's
/// argument shapes: the one definition the client encodes and the sandbox
/// decodes (`Codable` is the wire form), and whose children `ChildType` names.
///
/// ```json
/// {"action": "thumbnails", "arguments": [{"width": 100, "height": 100}]}
/// {"action": "crop",       "arguments": {"x": 10, "y": 10, "width": 100, "height": 100}}
/// {"action": "scale",      "arguments": {"width": 100, "height": 100}}
/// {"action": "rotate",     "arguments": {"angle": 180}}
/// ```
public enum ProcessAction: Sendable, Hashable, Codable, CustomStringConvertible {
    /// One child per size, each exactly that size (cover, centred).
    case thumbnails([ProcessSize])
    /// The box, in upright pixels, must lie inside the image.
    case crop(x: Int, y: Int, width: Int, height: Int)
    /// One side may be nil: the other then keeps the aspect ratio (as local
    /// `process --scale Wx` does). The reference's example gives both.
    case scale(width: Int?, height: Int?)
    /// Clockwise degrees, any finite angle. Sent normalised to [0, 360)
    /// (`ChildType.normalizedAngle`): -90 and 270 are one rotation and one child type.
    case rotate(angle: Double)

    /// The reference's `action` values.
    public enum Name: String, Sendable, Hashable, Codable, CaseIterable {
        case thumbnails, crop, scale, rotate
    }

    public var name: Name {
        switch self {
        case .thumbnails: .thumbnails
        case .crop: .crop
        case .scale: .scale
        case .rotate: .rotate
        }
    }

    /// The `type` of every child the action creates, in the order the API
    /// answers with them; nil for a scale with one side, whose child's name
    /// depends on the source's size (AssetProcessing's `childTypes(upright:)` knows it).
    public var childTypes: [String]? {
        switch self {
        case let .thumbnails(sizes): sizes.map { ChildType.thumbnail(width: $0.width, height: $0.height) }
        case .crop: [ChildType.cropped]
        case let .scale(w?, h?): [ChildType.scaled(width: w, height: h)]
        case .scale: nil
        case let .rotate(angle): [ChildType.rotated(angle)]
        }
    }

    /// `thumbnails 100x100,150x150`, `crop 10,10 100x100`, `scale 100x`, `rotate 270`.
    public var description: String {
        switch self {
        case let .thumbnails(sizes): "thumbnails " + sizes.map(\.description).joined(separator: ",")
        case let .crop(x, y, w, h): "crop \(x),\(y) \(w)x\(h)"
        case let .scale(w, h): "scale \(w.map(String.init) ?? "")x\(h.map(String.init) ?? "")"
        case let .rotate(angle): "rotate \(ChildType.angleText(angle))"
        }
    }

    // MARK: the wire form

    private enum Keys: String, CodingKey { case action, arguments }
    private enum ArgumentKeys: String, CodingKey { case x, y, width, height, angle }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(name, forKey: .action)
        switch self {
        case let .thumbnails(sizes):
            try c.encode(sizes, forKey: .arguments)
        case let .crop(x, y, w, h):
            var a = c.nestedContainer(keyedBy: ArgumentKeys.self, forKey: .arguments)
            try a.encode(x, forKey: .x)
            try a.encode(y, forKey: .y)
            try a.encode(w, forKey: .width)
            try a.encode(h, forKey: .height)
        case let .scale(w, h):
            var a = c.nestedContainer(keyedBy: ArgumentKeys.self, forKey: .arguments)
            try a.encodeIfPresent(w, forKey: .width)
            try a.encodeIfPresent(h, forKey: .height)
        case let .rotate(angle):
            var a = c.nestedContainer(keyedBy: ArgumentKeys.self, forKey: .arguments)
            let turn = ChildType.normalizedAngle(angle)
            // A whole angle is written as the reference writes it (`180`, not `180.0`).
            if turn.isFinite, turn == turn.rounded() { try a.encode(Int(turn), forKey: .angle) } else { try a.encode(turn, forKey: .angle) }
        }
    }

    /// Decodes and checks the shape: the action is one of the four, its
    /// arguments have the reference's form, sizes are positive, a crop's
    /// origin is not negative, a scale names at least one side and an angle is
    /// finite. A failure is a `DecodingError` whose description says which
    /// field; `ProcessAction.decode(json:)` turns it into a `ProcessActionError`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let text = try c.decode(String.self, forKey: .action)
        guard let name = Name(rawValue: text) else {
            throw ProcessActionError(.unknownAction, "Unknown action '\(text)': use thumbnails, crop, scale or rotate")
        }
        func invalid(_ message: String) -> ProcessActionError { ProcessActionError(.invalidArguments, message) }
        switch name {
        case .thumbnails:
            guard let sizes = try? c.decode([ProcessSize].self, forKey: .arguments), !sizes.isEmpty else {
                throw invalid("thumbnails takes a non-empty list of {\"width\", \"height\"} objects as arguments")
            }
            for size in sizes where size.width < 1 || size.height < 1 {
                throw invalid("thumbnail size \(size) must be positive")
            }
            self = .thumbnails(sizes)
        case .crop, .scale, .rotate:
            guard let a = try? c.nestedContainer(keyedBy: ArgumentKeys.self, forKey: .arguments) else {
                throw invalid("\(name.rawValue) takes an object as arguments")
            }
            func int(_ key: ArgumentKeys) throws(ProcessActionError) -> Int? {
                guard a.contains(key) else { return nil }
                guard let v = try? a.decode(Int.self, forKey: key) else { throw invalid("arguments.\(key.rawValue) must be an integer") }
                return v
            }
            switch name {
            case .crop:
                guard let x = try int(.x), let y = try int(.y), let w = try int(.width), let h = try int(.height) else {
                    throw invalid("crop takes arguments x, y, width and height")
                }
                guard x >= 0, y >= 0 else { throw invalid("arguments.x and arguments.y must not be negative") }
                guard w >= 1, h >= 1 else { throw invalid("crop box \(w)x\(h) must be positive") }
                self = .crop(x: x, y: y, width: w, height: h)
            case .scale:
                let w = try int(.width), h = try int(.height)
                guard w != nil || h != nil else { throw invalid("scale takes arguments width, height or both") }
                guard (w ?? 1) >= 1, (h ?? 1) >= 1 else { throw invalid("scale size must be positive") }
                self = .scale(width: w, height: h)
            default:
                guard let angle = try? a.decode(Double.self, forKey: .angle), angle.isFinite else {
                    throw invalid("rotate takes arguments.angle, a finite number of degrees")
                }
                self = .rotate(angle: angle)
            }
        }
    }

    /// The request body the client sends. A non-finite angle has no JSON
    /// form: `invalidArguments`, before anything is sent.
    public func jsonBody() throws(ProcessActionError) -> [UInt8] {
        if case let .rotate(angle) = self, !angle.isFinite {
            throw ProcessActionError(.invalidArguments, "rotate takes a finite number of degrees, not \(angle)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(self)) } catch {
            throw ProcessActionError(.invalidArguments, "cannot encode \(self): \(error)")
        }
    }

    /// Reads a request body (the sandbox's side), every failure as a `ProcessActionError`.
    public static func decode(json: [UInt8]) throws(ProcessActionError) -> ProcessAction {
        do {
            return try JSONDecoder().decode(ProcessAction.self, from: Data(json))
        } catch let error as ProcessActionError {
            throw error
        } catch let DecodingError.keyNotFound(key, _) {
            throw ProcessActionError(.invalidArguments, "missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context) where !context.codingPath.isEmpty {
            throw ProcessActionError(.invalidArguments, "wrong type for '\(context.codingPath.map(\.stringValue).joined(separator: "."))'")
        } catch {
            throw ProcessActionError(.invalidArguments, "the body is not a process request: {\"action\": ..., \"arguments\": ...}")
        }
    }
}

/// Why a process request was refused before any pixel was touched.
public struct ProcessActionError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case unknownAction
        case invalidArguments
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// The `type` of a processed child, as the API names the children `/process`
/// creates (`thumbnail_100_100`, `cropped`, `scaled_100_100`, `rotated_180`):
/// one rule for local records and the sandbox.
public enum ChildType {
    public static func thumbnail(width: Int, height: Int) -> String { "thumbnail_\(width)_\(height)" }
    public static let cropped = "cropped"
    /// Named after the child's real size (a one-sided scale included).
    public static func scaled(width: Int, height: Int) -> String { "scaled_\(width)_\(height)" }

    /// `rotated_<angle>` with the angle normalised to [0, 360): `rotated_270`
    /// for -90 (and for 630), `rotated_342.5` for -17.5. The reference shows
    /// only `rotated_180`; a name per resulting image (not per spelling of the
    /// angle) is what lets a child be recognised again by its type.
    public static func rotated(_ degrees: Double) -> String { "rotated_\(angleText(degrees))" }

    /// The angle in [0, 360) (a non-finite angle is returned as is).
    public static func normalizedAngle(_ degrees: Double) -> Double {
        guard degrees.isFinite else { return degrees }
        var turn = degrees.truncatingRemainder(dividingBy: 360)
        if turn < 0 { turn += 360 }
        // -0.0, and a tiny negative angle that rounds up to 360.
        return turn == 360 || turn == 0 ? 0 : turn
    }

    /// `270`, `342.5`: whole angles without a decimal point, others in Swift's shortest form.
    static func angleText(_ degrees: Double) -> String {
        let turn = normalizedAngle(degrees)
        return turn == turn.rounded() && turn.isFinite ? String(Int(turn)) : String(turn)
    }
}
