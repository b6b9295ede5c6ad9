import Foundation

/// Decoding entry points: format detection by signature, then the right codec.
public enum ImageDecoder {
    /// Reads the header (and for GIF, walks the frames without decoding them).
    public static func probe(_ data: [UInt8], limits: DecodeLimits = .default) throws(ImagingError) -> ImageInfo {
        let format = try detectFormat(data, limits: limits)
        return try withBytes(data) { (raw) throws(ImagingError) -> ImageInfo in
            switch format {
            case .png: try PNGDecoder.probe(raw, limits: limits)
            case .jpeg: try JPEGDecoder.probe(raw, limits: limits)
            case .gif: try GIFDecoder.probe(raw, limits: limits)
            }
        }
    }

    /// Decodes every frame (or the first, see `DecodeOptions.firstFrameOnly`) to 8-bit pixels.
    public static func decode(_ data: [UInt8], options: DecodeOptions = .default) throws(ImagingError) -> Image {
        let format = try detectFormat(data, limits: options.limits)
        var image = try withBytes(data) { (raw) throws(ImagingError) -> Image in
            switch format {
            case .png: try PNGDecoder.decode(raw, options: options)
            case .jpeg: try JPEGDecoder.decode(raw, options: options)
            case .gif: try GIFDecoder.decode(raw, options: options)
            }
        }
        if image.sourceColorModel == nil { image.sourceColorModel = image.layout.isGray ? .gray : .rgb }
        try ColorManagement.settle(&image, handling: options.colorHandling)
        if !options.keepColorProfile { image.colorProfile = nil }
        return image
    }

    /// Reads a file (refusing one over `limits.maxInputBytes` before reading it) and decodes it.
    public static func decodeFile(atPath path: String, options: DecodeOptions = .default) throws(ImagingError) -> Image {
        try decode(ImageFile.read(path, limits: options.limits), options: options)
    }

    static func detectFormat(_ data: [UInt8], limits: DecodeLimits) throws(ImagingError) -> ImageFormat {
        guard let format = ImageFormat.detect(data) else {
            if data.isEmpty { throw ImagingError(.truncated, "empty input") }
            throw ImagingError(.unsupported, "not a PNG, JPEG or GIF file (no known signature)")
        }
        try limits.checkInputSize(data.count, format: format)
        return format
    }
}

/// Options for every encoder; each format reads its own part.
public struct EncodeOptions: Sendable, Equatable {
    public var jpeg: JPEGEncodeOptions
    public var png: PNGEncodeOptions
    public var gif: GIFEncodeOptions
    /// Write the image's ICC profile, when it has one. Nothing else is ever
    /// carried over: no EXIF (so no GPS and no orientation tag), no text chunks.
    public var keepColorProfile: Bool

    public init(jpeg: JPEGEncodeOptions = .init(), png: PNGEncodeOptions = .init(), gif: GIFEncodeOptions = .init(), keepColorProfile: Bool = true) {
        self.jpeg = jpeg
        self.png = png
        self.gif = gif
        self.keepColorProfile = keepColorProfile
    }

    public static let `default` = EncodeOptions()
}

/// Encoding entry points. Output is deterministic: the same pixels and options
/// give byte-identical files (no timestamps, no random seeds).
public enum ImageEncoder {
    public static func encode(_ image: Image, as format: ImageFormat, options: EncodeOptions = .default) throws(ImagingError) -> [UInt8] {
        // Only a profile that describes these pixels: never a CMYK (or any
        // mismatched) profile on RGB or gray samples.
        let profile = options.keepColorProfile ? image.colorProfile.flatMap { ICCProfile.contradicts($0, image.layout) ? nil : $0 } : nil
        switch format {
        case .png: return try PNGEncoder.encode(image.pixels, colorProfile: profile, options: options.png)
        case .jpeg: return try JPEGEncoder.encode(image.pixels, colorProfile: profile, options: options.jpeg)
        case .gif: return try GIFEncoder.encode(image, options: options.gif)
        }
    }
}

/// Bounded file reading and atomic writing.
public enum ImageFile {
    /// Reads a whole file, refusing it from its size before reading when it is over the limit.
    /// Reads straight into the array (no intermediate `Data` copy).
    public static func read(_ path: String, limits: DecodeLimits = .default) throws(ImagingError) -> [UInt8] {
        // O_NONBLOCK: opening a FIFO or a device must not wait for a writer; the
        // fstat below refuses anything that is not a regular file.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw ImagingError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ImagingError(.io, "cannot stat \(path)") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw ImagingError(.io, "\(path) is not a regular file") }
        let size = Int(info.st_size)
        if size > limits.maxInputBytes {
            throw ImagingError(.tooLarge, "\(path) is \(size) bytes, over the \(limits.maxInputBytes)-byte limit")
        }
        var failure: ImagingError?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var done = 0
            while done < size {
                let n = Foundation.read(fd, buffer.baseAddress! + done, size - done)
                if n < 0, errno == EINTR { continue }
                if n <= 0 {
                    if n < 0 { failure = ImagingError(.io, "cannot read \(path): \(String(cString: strerror(errno)))") }
                    break // shorter than its size: the file shrank while we read it
                }
                done += n
            }
            count = done
        }
        if let failure { throw failure }
        return bytes
    }

    /// Writes atomically (temporary file, then rename), so a crash never leaves half a file.
    public static func write(_ bytes: [UInt8], to path: String) throws(ImagingError) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ImagingError(.io, "cannot write \(path): \(error.localizedDescription)")
        }
    }
}

/// `Array.withUnsafeBytes` for typed-throws bodies (the standard one is `rethrows`,
/// which erases the error type).
@inline(__always)
func withBytes<R>(_ data: [UInt8], _ body: (UnsafeRawBufferPointer) throws(ImagingError) -> R) throws(ImagingError) -> R {
    let result: Result<R, ImagingError> = data.withUnsafeBytes { raw in
        do throws(ImagingError) { return .success(try body(raw)) } catch { return .failure(error) }
    }
    return try result.get()
}
