import ArgumentParser
import AssetPipeline
import Imaging

/// The action flags `process` and `bench` share, mirroring the API's four `/process` actions.
struct ActionFlags: ParsableArguments {
    @Option(help: ArgumentHelp("Thumbnails, exactly WxH each (cover + crop, centred unless --crop-strategy, --focus or --gravity says otherwise).", valueName: "WxH[,WxH...]"))
    var thumbnails: String?

    @Option(help: ArgumentHelp("Thumbnails that fit inside WxH instead of covering it.", valueName: "WxH[,WxH...]"))
    var thumbnailsContain: String?

    @Option(help: ArgumentHelp("Crop box; must lie inside the (upright) image.", valueName: "X,Y,W,H"))
    var crop: String?

    @Option(help: ArgumentHelp("Scale to WxH; write Wx or xH to keep the aspect ratio.", valueName: "WxH"))
    var scale: String?

    @Option(help: ArgumentHelp("Rotate clockwise by degrees.", valueName: "DEG"))
    var rotate: Double?

    @Option(help: ArgumentHelp("Where cover thumbnails crop: centre (default), attention (edges, skin, saturation) or entropy.", valueName: "STRATEGY"))
    var cropStrategy: String?

    @Option(help: ArgumentHelp("Centre cover crops on this point, in upright source pixels.", valueName: "X,Y"))
    var focus: String?

    @Option(help: ArgumentHelp("Put cover crops against a side or corner: \(CropGravity.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "SIDE"))
    var gravity: String?

    @Option(help: "Resampling filter: \(ResampleFilter.allCases.map(\.rawValue).joined(separator: ", ")).")
    var filter: ResampleFilter = .lanczos3

    /// The actions in the order the API lists them.
    func actions() throws -> [ImageAction] {
        var actions: [ImageAction] = []
        if let thumbnails { actions.append(.thumbnails(try sizes(thumbnails, flag: "--thumbnails"), fit: .cover, crop: try coverCrop())) }
        if let thumbnailsContain {
            let contain = try sizes(thumbnailsContain, flag: "--thumbnails-contain")
            // Both kinds are named thumbnail_W_H, as the API names them: one size in
            // both lists would give two children (and two files) of the same name.
            let cover = try thumbnails.map { text in try sizes(text, flag: "--thumbnails") } ?? []
            let both = Set(contain).intersection(cover)
            guard both.isEmpty else {
                let names = both.sorted { ($0.width, $0.height) < ($1.width, $1.height) }.map { ChildType.thumbnail($0) }
                throw ValidationError("--thumbnails and --thumbnails-contain both make \(names.joined(separator: ", ")); give each size to one of them")
            }
            actions.append(.thumbnails(contain, fit: .contain))
        }
        if let crop {
            let numbers = crop.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard numbers.count == 4, let x = numbers[0], let y = numbers[1], let w = numbers[2], let h = numbers[3] else {
                throw ValidationError("--crop takes X,Y,W,H (four integers), got \(crop)")
            }
            actions.append(.crop(x: x, y: y, width: w, height: h))
        }
        if let scale {
            let parts = scale.lowercased().split(separator: "x", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw ValidationError("--scale takes WxH, Wx or xH, got \(scale)") }
            let w = parts[0].isEmpty ? nil : Int(parts[0])
            let h = parts[1].isEmpty ? nil : Int(parts[1])
            guard (w != nil || parts[0].isEmpty), (h != nil || parts[1].isEmpty), w != nil || h != nil else {
                throw ValidationError("--scale takes WxH, Wx or xH, got \(scale)")
            }
            actions.append(.scale(width: w, height: h))
        }
        if let rotate {
            guard rotate.isFinite else { throw ValidationError("--rotate takes a finite number of degrees") }
            actions.append(.rotate(degrees: rotate))
        }
        return actions
    }

    /// The cover crop strategy from `--crop-strategy`, `--focus` or `--gravity` (at most one).
    func coverCrop() throws -> CropStrategy {
        let given = [cropStrategy.map { _ in "--crop-strategy" }, focus.map { _ in "--focus" }, gravity.map { _ in "--gravity" }].compactMap { $0 }
        guard given.count <= 1 else { throw ValidationError("give one of \(given.joined(separator: ", ")), not several") }
        if let cropStrategy {
            guard let strategy = CropStrategy.namedStrategies[cropStrategy] else {
                throw ValidationError("--crop-strategy takes \(CropStrategy.namedStrategies.keys.sorted().joined(separator: ", ")), got \(cropStrategy)")
            }
            return strategy
        }
        if let focus {
            let numbers = focus.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard numbers.count == 2, let x = numbers[0], let y = numbers[1], x >= 0, y >= 0 else {
                throw ValidationError("--focus takes X,Y (two whole numbers of pixels, 0 or more), got \(focus)")
            }
            return .focus(x: x, y: y)
        }
        if let gravity {
            guard let side = CropGravity(rawValue: gravity) else {
                throw ValidationError("--gravity takes \(CropGravity.allCases.map(\.rawValue).joined(separator: ", ")), got \(gravity)")
            }
            return .gravity(side)
        }
        return .centre
    }

    private func sizes(_ text: String, flag: String) throws -> [PixelSize] {
        let list = text.split(separator: ",").map { PixelSize(parsing: $0.trimmingCharacters(in: .whitespaces)) }
        guard !list.isEmpty, list.allSatisfy({ $0 != nil && $0!.width > 0 && $0!.height > 0 }) else {
            throw ValidationError("\(flag) takes positive sizes like 100x100,150x150, got \(text)")
        }
        return list.map { $0! }
    }
}

extension ResampleFilter: ExpressibleByArgument {}
