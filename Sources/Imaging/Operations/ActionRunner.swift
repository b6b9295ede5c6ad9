/// One derived image and the child `type` the API would give it.
public struct DerivedImage: Sendable {
    public var type: String
    public var image: Image
    /// Where a cover thumbnail's box was taken from, in the pixels of the image the action ran on.
    public var coverCrop: CoverCrop?

    public init(type: String, image: Image, coverCrop: CoverCrop? = nil) {
        self.type = type
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
                results.append(DerivedImage(type: ChildType.thumbnail(size), image: image, coverCrop: coverCrop))
            }
            return results
        case let .crop(x, y, w, h):
            return [DerivedImage(type: ChildType.cropped, image: try cropped(x: x, y: y, width: w, height: h))]
        case let .scale(w, h):
            let image = try scaled(width: w, height: h, options: options)
            return [DerivedImage(type: ChildType.scaled(PixelSize(width: image.width, height: image.height)), image: image)]
        case let .rotate(degrees):
            return [DerivedImage(type: ChildType.rotated(degrees),
                                 image: try rotatedForAction(degrees: degrees, outputHasAlpha: outputHasAlpha, options: options))]
        }
    }
}
