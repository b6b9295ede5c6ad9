/// The limits the Classy API documents, defined once for the client, the
/// sandbox, the manifest validator and the batch runner.
public enum ClassyLimits {
    /// "a single campaign can support a maximum of 4 eCards".
    public static let maxECardsPerCampaign = 4
    /// "eCards are 600 pixels wide by 400 pixels tall".
    public static let eCardWidth = 600
    public static let eCardHeight = 400
    /// `presigned_put_url` "valid for 15 minutes".
    public static let presignedURLLifetimeSeconds = 15 * 60
}
