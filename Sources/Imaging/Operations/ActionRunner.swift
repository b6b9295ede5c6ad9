/// One derived image. Its child `type` (the API's name for it) is given by
/// AssetProcessing (`ImageAction.childType(of:at:)`), from the vocabulary the API shares.
public struct DerivedImage: Sendable {
    public var image: Image
    /// Where a cover thumbnail's box was taken from, in the pixels of the image the action ran on.
    public var coverCrop: CoverCrop?

    public init(image: Image, coverCrop: CoverCrop? = nil) {
        self.image = image
        self.coverCrop = coverCrop
    }
}

extension Image {
    /// Runs one action; thumbnails give one result per size, the others one.
    /// `outputHasAlpha` says whether the output format can hold transparency
    /// (PNG, GIF): a rotation by an odd angle then leaves transparent corners;
    /// otherwise (JPEG) the corners get `options.background`.
    public func applying(_ action: ImageAction, outputHasAlpha: Bool = true,
                         options: ProcessingOptions = .init()) throws(ImagingError) -> [DerivedImage] {
        switch action {
        case let .thumbnails(sizes, fit, crop):
            guard !sizes.isEmpty else { throw ImagingError(.invalidArgument, "thumbnails needs at least one size") }
            var results: [DerivedImage] = []
            for size in sizes {
                let (image, coverCrop) = try thumbnailWithCrop(size, fit: fit, crop: crop, options: options)
                results.append(DerivedImage(image: image, coverCrop: coverCrop))
            }
            return results
        case let .crop(x, y, w, h):
            return [DerivedImage(image: try cropped(x: x, y: y, width: w, height: h))]
        case let .scale(w, h):
            return [DerivedImage(image: try scaled(width: w, height: h, options: options))]
        case let .rotate(degrees):
            return [DerivedImage(image: try rotatedForAction(degrees: degrees, outputHasAlpha: outputHasAlpha, options: options))]
        }
    }

    /// `applying(_:outputHasAlpha:options:)` for a caller that has no further
    /// use for this image (its last action): the same results, but a rotation
    /// works in the image's own storage where it can, so a half turn of a
    /// uniquely held image (a decoded source nothing else holds) allocates no
    /// second image-sized buffer. A shared image is copied first, as any
    /// copy-on-write mutation does; the other holders keep their pixels.
    public consuming func applyingConsuming(_ action: ImageAction, outputHasAlpha: Bool = true,
                                            options: ProcessingOptions = .init()) throws(ImagingError) -> [DerivedImage] {
        guard case let .rotate(degrees) = action else {
            return try applying(action, outputHasAlpha: outputHasAlpha, options: options)
        }
        try rotateForAction(degrees: degrees, outputHasAlpha: outputHasAlpha, options: options)
        return [DerivedImage(image: self)]
    }
}
