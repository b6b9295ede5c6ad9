/// How the 8-bit samples of one pixel are laid out.
///
/// Every decoder produces one of these four layouts, whatever the file stored
/// (palette, 1/2/4/16-bit, CMYK, ...), so the rest of the pipeline only ever
/// deals with interleaved 8-bit samples.
public enum PixelLayout: Int, Sendable, CaseIterable, CustomStringConvertible {
    case gray = 1
    case grayAlpha = 2
    case rgb = 3
    case rgba = 4

    /// Samples per pixel.
    @inlinable public var channels: Int { rawValue }

    public var hasAlpha: Bool { self == .grayAlpha || self == .rgba }
    public var isGray: Bool { self == .gray || self == .grayAlpha }

    /// The same colour model with an alpha channel added (or kept).
    public var withAlpha: PixelLayout { isGray ? .grayAlpha : .rgba }
    /// The same colour model without alpha.
    public var withoutAlpha: PixelLayout { isGray ? .gray : .rgb }

    public var description: String {
        switch self {
        case .gray: "gray"
        case .grayAlpha: "gray+alpha"
        case .rgb: "rgb"
        case .rgba: "rgba"
        }
    }
}

/// A tightly packed, row-major raster of 8-bit samples (no padding between rows).
///
/// A value type with copy-on-write storage: passing buffers between tasks is
/// free and safe, and mutation through `withUnsafeMutableBytes` only copies
/// when the storage is shared.
public struct PixelBuffer: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let layout: PixelLayout
    /// `height * bytesPerRow` samples.
    public var bytes: [UInt8]

    @inlinable public var channels: Int { layout.channels }
    @inlinable public var bytesPerRow: Int { width * layout.channels }
    @inlinable public var pixelCount: Int { width * height }

    /// A buffer with every sample zero (transparent black where there is alpha).
    public init(width: Int, height: Int, layout: PixelLayout) {
        precondition(width >= 0 && height >= 0, "negative image size")
        self.width = width
        self.height = height
        self.layout = layout
        self.bytes = [UInt8](repeating: 0, count: width * height * layout.channels)
    }

    /// Wraps existing samples; `bytes.count` must be `width * height * channels`.
    public init(width: Int, height: Int, layout: PixelLayout, bytes: [UInt8]) {
        precondition(bytes.count == width * height * layout.channels, "sample count does not match the size")
        self.width = width
        self.height = height
        self.layout = layout
        self.bytes = bytes
    }

    /// Allocates without zero-filling and lets `fill` write every sample.
    /// Used by decoders and operations that overwrite the whole raster anyway.
    /// A large raster is backed by huge pages where the kernel allows it
    /// (`HugePageHint`): a 49 MB output otherwise takes ~12,000 page faults,
    /// which cost as much as the resampling and do not get faster with threads.
    @inlinable
    public init<E: Error>(
        width: Int, height: Int, layout: PixelLayout,
        unsafeUninitialized fill: (UnsafeMutableRawBufferPointer) throws(E) -> Void
    ) throws(E) {
        self.width = width
        self.height = height
        self.layout = layout
        let count = width * height * layout.channels
        var failure: E?
        self.bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            HugePageHint.advise(UnsafeMutableRawBufferPointer(buffer))
            do throws(E) {
                try fill(UnsafeMutableRawBufferPointer(buffer))
            } catch {
                failure = error
            }
            // On failure the samples are garbage but still plain bytes; the
            // buffer is discarded right after.
            initialized = count
        }
        if let failure { throw failure }
    }

    /// The samples of one pixel, for tests and diagnostics (not for hot loops).
    public func pixel(x: Int, y: Int) -> [UInt8] {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel out of bounds")
        let start = (y * width + x) * channels
        return Array(bytes[start ..< start + channels])
    }

    /// True when every alpha sample is 255 (or there is no alpha channel).
    public var isOpaque: Bool {
        guard layout.hasAlpha else { return true }
        let c = channels
        return bytes.withUnsafeBufferPointer { p in
            var i = c - 1
            while i < p.count {
                if p[i] != 255 { return false }
                i += c
            }
            return true
        }
    }
}
