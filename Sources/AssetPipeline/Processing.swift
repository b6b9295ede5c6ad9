// Local processing and its records live in AssetProcessing (Imaging, no GRDB,
// no AsyncHTTPClient); a caller of AssetPipeline sees them as before.
@_exported import AssetProcessing
