// Local processing and its records live in AssetProcessing (Imaging, no GRDB,
// no AsyncHTTPClient); a caller of AssetPipeline sees them as before.
@_exported import AssetProcessing

// The job store port and its value types live in AssetJobs (no database); a
// caller of AssetPipeline sees them as before.
@_exported import AssetJobs
