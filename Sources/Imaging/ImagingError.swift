/// The one error type of the imaging module: what went wrong (a stable code a
/// machine can act on), in which format, and a message a person can read.
///
/// Shaped like AsyncHTTPClient's errors: a struct with a `Code` rather than an
/// ever-growing enum, so new reasons do not break callers' `switch`es.
public struct ImagingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable, CaseIterable {
        /// The data ends before the image does.
        case truncated
        /// The data is damaged or is not a valid file of its format.
        case corrupt
        /// Valid, but a kind the worker does not handle (lossless JPEG, 12-bit JPEG, no known signature...).
        case unsupported
        /// The header declares more than the configured limits allow; refused before allocating pixels.
        case tooLarge = "too_large"
        /// A caller passed arguments that cannot work (crop box outside the image, zero size...).
        case invalidArgument = "invalid_argument"
        /// The encoder failed on valid pixels (should not happen; reported rather than crashing).
        case encodeFailed = "encode_failed"
        /// Reading or writing a file failed.
        case io
    }

    public var code: Code
    /// The format involved, when known.
    public var format: ImageFormat?
    public var message: String

    public init(_ code: Code, format: ImageFormat? = nil, _ message: String) {
        self.code = code
        self.format = format
        self.message = message
    }

    public var description: String {
        if let format { return "\(format): \(code.rawValue): \(message)" }
        return "\(code.rawValue): \(message)"
    }
}
