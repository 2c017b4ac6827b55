/// feedsync's version: `feedsync --version`, and the default `User-Agent` (`feedsync/VERSION`).
public enum FeedsyncVersion {
    public static let current = "0.9.0"
}
