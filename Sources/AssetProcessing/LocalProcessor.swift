import Crypto
import Foundation
import Imaging

/// A derived image ready to upload: its record, its encoded bytes and its pixels.
public struct ProcessedChild: Sendable {
    public var record: AssetRecord
    public var bytes: [UInt8]
    public var image: Image
    /// For a cover thumbnail: the strategy, the chosen and the centred box, in
    /// upright source pixels (what a preview draws on the source).
    public var coverCrop: CoverCrop?
}

/// The result of processing one source: the original's record and one child per derived image.
public struct ProcessedAsset: Sendable {
    public var parent: AssetRecord
    /// The original's bytes, as read (they are what gets uploaded as the parent).
    public var parentBytes: [UInt8]
    public var children: [ProcessedChild]
}

/// Decodes a source once, runs a list of actions on it, encodes every result,
/// and describes the original and each result as asset records shaped like the
/// API's (ids are local placeholders until an upload fills them in).
public struct LocalProcessor: Sendable {
    public var processing: ProcessingOptions
    public var decoding: DecodeOptions
    public var encoding: EncodeOptions
    /// Output format of every child; nil keeps the source's format (the API's behaviour).
    public var outputFormat: ImageFormat?
    /// Children are sRGB (converted through the source's profile) unless this
    /// keeps an RGB or gray source's own profile; CMYK always becomes sRGB, and
    /// a profile too big for a child's pixels is converted away (`ColorHandling`).
    public var keepColorProfile: Bool

    public init(processing: ProcessingOptions = .init(), decoding: DecodeOptions = .init(),
                encoding: EncodeOptions = .init(), outputFormat: ImageFormat? = nil, keepColorProfile: Bool = false) {
        self.processing = processing
        self.decoding = decoding
        self.encoding = encoding
        self.outputFormat = outputFormat
        self.keepColorProfile = keepColorProfile
    }

    /// Reads `path`, processes it, and writes each child to `outputDirectory`
    /// (as `<name>.<type>.<ext>`) when one is given.
    public func process(file path: String, actions: [ImageAction], outputDirectory: String? = nil) async throws(ImagingError) -> ProcessedAsset {
        try processSynchronously(file: path, actions: actions, outputDirectory: outputDirectory)
    }

    /// `process(file:actions:outputDirectory:)` for callers outside async code (benchmarks).
    public func processSynchronously(file path: String, actions: [ImageAction], outputDirectory: String? = nil) throws(ImagingError) -> ProcessedAsset {
        let bytes = try ImageFile.read(path, limits: decoding.limits)
        var result = try process(bytes: bytes, actions: actions, sourcePath: path)
        if let outputDirectory {
            try Self.createDirectory(outputDirectory)
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            var written: Set<String> = []
            for index in result.children.indices {
                let child = result.children[index]
                let ext = ImageFormat(mimeType: child.record.contentType)?.fileExtension ?? "bin"
                let name = "\(stem).\(child.record.type ?? "child").\(ext)"
                // Two children of one type (a cover and a contain thumbnail of
                // the same size) would overwrite each other's file.
                guard written.insert(name).inserted else {
                    throw ImagingError(.invalidArgument, "two results are both named \(name); give the actions distinct sizes")
                }
                let target = URL(fileURLWithPath: outputDirectory).appendingPathComponent(name).path
                try ImageFile.write(child.bytes, to: target)
                result.children[index].record.path = target
            }
        }
        return result
    }

    /// The in-memory core: no file system access.
    public func process(bytes: [UInt8], actions: [ImageAction], sourcePath: String? = nil) throws(ImagingError) -> ProcessedAsset {
        let info = try ImageDecoder.probe(bytes, limits: decoding.limits)
        let image = try ImageDecoder.decode(bytes, options: decodeOptions(for: info, actions: actions))
        let now = Date()
        let parentHash = Self.sha256(bytes)
        var parent = AssetRecord(
            id: .local(String(parentHash.prefix(16))), state: .local, contentType: info.format.mimeType, size: bytes.count,
            createdAt: now, width: info.displayWidth, height: info.displayHeight, sha256: parentHash, path: sourcePath)
        parent.colorWarnings = image.colorWarnings.map(\.description)
        parent.uploadedUnchanged = true
        if image.sourceColorModel == .cmyk {
            // The original goes up byte for byte; a CMYK JPEG is shown differently
            // by different browsers, so a person should know before it goes live.
            parent.warnings = ["the original is CMYK and is uploaded unchanged: browsers show CMYK JPEGs inconsistently (its derived images are sRGB)"]
        }
        let format = outputFormat ?? info.format
        let upright = PixelSize(width: info.displayWidth, height: info.displayHeight)
        let decoded = PixelSize(width: image.width, height: image.height)
        var children: [ProcessedChild] = []
        func add(_ derivedImages: [DerivedImage], of action: ImageAction) throws(ImagingError) {
            for (index, var derived) in derivedImages.enumerated() {
                let type = action.childType(of: derived, at: index)
                if keepColorProfile { derived.image = try derived.image.fittingKeptProfile() }
                let encoded = try ImageEncoder.encode(derived.image, as: format, options: encoding)
                let hash = Self.sha256(encoded)
                let coverCrop = derived.coverCrop?.scaled(to: upright)
                let warnings = [coverCrop?.warning, Self.droppedFramesWarning(frames: derived.image.frames.count, format: format)]
                    .compactMap { $0 }
                let record = AssetRecord(
                    id: .local(String(hash.prefix(16))), parentID: parent.id, state: .processed, contentType: format.mimeType,
                    type: type, size: encoded.count, createdAt: now,
                    width: derived.image.width, height: derived.image.height, sha256: hash,
                    cropBox: coverCrop?.box, warnings: warnings.isEmpty ? nil : warnings)
                children.append(ProcessedChild(record: record, bytes: encoded, image: derived.image, coverCrop: coverCrop))
            }
        }
        var earlier = actions[...]
        let last = earlier.popLast()
        for action in earlier {
            try add(try image.applying(action.withFocusScaled(from: upright, to: decoded), outputHasAlpha: format != .jpeg,
                                       options: processing), of: action)
        }
        if let last {
            // Nothing needs the decoded image after its last action, which may then work in its
            // storage (a half turn needs no second buffer): the same pixels, without a copy.
            try add(try (consume image).applyingConsuming(last.withFocusScaled(from: upright, to: decoded),
                                                          outputHasAlpha: format != .jpeg, options: processing), of: last)
        }
        return ProcessedAsset(parent: parent, parentBytes: bytes, children: children)
    }

    /// Shrink-on-load when every action is a thumbnail of a JPEG: one decode,
    /// at the largest DCT scale that leaves every thumbnail 2x of real resampling.
    func decodeOptions(for info: ImageInfo, actions: [ImageAction]) -> DecodeOptions {
        var options = decoding
        options.colorHandling = keepColorProfile ? .keepProfile : .convertToSRGB
        guard info.format == .jpeg, !actions.isEmpty else { return options }
        var sizes: [PixelSize] = []
        for action in actions {
            guard case let .thumbnails(list, fit, _) = action, fit == .cover else { return options }
            sizes += list
        }
        options.jpegShrink = ShrinkOnLoad.factor(upright: PixelSize(width: info.displayWidth, height: info.displayHeight), targets: sizes)
        return options
    }

    /// Only GIF holds an animation: any other output keeps the first frame, and says so.
    static func droppedFramesWarning(frames: Int, format: ImageFormat) -> String? {
        guard frames > 1, format != .gif else { return nil }
        return "animated source of \(frames) frames: the \(format.rawValue) output keeps only the first frame"
    }

    public static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    static func createDirectory(_ path: String) throws(ImagingError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ImagingError(.io, "cannot create \(path): \(error.localizedDescription)")
        }
    }
}
